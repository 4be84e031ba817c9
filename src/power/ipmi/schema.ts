import { z } from 'zod';
import { durationMs } from '../../config/fields.js';
import { secretFileField } from '../secret-file.js';

/** Per-host `power.ipmi`: a BMC reached with `ipmitool -I lanplus`. */
export const ipmiSchema = z
  .strictObject({
    address: z.string().min(1).meta({ description: 'BMC address (IP or name)' }),
    port: z.number().int().min(1).max(65535).default(623).meta({ description: 'BMC UDP port' }),
    username: z.string().min(1).meta({ description: 'BMC user' }),
    password_file: secretFileField('absolute path of a file holding the BMC password (mode 0600 or 0640)'),
    cipher_suite: z.number().int().min(0).max(17).default(3).meta({
      description: 'RMCP+ cipher suite (ipmitool -C); 3 is the common default, 17 for SHA-256 BMCs',
    }),
    timeout: durationMs('s', { description: 'deadline of one ipmitool call', positive: true }).default(
      10_000,
    ),
    retries: z
      .number()
      .int()
      .min(0)
      .max(5)
      .default(2)
      .meta({ description: 'extra attempts after a failed call (never after an authentication failure)' }),
  })
  .meta({ description: 'IPMI over LAN (ipmitool lanplus): status, on, soft, hard off, DCMI power reading' });

export type IpmiConfig = z.output<typeof ipmiSchema>;
