import type { Command } from 'commander';
import { findConfig } from '../app/context.js';
import { runOnce } from '../app/run-once.js';
import { startDaemon, stopOnSignals } from '../daemon/index.js';
import { ConfigError } from '../errors.js';
import { addLogOptions, createLogger, levelFromFlags, type LogFlags, type Logger } from '../log.js';
import { renderText } from '../report/text.js';
import type { Io } from './io.js';

interface RunFlags extends LogFlags {
  config?: string;
  execute?: boolean;
  report?: boolean;
}

/** The logger of a command, at the level its flags and the config ask for. */
async function loggerFor(flags: RunFlags): Promise<{ logger: Logger; schedule?: string }> {
  const config = await findConfig({ configPath: flags.config });
  if (!config) throw new ConfigError('a configuration file is required');
  const logging = config.config.logging;
  const logger = createLogger({ level: levelFromFlags(flags, logging.level), format: logging.format });
  return { logger, schedule: config.config.schedule };
}

export function registerRun(program: Command, io: Io): void {
  const run = program
    .command('run')
    .description(
      'The cron/timer entry point: plan, act only in execute mode, journal, report (email, metrics). Quiet on success with --quiet.',
    )
    .option('-c, --config <file>', 'configuration file (default /etc/virt-squeeze/config.yaml)')
    .option('--execute', 'act even if the config says mode: dry-run')
    .option('--report', 'print the text report to stdout as well')
    .addHelpText(
      'after',
      `
Examples:
  virt-squeeze run --config /etc/virt-squeeze/config.yaml          # what the systemd timer runs
  virt-squeeze run --quiet                                         # for cron: silent unless something fails
  virt-squeeze run --report --verbose                              # by hand: the report and debug logs

Exit codes: 0 done or nothing to do, 2 bad configuration, 3 some actions failed (the run stopped;
the next run re-plans from fresh state), 4 another run holds the lock, 1 unexpected error.`,
    )
    .action(async (flags: RunFlags) => {
      const { logger } = await loggerFor(flags);
      const result = await runOnce({ configPath: flags.config, execute: flags.execute, logger });
      if (flags.report && result.plan) io.out(renderText(result.plan));
      if (result.error) throw result.error;
    });
  addLogOptions(run);

  const daemon = program
    .command('daemon')
    .description(
      "Run on the config's schedule (node-cron), never two runs at once; SIGTERM/SIGINT stop it gracefully.",
    )
    .option('-c, --config <file>', 'configuration file (default /etc/virt-squeeze/config.yaml)')
    .option('--execute', 'act even if the config says mode: dry-run')
    .option('--now', 'also run once right away')
    .addHelpText(
      'after',
      `
Examples:
  virt-squeeze daemon --config /etc/virt-squeeze/config.yaml       # what virt-squeeze-daemon.service runs
  virt-squeeze daemon --now --verbose                              # by hand, first run immediately`,
    )
    .action(async (flags: RunFlags & { now?: boolean }) => {
      const { logger, schedule } = await loggerFor(flags);
      const d = startDaemon({
        schedule: schedule!,
        logger,
        runOnStart: flags.now,
        run: (signal) => runOnce({ configPath: flags.config, execute: flags.execute, logger, signal }),
      });
      stopOnSignals(d, logger);
      await d.stopped;
    });
  addLogOptions(daemon);
}
