import type { Cluster, Vm } from '../../model/cluster.js';
import type { Policy } from '../../model/policy.js';
import type { Resources } from '../../model/resources.js';
import type { LeftOut, Migration, Wave } from '../plan.js';
import { explainStuck } from './explain.js';
import {
  LeftOutLog,
  applyMaxMigrationSeconds,
  hostsOverBudget,
  keptOn,
  repairTarget,
  waveSeconds,
} from './limits.js';
import { type AllowedPredicate, type SeqModel, buildModel, memOf } from './model.js';
import type { Move } from './search.js';
import { solve } from './solve.js';
import { staticProblems } from './validate.js';

export { estimateMigration, type MigrationEstimate } from './estimate.js';
export type { AllowedPredicate } from './model.js';

/** Default deterministic work budget of the exact searches (feasibility checks and state copies, see Budget). */
export const DEFAULT_SEARCH_BUDGET = 3_000_000;
/** Re-sequencing rounds allowed while the plan budget drops hosts. */
const MAX_BUDGET_ROUNDS = 64;

/** A sequencing problem: go from the cluster's current placement to `target`. */
export interface SequenceInput {
  readonly cluster: Cluster;
  readonly policy: Policy;
  /** VM id -> target host id; VMs it does not name keep their host. */
  readonly target: ReadonlyMap<string, string>;
  /** Standby hosts booted before the first wave: they may receive VMs. */
  readonly powerOn?: readonly string[];
  /** Hosts that must end empty (they are switched off after the last wave); good temporary hosts. */
  readonly powerOff?: readonly string[];
  /** Work budget of the exact searches (deterministic work units); default {@link DEFAULT_SEARCH_BUDGET}. */
  readonly searchBudget?: number;
  /**
   * Optional static placement rule the model has no field for (e.g. CPU architecture): may this VM
   * ever run on this host? Honoured for every destination, temporary hosts included.
   */
  readonly allowed?: AllowedPredicate;
}

/** Hosts and VMs that make a target unreachable, and the free capacity missing to unblock it. */
export interface Blocking {
  readonly hosts: readonly string[];
  readonly vms: readonly string[];
  /** Free capacity missing on the best host for the smallest blocked VM (zero when not about room). */
  readonly missing: Resources;
}

/** Outcome of {@link sequence}. */
export type SequenceResult =
  | {
      readonly status: 'ok';
      /** Waves in execution order; inside a wave the longest migration first. */
      readonly waves: Wave[];
      /** VMs kept home and power-off hosts kept on because of a limit, with the limit as reason. */
      readonly leftOut: LeftOut[];
      /** Power-off hosts that end empty (the requested ones minus those left out). */
      readonly powerOff: string[];
      /** Sum over waves of the wave's longest migration, seconds. */
      readonly estMakespanSeconds: number;
      readonly migratedMemMiB: number;
    }
  /** Proved: no sequence of safe waves reaches the target. */
  | { readonly status: 'unreachable'; readonly explanation: string; readonly blocking: Blocking }
  /** The search budget ran out before a plan or a proof was found: never a wrong "no". */
  | { readonly status: 'unknown'; readonly explanation: string; readonly blocking: Blocking };

/**
 * Orders the migrations from the current placement to `target` into waves that are safe at every
 * step under the wave semantics (a migrating VM is counted on its source and its destination for
 * its whole wave; resources with overcommit, usage cap, anti-affinity, pinned VMs, drained and
 * excluded hosts, `max_per_host` in + out and `max_parallel` per wave). Applies
 * `max_migration_seconds` and `plan_budget_seconds` by leaving VMs (whole hosts for the budget)
 * where they are. Pure and deterministic.
 */
