import type { Logger } from '../log.js';
import type { ReportConfig } from './config.js';
import { composeEmail, shouldSend, type RunReport } from './email.js';
import { writeMetricsFile, type ActionDone } from './metrics.js';
import type { Notifier } from './types.js';

/** A finished run, as `run` (and each daemon run) reports it. */
export interface FinishedRun extends RunReport {
  /** The exit code the run ends with (0 ok, 2 bad input, 3 actions failed, 4 locked, 1 unexpected). */
  readonly exitCode: number;
  readonly durationMs: number;
  readonly actions?: readonly ActionDone[];
  readonly quarantinedHosts?: number;
}

/** What happened to the reports. A failure here is logged and returned, never thrown: the run's result stands. */
export interface Delivery {
  readonly emailed: boolean;
  readonly metricsWritten: boolean;
  readonly errors: readonly string[];
}

/**
 * After a run: the metrics file (when configured) and the email (when configured and the send policy
 * says so). `notifier` is built by the caller from `report.email` (createEmailNotifier), so a bad
 * password file fails at start, not after the run.
 */
export async function deliverReports(
  run: FinishedRun,
  report: ReportConfig,
  deps: { readonly logger: Logger; readonly notifier?: Notifier; readonly subjectPrefix?: string },
): Promise<Delivery> {
  const errors: string[] = [];
  let metricsWritten = false;
  if (report.metrics_file) {
    try {
      await writeMetricsFile(report.metrics_file, {
        at: run.at,
        durationMs: run.durationMs,
        mode: run.mode,
        exitCode: run.exitCode,
        plan: run.plan,
        actions: run.actions,
        quarantinedHosts: run.quarantinedHosts,
      });
      metricsWritten = true;
      deps.logger.debug({ file: report.metrics_file }, 'metrics written');
    } catch (err) {
      errors.push(`metrics ${report.metrics_file}: ${(err as Error).message}`);
    }
  }
  let emailed = false;
  if (deps.notifier && shouldSend(report.send, run)) {
    try {
      await deps.notifier.send(composeEmail(run, deps.subjectPrefix));
      emailed = true;
      deps.logger.info({ send: report.send }, 'report emailed');
    } catch (err) {
      errors.push(`email: ${(err as Error).message}`);
    }
  } else if (deps.notifier) {
    deps.logger.debug({ send: report.send }, 'report not emailed (send policy)');
  }
  for (const e of errors) deps.logger.error(e);
  return { emailed, metricsWritten, errors };
}
