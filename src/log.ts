import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { pino, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';

/** pino levels an operator can choose. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** `auto`: pretty on a terminal, JSON otherwise (journald, files, pipes). */
export type LogFormat = 'auto' | 'json' | 'pretty';

export type { Logger } from 'pino';

/** Options of {@link createLogger}. */
export interface LogOptions {
  readonly level?: LogLevel;
  readonly format?: LogFormat;
  /** Bound to every line as `run_id`. */
  readonly runId?: string;
  /** Where lines go; default stdout. Tests pass a stream to read them back. */
  readonly destination?: NodeJS.WritableStream;
  /** Whether `destination` is a terminal; default `process.stdout.isTTY`. */
  readonly isTTY?: boolean;
}

/** Shown instead of a secret's value. */
export const REDACTED = '[redacted]';

/**
 * Field names whose values are secrets, at any depth: passwords, secrets, tokens, keys, credentials.
 * Matched on the end of the name so `smtpPassword`, `bmc_password`, `apiKey` and `auth.pass` are all caught;
 * a path to a secret (`password_file`) is not a secret and stays readable.
 */
const SECRET_KEY = /(pass|password|passwd|passphrase|secret|token|key|credentials?|authorization|cookie)$/i;

/**
 * pino `redact` paths for the same names. pino applies them to child-logger bindings too, which its
 * `formatters.log` hook (used for the any-depth redaction) does not see.
 */
export const REDACT_PATHS: readonly string[] = [
  'password',
  'pass',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'key',
  'apiKey',
  'api_key',
  'privateKey',
  'private_key',
  'credentials',
  'authorization',
].flatMap((name) => [name, `*.${name}`]);

/** Deep copy of `value` with every secret-named field replaced by {@link REDACTED}. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  // Bounded depth: log objects are small; a cyclic or huge object must not hang the logger.
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) return value;
  if (Array.isArray(value)) return value.map((v) => redactSecrets(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = SECRET_KEY.test(k) && v !== undefined && v !== null ? REDACTED : redactSecrets(v, depth + 1);
  }
  return out;
}

/** True when the logger should print for a human rather than JSON. */
export function usePretty(format: LogFormat, isTTY: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && isTTY);
}

/** A run id: UTC time to the second plus 6 random hex digits, sortable and unique enough per host. */
export function newRunId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomBytes(3).toString('hex')}`;
}

/**
 * The process logger: JSON lines on stdout (journald keeps them), pretty on a terminal, the run id on
 * every line, secrets redacted at any depth in log objects and by name in child bindings.
 */
export function createLogger(opts: LogOptions = {}): Logger {
  const isTTY = opts.isTTY ?? Boolean(process.stdout.isTTY);
  const destination = opts.destination ?? process.stdout;
  const stream: DestinationStream = usePretty(opts.format ?? 'auto', isTTY)
    ? pretty({
        destination,
        colorize: isTTY,
        translateTime: 'SYS:yyyy-mm-dd HH:MM:ss',
        ignore: 'pid,hostname',
        sync: true,
      })
    : (destination as DestinationStream);
  const logger = pino(
    {
      level: opts.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: [...REDACT_PATHS], censor: REDACTED },
      timestamp: stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => redactSecrets(obj) as Record<string, unknown>,
      },
    },
    stream,
  );
  return opts.runId ? logger.child({ run_id: opts.runId }) : logger;
}

/** A child logger for one run: every line carries `run_id`. */
export function forRun(logger: Logger, runId: string): Logger {
  return logger.child({ run_id: runId });
}

/** Flags of a command that logs. `verbose` counts repetitions (`-v` debug, `-vv` trace). */
export interface LogFlags {
  readonly verbose?: number | boolean;
  readonly quiet?: boolean;
}

/**
 * The level for this invocation: `--quiet` shows warnings and errors only, `--verbose` debug,
 * `-vv` trace; otherwise the configured level (default info). Both flags: verbose wins, so an
 * operator debugging a cron line does not have to remove `--quiet` first.
 */
export function levelFromFlags(flags: LogFlags, configured: LogLevel = 'info'): LogLevel {
  const verbose = typeof flags.verbose === 'number' ? flags.verbose : flags.verbose ? 1 : 0;
  if (verbose >= 2) return 'trace';
  if (verbose === 1) return 'debug';
  if (flags.quiet) return 'warn';
  return configured;
}

/** Adds `-v, --verbose` (repeatable) and `-q, --quiet` to a command; read them back with {@link levelFromFlags}. */
export function addLogOptions(command: Command): Command {
  return command
    .option('-v, --verbose', 'more log detail (debug); repeat for trace', (_v: string, n: number) => n + 1, 0)
    .option('-q, --quiet', 'only warnings and errors (e.g. for cron: quiet on success)');
}
