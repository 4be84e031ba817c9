import { createTask, validateDetailed, type ScheduledTask } from 'node-cron';
import type { Logger } from '../log.js';

/**
 * The built-in schedule (`virt-squeeze daemon`): the same run-once as `virt-squeeze run`, on a cron
 * expression. Runs never overlap: a tick that finds a run in progress is skipped and logged. On stop
 * (SIGTERM/SIGINT) no new run starts; the run in progress gets `graceMs` to finish, is then aborted
 * through its AbortSignal and gets `abortGraceMs` more; after that the daemon stops regardless.
 */

/** One run: resolves or rejects when the run is over; should stop early when `signal` aborts. */
export type RunFn = (signal: AbortSignal) => Promise<unknown>;

export interface DaemonOptions {
  /** node-cron expression: 5 fields (minute ...) or 6 (second ...), e.g. `*\/15 * * * *`. */
  readonly schedule: string;
  readonly run: RunFn;
  readonly logger: Logger;
  /** IANA time zone of the expression; default the host's. */
  readonly timezone?: string;
  /** Also run once right away. */
  readonly runOnStart?: boolean;
  /** How long a stop waits for the run in progress before aborting it. Default 5 minutes. */
  readonly graceMs?: number;
  /** How long a stop waits after aborting. Default 30 s. */
  readonly abortGraceMs?: number;
}

/** Counts since start, for logs and tests. */
export interface DaemonStats {
  started: number;
  succeeded: number;
  failed: number;
  skipped: number;
}

export interface Daemon {
  readonly stats: Readonly<DaemonStats>;
  /** True while a run is in progress. */
  readonly busy: boolean;
  /** Starts a run now unless one is in progress (then `skipped`). */
  trigger(reason?: string): 'started' | 'skipped';
  /** Stops the schedule and waits (bounded) for the run in progress. Idempotent. */
  stop(reason?: string): Promise<void>;
  /** Resolves once stopped. */
  readonly stopped: Promise<void>;
}

const DEFAULT_GRACE_MS = 5 * 60_000;
const DEFAULT_ABORT_GRACE_MS = 30_000;

/** Why a schedule is invalid, or undefined when node-cron accepts it. */
export function scheduleError(expression: string): string | undefined {
  const v = validateDetailed(expression);
  if (v.valid) return undefined;
  const details = v.errors.map((e) => `${e.field}: ${e.message}`).join('; ');
  return `invalid cron expression "${expression}"${details ? ` (${details})` : ''}`;
}

/** Starts the schedule. Throws on an invalid expression (check it with {@link scheduleError} at config time). */
export function startDaemon(opts: DaemonOptions): Daemon {
  const error = scheduleError(opts.schedule);
  if (error) throw new Error(error);
  const log = opts.logger;
  const stats: DaemonStats = { started: 0, succeeded: 0, failed: 0, skipped: 0 };
  let current: { promise: Promise<void>; abort: AbortController } | undefined;
  let stopping: Promise<void> | undefined;
  let resolveStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve));

  const trigger = (reason = 'schedule'): 'started' | 'skipped' => {
    if (stopping) return 'skipped';
    if (current) {
      stats.skipped++;
      log.warn({ reason }, 'previous run still in progress: this run is skipped');
      return 'skipped';
    }
    const abort = new AbortController();
    stats.started++;
    log.info({ reason, run: stats.started }, 'run starting');
    const startedMs = Date.now();
    const promise = Promise.resolve()
      .then(() => opts.run(abort.signal))
      .then(
        () => {
          stats.succeeded++;
          log.info({ durationMs: Date.now() - startedMs }, 'run finished');
        },
        (err: unknown) => {
          stats.failed++;
          log.error({ err, durationMs: Date.now() - startedMs }, 'run failed');
        },
      )
      .finally(() => {
        current = undefined;
      });
    current = { promise, abort };
    return 'started';
  };

  const task: ScheduledTask = createTask(opts.schedule, () => void trigger('schedule'), {
    name: 'virt-squeeze',
    timezone: opts.timezone,
    logger: cronLogger(log),
  });

  const stop = (reason = 'stop requested'): Promise<void> => {
    stopping ??= shutdown(reason);
    return stopping;
  };

  const shutdown = async (reason: string): Promise<void> => {
    log.info({ reason }, 'daemon stopping');
    await task.destroy();
    const running = current;
    if (running) await finishOrAbort(running, opts, log);
    log.info(stats, 'daemon stopped');
    resolveStopped();
  };

  void task.start();
  log.info({ schedule: opts.schedule, next: task.getNextRun()?.toISOString() }, 'daemon started');
  if (opts.runOnStart) trigger('start');
  return {
    stats,
    get busy() {
      return current !== undefined;
    },
    trigger,
    stop,
    stopped,
  };
}

/** Waits for the run; aborts it after `graceMs`; gives up after `abortGraceMs` more. */
async function finishOrAbort(
  running: { promise: Promise<void>; abort: AbortController },
  opts: DaemonOptions,
  log: Logger,
): Promise<void> {
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  log.info({ graceMs }, 'waiting for the run in progress');
  if (await settlesWithin(running.promise, graceMs)) return;
  log.warn('run did not finish in the grace period: aborting it');
  running.abort.abort(new Error('daemon stopping'));
  const abortGraceMs = opts.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS;
  if (await settlesWithin(running.promise, abortGraceMs)) return;
  log.error(
    { abortGraceMs },
    'run did not stop after abort: exiting anyway; the next run recovers from the journal',
  );
}

async function settlesWithin(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** node-cron's own messages (missed ticks, ...) go to our logger at debug/warn. */
function cronLogger(log: Logger) {
  return {
    info: (message: string) => log.debug({ component: 'node-cron' }, message),
    warn: (message: string) => log.warn({ component: 'node-cron' }, message),
    error: (message: string | Error, err?: Error) =>
      log.error({ component: 'node-cron', err: err ?? message }, String(message)),
    debug: (message: string | Error) => log.debug({ component: 'node-cron' }, String(message)),
  };
}

/**
 * Stops the daemon on SIGTERM or SIGINT (systemd stop, Ctrl-C). A second signal while stopping does
 * not kill the run: the bound of {@link DaemonOptions.graceMs} applies. Returns a function that removes the handlers.
 */
export function stopOnSignals(daemon: Daemon, logger: Logger, proc: NodeJS.Process = process): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'signal received');
    void daemon.stop(signal);
  };
  proc.on('SIGTERM', onSignal);
  proc.on('SIGINT', onSignal);
  return () => {
    proc.off('SIGTERM', onSignal);
    proc.off('SIGINT', onSignal);
  };
}
