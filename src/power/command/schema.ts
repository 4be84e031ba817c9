import { z } from 'zod';
import { durationMs } from '../../config/fields.js';

/** Per-host `power.command`: a site script called as `PATH on|off|status HOST` (like Ganeti's out-of-band helper). */
export const commandSchema = z
  .strictObject({
    path: z
      .string()
      .min(1)
      .refine((p) => p.startsWith('/'), { message: 'must be an absolute path' })
      .meta({ description: 'executable; `status` prints on or off; exit 0 means done' }),
    timeout: durationMs('s', { description: 'deadline of one call', positive: true }).default(60_000),
  })
  .meta({ description: 'site script: on, off and status' });

export type CommandConfig = z.output<typeof commandSchema>;
