import { existsSync } from 'node:fs';
import type { LoadedConfig } from '../config/load.js';
import { ConfigError, StalePlanError, ActionsFailedError } from '../errors.js';
import { exitCodeFor } from '../exit-codes.js';
import { executePlan, type ExecutionResult, type PowerActions } from '../executor/index.js';
import { staleAssumptions } from '../executor/revalidate.js';
import type { HostProbe } from '../inventory/types.js';
import type { Cluster } from '../model/cluster.js';
import type { Resources } from '../model/resources.js';
import { forRun, newRunId, type Logger } from '../log.js';
import { LibvirtMigrator } from '../migration/libvirt/index.js';
import type { Migration, Plan } from '../planner/plan.js';
import { plan as makePlan } from '../planner/index.js';
import { createHostPower } from '../power/registry.js';
import { drillPolicy, powerTiming } from '../power/schema.js';
import {
  drillIfDue,
  powerOffHost,
  recoverInterrupted,
  stagger,
  wakeHost,
  type SequenceContext,
} from '../power/sequences.js';
import type { HostPower } from '../power/types.js';
import { smtpSettings } from '../report/config.js';
import { deliverReports, type Delivery } from '../report/deliver.js';
import { createEmailNotifier } from '../report/email.js';
import { openStateStore } from '../state/index.js';
import { TAG, type StateStore } from '../state/types.js';
import { contextFor, findConfig, type RunContext } from './context.js';
import { libvirtHosts, libvirtProbe, liveReader, migrationHosts } from './live.js';
import { finish } from './plan-run.js';
import { applyStoreTags } from './store-tags.js';

/** Deadline of one host's inventory read and of one fresh look, ms. */
const HOST_LOOK_TIMEOUT_MS = 30_000;
/** In-run CPU sampling interval when the store holds no earlier sample, ms. */
const SAMPLE_INTERVAL_MS = 5_000;
/** A migration may take this many times its estimate (at least the floor) before it is aborted. */
const MIGRATION_TIMEOUT_FACTOR = 3;
const MIGRATION_TIMEOUT_FLOOR_MS = 120_000;
/** Re-plans after a wake failed and its host was quarantined (then the next standby host is chosen). */
const MAX_REPLANS = 2;

export interface RunOptions {
  readonly configPath?: string;
  /** Act even when the config says dry-run (`run --execute`). */
  readonly execute?: boolean;
  readonly logger: Logger;
  readonly signal?: AbortSignal;
}

/** What one run did, for the CLI, the daemon and the reports. */
export interface RunResult {
  readonly runId: string;
  readonly mode: 'dry-run' | 'execute';
  readonly plan?: Plan;
  readonly execution?: ExecutionResult;
  readonly delivery?: Delivery;
  /** Set when the run failed; the CLI rethrows it so main.ts maps it to the exit code. */
  readonly error?: unknown;
}

/**
 * One run of the cron/timer job (and of each daemon tick): read the cluster, plan, act in execute
 * mode (lock, recover interrupted actions, re-validate, execute, re-plan after a quarantined wake),
 * then report (metrics file, email by send policy, logs). Never throws: the failure is in `error`.
 */
export async function runOnce(opts: RunOptions): Promise<RunResult> {
  const startedMs = Date.now();
  const runId = newRunId();
  const log = forRun(opts.logger, runId);
  let config: LoadedConfig | undefined;
  let mode: RunResult['mode'] = opts.execute ? 'execute' : 'dry-run';
  let result: Omit<RunResult, 'runId' | 'mode' | 'delivery'> = {};
  let store: StateStore | undefined;
  try {
    config = await findConfig({ configPath: opts.configPath });
    if (!config) throw new ConfigError('run needs a configuration file');
    if (config.config.mode === 'execute') mode = 'execute';
    if (mode === 'execute') {
      const writable = openStateStore(config.config.state.path);
      store = writable;
      result = await act(config, writable, runId, log, opts.signal);
    } else {
      store = openReadonly(config);
      result = await dryRun(config, store, log);
    }
  } catch (error) {
    result = { ...result, error };
  } finally {
    store?.close();
  }
  const delivery = config ? await report(config, { ...result, runId, mode }, startedMs, log) : undefined;
  logOutcome(log, { ...result, runId, mode });
  return { ...result, runId, mode, delivery };
}

/** The store as a dry run sees it: read-only (a dry run changes nothing), and only when it exists. */
function openReadonly(config: LoadedConfig): StateStore | undefined {
  const path = config.config.state.path;
  return existsSync(path) ? openStateStore(path, { readonly: true }) : undefined;
}

