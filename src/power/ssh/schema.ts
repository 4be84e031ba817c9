import { z } from 'zod';
import { durationMs } from '../../config/fields.js';
import { secretFileField } from '../secret-file.js';

/** Per-host `power.ssh`: graceful shutdown over SSH, key authentication, strict host-key checking. */
export const sshSchema = z
  .strictObject({
    address: z.string().min(1).meta({ description: "the host's management address" }),
    port: z.number().int().min(1).max(65535).default(22),
    user: z.string().min(1).default('root'),
    key_file: secretFileField('absolute path of the private key (unencrypted, not readable by others)'),
    known_hosts: z
      .string()
      .min(1)
      .refine((p) => p.startsWith('/'), { message: 'must be an absolute path' })
      .meta({ description: "known_hosts file holding the host's key; unknown or changed keys are refused" }),
    command: z
      .string()
      .min(1)
      .default('systemctl poweroff')
      .meta({ description: 'shutdown command run on the host' }),
    timeout: durationMs('s', {
      description: 'deadline to connect and to run the command',
      positive: true,
    }).default(30_000),
  })
  .meta({ description: 'SSH (graceful power off; also tells whether the OS answers)' });

export type SshConfig = z.output<typeof sshSchema>;