export function sequence(input: SequenceInput): SequenceResult {
  const { policy } = input;
  const m = buildModel(
    input.cluster,
    policy,
    input.target,
    input.powerOn ?? [],
    input.powerOff ?? [],
    input.allowed,
  );
  const problems = staticProblems(m, input.target);
  if (problems.lines.length > 0)
    return {
      status: 'unreachable',
      explanation: `target placement is invalid: ${problems.lines.join('; ')}`,
      blocking: {
        hosts: [...problems.hosts].sort(),
        vms: [...problems.vms].sort(),
        missing: NO_ROOM_MISSING,
      },
    };
  const budget = { left: input.searchBudget ?? DEFAULT_SEARCH_BUDGET };
  const log = new LeftOutLog();
  const tgt = Int32Array.from(m.b);
  const maxSeconds = policy.migration.maxMigrationSeconds;
  if (maxSeconds !== undefined) {
    applyMaxMigrationSeconds(m, tgt, maxSeconds, log);
    repairTarget(m, tgt, log, `max_migration_seconds ${maxSeconds}`);
  }
  let outcome = solve(m, tgt, budget);
  const planBudget = policy.migration.planBudgetSeconds;
  for (let round = 0; planBudget !== undefined && outcome.status === 'ok'; round++) {
    if (total(waveSeconds(m, outcome.waves)) <= planBudget + 1e-9 || round >= MAX_BUDGET_ROUNDS) break;
    const cause = `plan_budget_seconds ${planBudget}`;
    for (const h of hostsOverBudget(m, outcome.waves, planBudget)) dropHost(m, tgt, h, log, cause);
    repairTarget(m, tgt, log, cause);
    outcome = solve(m, tgt, budget);
  }
  if (outcome.status !== 'ok') return { status: outcome.status, ...explainStuck(m, tgt, outcome) };
  const kept = keptOn(m, tgt, log, 'a left-out VM stays');
  const waves = outcome.waves.map((w) => toWave(m, w));
  const emptied = (input.powerOff ?? []).filter((id) => !kept.has(m.hostIndex.get(id) ?? -1));
  const powerOff = capPowerOffs(
    input,
    emptied,
    outcome.waves.map((w) => w.map((mv) => m.hosts[mv.from]!.id)),
    log,
  );
  return {
    status: 'ok',
    waves,
    leftOut: log.list(),
    powerOff: [...powerOff].sort(),
    estMakespanSeconds: total(waves.map((w) => w[0]?.estSeconds ?? 0)),
    migratedMemMiB: waves.reduce((s, w) => s + w.reduce((t, mv) => t + mv.memMiB, 0), 0),
  };
}

/**
 * Power-offs within `max_power_off_per_run` and `min_online_hosts`: hosts whose last VM leaves
 * earliest are kept (an interrupted plan frees them first); the others stay on, logged.
 */
function capPowerOffs(
  input: SequenceInput,
  emptied: string[],
  sourcesByWave: string[][],
  log: LeftOutLog,
): string[] {
  const { safety } = input.policy;
  const lastWave = new Map<string, number>();
  sourcesByWave.forEach((ids, i) => ids.forEach((id) => lastWave.set(id, i)));
  const order = [...emptied].sort(
    (x, y) => (lastWave.get(x) ?? -1) - (lastWave.get(y) ?? -1) || (x < y ? -1 : 1),
  );
  const woken = new Set(input.powerOn ?? []);
  const online = input.cluster.hosts.filter(
    (h) => h.state === 'on' || (h.state === 'standby' && woken.has(h.id)),
  ).length;
  const allowed = Math.max(0, Math.min(safety.maxPowerOffPerRun, online - safety.minOnlineHosts));
  order.slice(allowed).forEach((id) => {
    const rule =
      allowed === safety.maxPowerOffPerRun
        ? `max_power_off_per_run ${safety.maxPowerOffPerRun}`
        : `min_online_hosts ${safety.minOnlineHosts}`;
    log.add('host', id, `${rule}: emptied but left on`);
  });
  return order.slice(0, allowed);
}

const NO_ROOM_MISSING: Resources = { cpu: 0, memMiB: 0, diskGiB: 0 };

function total(xs: readonly number[]): number {
  return xs.reduce((s, x) => s + x, 0);
}

/** Keeps every VM that starts on host `h` where it is (the host is no longer evacuated). */
function dropHost(m: SeqModel, tgt: Int32Array, h: number, log: LeftOutLog, cause: string): void {
  const evacuated = m.emptied[h] === 1;
  for (let v = 0; v < m.vms.length; v++) {
    if (m.a[v] !== h || tgt[v] === h) continue;
    tgt[v] = h;
    log.add('vm', m.vms[v]!.id, `${cause}: moves off host ${m.hosts[h]!.id} are left out`);
  }
  if (evacuated) log.add('host', m.hosts[h]!.id, `${cause}: emptying it does not fit in the plan budget`);
}

function toWave(m: SeqModel, moves: readonly Move[]): Migration[] {
  return moves
    .map((mv) => toMigration(m, mv))
    .sort((x, y) => y.estSeconds - x.estSeconds || (x.vm < y.vm ? -1 : x.vm > y.vm ? 1 : 0));
}

function toMigration(m: SeqModel, mv: Move): Migration {
  const vm: Vm = m.vms[mv.v]!;
  return {
    vm: vm.id,
    from: m.hosts[mv.from]!.id,
    to: m.hosts[mv.to]!.id,
    memMiB: memOf(m, mv.v),
    estSeconds: m.est[mv.v]!,
    converges: m.converges[mv.v] === 1,
  };
}

export { planToPlacement, type Placement, type PlacementPlan } from './placement.js';
