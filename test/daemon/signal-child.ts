import { appendFileSync } from 'node:fs';
import { startDaemon, stopOnSignals } from '../../src/daemon/index.js';
import { createLogger } from '../../src/log.js';

/**
 * Child process for the signal test: a daemon on a per-second schedule whose run takes RUN_MS and
 * writes its progress to the file given as argv[2]. Exits by itself once the daemon has stopped.
 */
const file = process.argv[2] ?? '';
const runMs = Number(process.env.RUN_MS ?? '800');
const note = (what: string) => appendFileSync(file, `${what}\n`);
const logger = createLogger({ isTTY: false, level: 'info', runId: 'signal-child' });
const daemon = startDaemon({
  schedule: '* * * * * *',
  logger,
  graceMs: Number(process.env.GRACE_MS ?? '10000'),
  abortGraceMs: 1_000,
  run: (signal) =>
    new Promise<void>((resolve, reject) => {
      note('start');
      const timer = setTimeout(() => {
        note('end');
        resolve();
      }, runMs);
      signal.addEventListener('abort', () => {
        clearTimeout(timer);
        note('aborted');
        reject(new Error('aborted'));
      });
    }),
});
stopOnSignals(daemon, logger);
await daemon.stopped;
note('stopped');
