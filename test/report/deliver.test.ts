import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverReports, type FinishedRun } from '../../src/report/deliver.js';
import { createEmailNotifier, type EmailNotifier } from '../../src/report/email.js';
import { parseCounters } from '../../src/report/metrics.js';
import { captureLogger } from '../daemon/log-sink.js';
import { nothingPlan, squeezePlan } from '../golden/plans.js';
import { settingsFor, startSmtp, type SmtpFixture } from './smtp-fixture.js';

describe('deliverReports: metrics file and email after a run, by send policy', () => {
  let smtp: SmtpFixture;
  let notifier: EmailNotifier;
  let dir: string;
  beforeAll(async () => {
    smtp = await startSmtp();
    dir = mkdtempSync(path.join(tmpdir(), 'vs-deliver-'));
    notifier = await createEmailNotifier(settingsFor(smtp));
  });
  afterAll(async () => {
    notifier?.close();
    await smtp?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const run = (extra: Partial<FinishedRun>): FinishedRun => ({
    plan: squeezePlan(),
    at: new Date('2026-11-21T03:00:00Z'),
    mode: 'dry-run',
    outcome: { ok: true, text: 'dry run' },
    exitCode: 0,
    durationMs: 900,
    ...extra,
  });

  it('on_action: a squeeze is emailed, a quiet run only updates the metrics, a failure is emailed', async () => {
    const metrics = path.join(dir, 'virt-squeeze.prom');
    const report = { send: 'on_action' as const, metrics_file: metrics };
    const { logger } = captureLogger();

    const acted = await deliverReports(run({}), report, { logger, notifier, subjectPrefix: '[lab]' });
    expect(acted).toEqual({ emailed: true, metricsWritten: true, errors: [] });
    expect((await smtp.next()).mail.subject).toMatch(/^\[lab\] squeeze: 2 host\(s\) to standby/);

    const quiet = await deliverReports(run({ plan: nothingPlan() }), report, { logger, notifier });
    expect(quiet).toEqual({ emailed: false, metricsWritten: true, errors: [] });

    const failed = await deliverReports(
      run({ plan: undefined, exitCode: 2, outcome: { ok: false, text: 'config: bad' } }),
      report,
      { logger, notifier },
    );
    expect(failed.emailed).toBe(true);
    expect((await smtp.next()).mail.subject).toContain('FAILED');
    expect(smtp.received).toHaveLength(0);

    const counters = parseCounters(readFileSync(metrics, 'utf8'));
    expect(counters.get('virt_squeeze_runs_total{result="ok"}')).toBe(2);
    expect(counters.get('virt_squeeze_runs_total{result="bad_input"}')).toBe(1);
  });

  it('a metrics directory that does not exist is reported, logged, and does not stop the email', async () => {
    const { logger, messages } = captureLogger();
    const result = await deliverReports(
      run({}),
      { send: 'always', metrics_file: path.join(dir, 'missing-dir', 'virt-squeeze.prom') },
      { logger, notifier },
    );
    expect(result.emailed).toBe(true);
    expect(result.metricsWritten).toBe(false);
    expect(result.errors[0]).toMatch(/^metrics .*missing-dir.*ENOENT/);
    expect(messages().some((m) => m.level === 'error' && String(m.msg).startsWith('metrics'))).toBe(true);
    await smtp.next();
  });
});