async function dryRun(config: LoadedConfig, store: StateStore | undefined, log: Logger) {
  const ctx = await readCluster(config, store, false);
  const plan = planFor(ctx);
  log.info(
    { decision: plan.decision, migrations: plan.summary.migrations },
    'dry run: planned, nothing done',
  );
  return { plan };
}

async function readCluster(
  config: LoadedConfig,
  store: StateStore | undefined,
  saveSamples: boolean,
): Promise<RunContext> {
  const read = liveReader({
    perHostTimeoutMs: HOST_LOOK_TIMEOUT_MS,
    sampleIntervalMs: SAMPLE_INTERVAL_MS,
    usageStore: saveSamples ? store : undefined,
  });
  const ctx = await contextFor(config, {}, read);
  if (saveSamples) store?.saveHostCapacities(onHostCapacities(ctx.cluster), Date.now());
  const merged = applyStoreTags(ctx.cluster, store?.tags() ?? [], store?.hostCapacities(), ctx.warnings);
  return { ...ctx, cluster: merged.cluster, warnings: merged.warnings };
}

/** Capacities of the hosts read on now: what a host offers once it is in standby and cannot be read. */
function onHostCapacities(cluster: Cluster): Map<string, Resources> {
  return new Map(cluster.hosts.filter((h) => h.state === 'on').map((h) => [h.id, h.capacity]));
}

function planFor(ctx: RunContext): Plan {
  const started = performance.now();
  const raw = makePlan(ctx.cluster, ctx.policy);
  return finish(raw, ctx, performance.now() - started);
}

async function act(
  config: LoadedConfig,
  store: StateStore,
  runId: string,
  log: Logger,
  signal?: AbortSignal,
) {
  if (config.config.cluster_file !== undefined || libvirtHosts(config).length === 0)
    throw new ConfigError(
      `${config.path}: mode execute acts on live libvirt hosts: give hosts libvirt URIs and remove cluster_file (a cluster file can only be planned)`,
    );
  const lock = store.acquireLock(runId);
  try {
    const probe = libvirtProbe(config, HOST_LOOK_TIMEOUT_MS);
    const seq = sequenceContext(config, store, probe, runId, log, signal);
    for (const r of await recoverInterrupted(seq)) log.warn({ host: r.host, result: r.result }, 'recovered');
    let plan: Plan | undefined;
    let execution: ExecutionResult | undefined;
    // Outcomes of every attempt: a wake that failed before a re-plan is still a failed action.
    let outcomes: ExecutionResult['outcomes'] = [];
    for (let attempt = 0; attempt <= MAX_REPLANS; attempt++) {
      const ctx = await readCluster(config, store, true);
      plan = planFor(ctx);
      execution = await executeChecked(plan, config, store, seq, runId, log, signal);
      outcomes = [...outcomes, ...execution.outcomes];
      if (!execution.replan) break;
      log.warn({ stoppedAt: execution.stoppedAt }, 'a wake failed and its host is quarantined: re-planning');
    }
    if (execution) execution = { ...execution, outcomes };
    const failed = outcomes.some((o) => !o.ok);
    if (execution?.completed && !failed && plan?.decision === 'none') await drill(config, seq, plan, log);
    if (execution && (!execution.completed || failed))
      return { plan, execution, error: new ActionsFailedError(failureLine(execution)) };
    return { plan, execution };
  } finally {
    lock.release();
  }
}

/**
 * Wake drill (power.drills): on a quiet run inside the quiet hours, wake the standby host that has
 * been off longest, verify it, and put it back, so a broken host is found before it is needed.
 */
async function drill(config: LoadedConfig, seq: SequenceContext, plan: Plan, log: Logger): Promise<void> {
  const standby = plan.hosts.filter((h) => h.stateBefore === 'standby').map((h) => h.id);
  const outcome = await drillIfDue(seq, drillPolicy(config.config.power), standby, new Date());
  if (outcome) log.info({ drill: outcome }, 'wake drill');
}

/** Re-validates against a fresh look right before acting, then executes. */
async function executeChecked(
  plan: Plan,
  config: LoadedConfig,
  store: StateStore,
  seq: SequenceContext,
  runId: string,
  log: Logger,
  signal?: AbortSignal,
): Promise<ExecutionResult> {
  if (plan.decision === 'none' && plan.waves.length === 0)
    return { outcomes: [], completed: true, replan: false };
  const fresh = await readCluster(config, store, false);
  const stale = staleAssumptions(plan, fresh.cluster);
  if (stale.length > 0) throw new StalePlanError(`the cluster changed since planning: ${stale.join('; ')}`);
  const migrator = new LibvirtMigrator({
    hosts: migrationHosts(config),
    bandwidthMiBps: fresh.policy.migration.bandwidthMiBps,
    maxDowntimeMs: fresh.policy.migration.maxDowntimeMs,
  });
  try {
    return await executePlan(plan, {
      migrator,
      power: powerActions(seq, plan),
      journal: (e) => store.journal({ ...e, runId, atMs: Date.now() }),
      migrationTimeoutMs: migrationTimeoutMs,
      signal,
    });
  } finally {
    log.debug('execution finished');
    await migrator.close();
  }
}

