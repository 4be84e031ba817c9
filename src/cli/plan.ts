import { Command, InvalidArgumentError, Option } from 'commander';
import { loadContext } from '../app/context.js';
import { planRun } from '../app/plan-run.js';
import type { PolicyOverrides } from '../config/policy.js';
import type { Io } from './io.js';
import { liveReader } from '../app/live.js';

/** Deadline of one host's inventory read, ms, and the in-run CPU sampling interval (no store in a dry run), ms. */
const LOOK_TIMEOUT_MS = 30_000;
const SAMPLE_INTERVAL_MS = 2_000;

/** Options shared by commands that read a configuration and a cluster. */
export function addSourceOptions(cmd: Command): Command {
  return cmd
    .option('-c, --config <file>', 'configuration file (default /etc/virt-squeeze/config.yaml)')
    .option(
      '--cluster <file>',
      'plan against a cluster file (squeeze-scenario/v1 JSON, optionally gzipped, or Ganeti text; prefix ganeti: to force)',
    );
}

function number(flag: string, min = 0) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min)
      throw new InvalidArgumentError(`${flag} expects a number >= ${min}, got "${value}"`);
    return n;
  };
}

function integer(flag: string) {
  return (value: string): number => {
    const n = number(flag)(value);
    if (!Number.isInteger(n))
      throw new InvalidArgumentError(`${flag} expects a whole number, got "${value}"`);
    return n;
  };
}

interface PlanFlags {
  config?: string;
  cluster?: string;
  format: 'text' | 'json' | 'html';
  minimal?: number;
  target?: number;
  thresholdMode?: 'average' | 'per_host';
  failoverReserve?: number;
  targetPlacement?: string;
  allHosts?: boolean;
}

export function registerPlan(program: Command, io: Io): void {
  const cmd = program
    .command('plan')
    .description(
      'Dry run: read the cluster, decide (squeeze / expand / nothing) and print the plan. Never changes anything.',
    )
    .addOption(
      new Option('-f, --format <format>', 'output format').choices(['text', 'json', 'html']).default('text'),
    )
    .option(
      '--minimal <n>',
      'expand below this many free standard instances (overrides the config)',
      number('--minimal'),
    )
    .option(
      '--target <n>',
      'squeeze while staying at or above this (overrides the config)',
      number('--target'),
    )
    .addOption(
      new Option(
        '--threshold-mode <mode>',
        'average: mean free standard instances per host; per_host: every host fits one factor x std (hsqueeze)',
      ).choices(['average', 'per_host']),
    )
    .option(
      '--failover-reserve <n>',
      'hosts whose VMs the cluster must still re-host after a squeeze',
      integer('--failover-reserve'),
    )
    .option(
      '--target-placement <file>',
      'plan the waves from the current placement to this virt-squeeze-placement/v1 file',
    )
    .option('--all-hosts', 'list every host in the text report, not only those that change')
    .addHelpText(
      'after',
      `
Examples:
  virt-squeeze plan --config config/example.yaml              # the demo cluster, text report
  virt-squeeze plan --cluster scenario.json.gz --format json  # a cluster file with default settings
  virt-squeeze plan --cluster ganeti:cluster.data --threshold-mode per_host --target 1
  virt-squeeze plan --cluster a.json --target-placement b.json

Exit codes: 0 plan printed (whatever the decision), 2 bad configuration or input,
3 the target placement cannot be reached, 1 unexpected error.`,
    )
    .action(async (flags: PlanFlags) => {
      const overrides: PolicyOverrides = {
        minimal: flags.minimal,
        target: flags.target,
        mode: flags.thresholdMode,
        failoverReserveHosts: flags.failoverReserve,
      };
      const live = liveReader({ perHostTimeoutMs: LOOK_TIMEOUT_MS, sampleIntervalMs: SAMPLE_INTERVAL_MS });
      const ctx = await loadContext(
        { configPath: flags.config, clusterPath: flags.cluster, overrides },
        live,
      );
      const out = await planRun(ctx, {
        format: flags.format,
        targetPlacementPath: flags.targetPlacement,
        allHosts: flags.allHosts,
      });
      io.out(out.rendered);
      if (out.failure) throw out.failure;
    });
  addSourceOptions(cmd);
}
