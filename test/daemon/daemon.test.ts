import { afterEach, describe, expect, it } from 'vitest';
import { scheduleError, startDaemon, type Daemon, type RunFn } from '../../src/daemon/index.js';
import { captureLogger } from './log-sink.js';

/** Every second (node-cron's optional seconds field), so the real scheduler fires within the test. */
const EVERY_SECOND = '* * * * * *';

async function until(cond: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A real run function that records what happened: how many ran at once, starts, ends, aborts. */
function recorder(behaviour: (signal: AbortSignal) => Promise<void>) {
  const rec = { starts: 0, ends: 0, aborted: 0, active: 0, maxActive: 0 };
  const run: RunFn = async (signal) => {
    rec.starts++;
    rec.active++;
    rec.maxActive = Math.max(rec.maxActive, rec.active);
    signal.addEventListener('abort', () => rec.aborted++);
    try {
      await behaviour(signal);
    } finally {
      rec.active--;
      rec.ends++;
    }
  };
  return { rec, run };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const untilAborted = (signal: AbortSignal) =>
  new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop('test end');
  daemon = undefined;
});

describe('scheduleError', () => {
  it('accepts 5- and 6-field expressions and explains a bad one', () => {
    expect(scheduleError('*/15 * * * *')).toBeUndefined();
    expect(scheduleError('0 */5 * * * *')).toBeUndefined();
    expect(scheduleError('61 * * * *')).toMatch(/invalid cron expression "61 \* \* \* \*" \(minute: /);
    expect(scheduleError('every 15 minutes')).toMatch(/invalid cron expression/);
  });
  it('startDaemon refuses an invalid expression', () => {
    expect(() =>
      startDaemon({ schedule: 'nope', run: async () => undefined, logger: captureLogger().logger }),
    ).toThrow(/invalid cron expression/);
  });
});

describe('daemon', () => {
  it('runs on the cron schedule, again and again', async () => {
    const { rec, run } = recorder(async () => undefined);
    const { logger, messages } = captureLogger();
    daemon = startDaemon({ schedule: EVERY_SECOND, run, logger });
    await until(() => rec.ends >= 2);
    expect(daemon.stats.succeeded).toBeGreaterThanOrEqual(2);
    expect(messages().some((m) => m.msg === 'run finished' && m.run_id === 'daemon-test')).toBe(true);
  });

  it('never overlaps: ticks during a long run are skipped and logged', async () => {
    const { rec, run } = recorder(() => sleep(2_500));
    const { logger, messages } = captureLogger();
    daemon = startDaemon({ schedule: EVERY_SECOND, run, logger });
    await until(() => daemon!.stats.skipped >= 2 && rec.ends >= 1);
    expect(rec.maxActive).toBe(1);
    expect(
      messages().filter((m) => m.msg === 'previous run still in progress: this run is skipped').length,
    ).toBe(daemon.stats.skipped);
  });

  it('a failing run is logged and the schedule goes on', async () => {
    let calls = 0;
    const { logger, messages } = captureLogger();
    daemon = startDaemon({
      schedule: EVERY_SECOND,
      logger,
      run: async () => {
        calls++;
        throw new Error(`boom ${calls}`);
      },
    });
    await until(() => calls >= 2);
    await until(() => daemon!.stats.failed >= 2);
    const failure = messages().find((m) => m.msg === 'run failed');
    expect((failure?.err as { message?: string } | undefined)?.message).toMatch(/^boom \d$/);
  });

  it('stop lets the run in progress finish within the grace period, without aborting it', async () => {
    const { rec, run } = recorder(() => sleep(600));
    daemon = startDaemon({ schedule: '0 0 1 1 *', run, logger: captureLogger().logger, graceMs: 10_000 });
    expect(daemon.trigger('test')).toBe('started');
    await daemon.stop();
    expect(rec).toMatchObject({ starts: 1, ends: 1, aborted: 0 });
    expect(daemon.trigger('after stop')).toBe('skipped');
  });

  it('stop aborts a run that outlives the grace period, and is bounded even if the run ignores the abort', async () => {
    const cooperative = recorder(untilAborted);
    daemon = startDaemon({
      schedule: '0 0 1 1 *',
      run: cooperative.run,
      logger: captureLogger().logger,
      graceMs: 200,
    });
    daemon.trigger('test');
    let t0 = Date.now();
    await daemon.stop();
    expect(cooperative.rec).toMatchObject({ starts: 1, ends: 1, aborted: 1 });
    expect(Date.now() - t0).toBeLessThan(5_000);

    const stubborn = recorder(() => sleep(20_000));
    const { logger, messages } = captureLogger();
    daemon = startDaemon({
      schedule: '0 0 1 1 *',
      run: stubborn.run,
      logger,
      graceMs: 200,
      abortGraceMs: 300,
    });
    daemon.trigger('test');
    t0 = Date.now();
    await daemon.stop();
    const tookMs = Date.now() - t0;
    expect(tookMs).toBeGreaterThanOrEqual(450);
    expect(tookMs).toBeLessThan(5_000);
    expect(stubborn.rec).toMatchObject({ aborted: 1, ends: 0 });
    expect(messages().some((m) => m.level === 'error' && String(m.msg).startsWith('run did not stop'))).toBe(
      true,
    );
  });

  it('runOnStart runs once right away', async () => {
    const { rec, run } = recorder(async () => undefined);
    daemon = startDaemon({ schedule: '0 0 1 1 *', run, logger: captureLogger().logger, runOnStart: true });
    await until(() => rec.ends === 1);
    expect(daemon.stats.started).toBe(1);
  });
});