/** A migration's time limit: a multiple of its estimate, never below the floor. */
export function migrationTimeoutMs(m: Migration): number {
  return Math.max(MIGRATION_TIMEOUT_FLOOR_MS, m.estSeconds * 1000 * MIGRATION_TIMEOUT_FACTOR);
}

function sequenceContext(
  config: LoadedConfig,
  store: StateStore,
  probe: HostProbe,
  runId: string,
  log: Logger,
  signal?: AbortSignal,
): SequenceContext {
  const powers = new Map<string, HostPower>();
  for (const h of config.config.hosts) if (h.power) powers.set(h.id, createHostPower(h.id, h.power, log));
  return {
    store,
    probe,
    powerFor: (id) => powers.get(id),
    timing: powerTiming(config.config.power),
    runId,
    actor: `run ${runId}`,
    nowMs: Date.now,
    log,
    signal,
  };
}

/** The executor's power side: verified wake and checked power-off, staggered between actions. */
function powerActions(seq: SequenceContext, plan: Plan): PowerActions {
  let actions = 0;
  const paced = async () => {
    if (actions++ > 0) await stagger(seq);
  };
  const why = (host: string) => plan.hosts.find((h) => h.id === host)?.why ?? plan.reason;
  return {
    async wake(host) {
      await paced();
      const r = await wakeHost(seq, host, why(host));
      return r.ok ? { ok: true } : { ok: false, error: `${r.stage}: ${r.reason}`, quarantined: true };
    },
    async powerOff(host) {
      await paced();
      const r = await powerOffHost(seq, host, why(host));
      return r.ok ? { ok: true } : { ok: false, error: r.reason };
    },
  };
}

function failureLine(execution: ExecutionResult): string {
  const first = execution.outcomes.find((o) => !o.ok);
  const error = first?.error ?? 'aborted';
  if (!execution.completed) return `run stopped at ${execution.stoppedAt}: ${error}`;
  return `${first!.kind} ${first!.target} failed (the re-plan completed): ${error}`;
}

async function report(
  config: LoadedConfig,
  run: Omit<RunResult, 'delivery'>,
  startedMs: number,
  log: Logger,
): Promise<Delivery> {
  const email = config.config.report.email;
  const notifier = email
    ? await createEmailNotifier(smtpSettings(email, config.dir)).catch((err: Error) => err)
    : undefined;
  if (notifier instanceof Error)
    log.error({ err: notifier.message }, 'email not configured correctly: report not sent');
  const quarantined = countTag(config, TAG.wakeFailed);
  try {
    return await deliverReports(
      {
        plan: run.plan,
        cluster: run.plan ? clusterName(config) : undefined,
        runId: run.runId,
        at: new Date(),
        mode: run.mode,
        outcome: run.error ? { ok: false, text: oneLine(run.error) } : { ok: true, text: summaryLine(run) },
        exitCode: run.error ? exitCodeFor(run.error) : 0,
        durationMs: Date.now() - startedMs,
        actions: run.execution?.outcomes,
        quarantinedHosts: quarantined,
      },
      config.config.report,
      { logger: log, notifier: notifier instanceof Error ? undefined : notifier },
    );
  } finally {
    if (notifier && !(notifier instanceof Error)) notifier.close();
  }
}

function countTag(config: LoadedConfig, tag: string): number {
  const store = openReadonly(config);
  if (!store) return 0;
  try {
    return new Set(
      store
        .tags()
        .filter((t) => t.tag === tag)
        .map((t) => t.host),
    ).size;
  } finally {
    store.close();
  }
}

function clusterName(config: LoadedConfig): string {
  return config.config.cluster_file ?? `${libvirtHosts(config).length} libvirt host(s)`;
}

function summaryLine(run: Omit<RunResult, 'delivery'>): string {
  if (!run.plan) return 'no plan';
  const acted = run.execution
    ? `, ${run.execution.outcomes.filter((o) => o.ok).length} action(s) done`
    : ' (dry run)';
  return `${run.plan.decision}: ${run.plan.reason}${acted}`;
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

function logOutcome(log: Logger, run: Omit<RunResult, 'delivery'>): void {
  if (run.error) log.error({ err: oneLine(run.error), exit_code: exitCodeFor(run.error) }, 'run failed');
  else
    log.info(
      { decision: run.plan?.decision, mode: run.mode, hosts_on_after: run.plan?.summary.hostsOnAfter },
      'run finished',
    );
}
