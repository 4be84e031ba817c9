import path from 'node:path';
import { z } from 'zod';
import { durationMs } from '../config/fields.js';
import { scheduleError } from '../daemon/index.js';
import type { SmtpSettings } from './email.js';

/**
 * Config sections of the operations side: `report` (email, send policy, metrics file), `schedule`
 * (the daemon's cron expression) and `logging`. Added to the config's top level in config/schema.ts.
 */

export const DEFAULT_SCHEDULE = '*/15 * * * *';
const DEFAULT_SMTP_TIMEOUT = '30s';

const emailAddress = z.email({ error: 'expected an email address such as ops@example.com' });

export const emailSchema = z
  .strictObject({
    to: z.array(emailAddress).min(1).meta({ description: 'Recipients (at least one).' }),
    from: emailAddress.meta({ description: 'Sender address.' }),
    host: z.string().min(1).meta({ description: 'SMTP server host name.' }),
    port: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .meta({ description: 'SMTP port. Default: 587 for starttls, 465 for tls, 25 for none.' }),
    security: z
      .enum(['starttls', 'tls', 'none'])
      .default('starttls')
      .meta({
        description:
          'starttls (default): TLS required before authenticating; tls: implicit TLS (465); none: plain, only ' +
          'for a local relay and never with a user.',
      }),
    user: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'SMTP user; with password_file. Default: no authentication.' }),
    password_file: z.string().min(1).optional().meta({
      description:
        "File holding the SMTP password (first line), not readable by others (chmod 600); relative to the config file's directory.",
    }),
    ca_file: z
      .string()
      .min(1)
      .optional()
      .meta({ description: 'PEM file of the CA of the SMTP server certificate, when not a public CA.' }),
    subject_prefix: z
      .string()
      .default('[virt-squeeze]')
      .meta({ description: 'Start of every subject. Default [virt-squeeze].' }),
    timeout: durationMs('s', {
      description: `Connection and answer timeout, e.g. 30s (plain number: s). Default ${DEFAULT_SMTP_TIMEOUT}.`,
      positive: true,
    }).prefault(DEFAULT_SMTP_TIMEOUT),
  })
  .refine((e) => (e.user === undefined) === (e.password_file === undefined), {
    error: 'user and password_file go together',
  })
  .refine((e) => e.security !== 'none' || e.user === undefined, {
    error: 'authentication needs security starttls or tls (a password is never sent in clear)',
  })
  .meta({ description: 'Emailed report (HTML, plain text and the JSON plan attached). Omit: no email.' });

export const reportSchema = z
  .strictObject({
    send: z.enum(['always', 'on_action', 'on_error']).default('on_action').meta({
      description:
        'When `run` emails: always; on_action (default): when the plan acts or the run fails; on_error: failed runs only.',
    }),
    email: emailSchema.optional(),
    metrics_file: z
      .string()
      .regex(/\.prom$/, { error: 'expected a file name ending in .prom (node_exporter reads only those)' })
      .optional()
      .meta({
        description:
          'Prometheus textfile written after every run, e.g. /var/lib/prometheus/node-exporter/virt-squeeze.prom. Default: none.',
      }),
  })
  .prefault({});

export const scheduleSchema = z
  .string()
  .default(DEFAULT_SCHEDULE)
  .superRefine((expression, ctx) => {
    const error = scheduleError(expression);
    if (error) ctx.addIssue({ code: 'custom', message: error, input: expression });
  })
  .meta({
    description: `When \`virt-squeeze daemon\` runs: a cron expression (5 fields, or 6 with seconds first). Default "${DEFAULT_SCHEDULE}".`,
  });

export const loggingSchema = z
  .strictObject({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
      .default('info')
      .meta({ description: 'Least severe level logged; --verbose/--quiet override it. Default info.' }),
    format: z.enum(['auto', 'json', 'pretty']).default('auto').meta({
      description: 'auto (default): pretty on a terminal, JSON lines otherwise (journald); json; pretty.',
    }),
  })
  .prefault({});

export type EmailConfig = z.output<typeof emailSchema>;
export type ReportConfig = z.output<typeof reportSchema>;
export type LoggingConfig = z.output<typeof loggingSchema>;

/** SMTP settings from the config section; relative file paths resolve against the config's directory. */
export function smtpSettings(email: EmailConfig, configDir: string): SmtpSettings {
  const resolve = (file: string | undefined) =>
    file === undefined ? undefined : path.resolve(configDir, file);
  return {
    host: email.host,
    port: email.port,
    security: email.security,
    user: email.user,
    passwordFile: resolve(email.password_file),
    caFile: resolve(email.ca_file),
    from: email.from,
    to: email.to,
    subjectPrefix: email.subject_prefix,
    timeoutMs: email.timeout,
  };
}
