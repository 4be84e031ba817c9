import { z } from 'zod';
import { durationMs } from '../../config/fields.js';

const MAC = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

/** Per-host `power.wol`: a Wake-on-LAN magic packet over UDP. */
export const wolSchema = z
  .strictObject({
    mac: z
      .string()
      .regex(MAC, { message: 'expected a MAC address such as 52:54:00:aa:bb:cc' })
      .transform((mac) => mac.toLowerCase().replace(/-/g, ':'))
      .meta({ description: "the host NIC's MAC address" }),
    broadcast: z
      .ipv4({ message: 'expected an IPv4 broadcast address such as 10.0.0.255' })
      .default('255.255.255.255')
      .meta({ description: "broadcast address of the host's subnet" }),
    port: z.number().int().min(1).max(65535).default(9).meta({ description: 'UDP port (9 or 7)' }),
    count: z
      .number()
      .int()
      .min(1)
      .max(20)
      .default(3)
      .meta({ description: 'packets sent (UDP may drop one)' }),
    interval: durationMs('ms', { description: 'pause between packets' }).default(100),
  })
  .meta({ description: 'Wake-on-LAN (power on only)' });

export type WolConfig = z.output<typeof wolSchema>;
