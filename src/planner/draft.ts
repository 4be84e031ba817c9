import type { Cluster } from '../model/cluster.js';
import type { Policy } from '../model/policy.js';
import { type SqueezeOutcome, candidateOrders, consolidate, gib, perMigrationMiB } from './consolidate.js';
import { type Verdict, decide, metricValue } from './decide.js';
import { evacuateDrains } from './drain.js';
import { type ExpandOutcome, expand } from './expand.js';
import { explainHosts, hostFigures } from './explain.js';
import type { Decision, HostOutcome, LeftOut, Plan } from './plan.js';
import { PackState } from './squeeze/state.js';

/** Default work budget of the search passes, in candidate evaluations. */
export const DEFAULT_SEARCH_BUDGET = 2_000_000;

/**
 * Everything of a plan except the waves: the decision, the target placement (VM id -> new host id,
 * only VMs that move), power actions and per-host outcomes. The sequencer orders the target into waves.
 */
export interface PlanDraft {
  readonly decision: Decision;
  readonly reason: string;
  readonly metric: Plan['metric'];
  readonly target: ReadonlyMap<string, string>;
  readonly powerOn: readonly string[];
  readonly powerOff: readonly string[];
  readonly hosts: readonly HostOutcome[];
  readonly leftOut: readonly LeftOut[];
  readonly warnings: readonly string[];
  readonly migratedMemMiB: number;
  readonly hostsOnBefore: number;
  readonly hostsOnAfter: number;
  readonly estPowerSavedWatts: number;
}

/**
 * Plans the target placement: drains evacuated first (always), then the decision on the capacity
 * that leaves, then squeeze (consolidate) or expand (wake + rebalance). Pure and deterministic.
 */
export function draftPlan(cluster: Cluster, policy: Policy, searchBudget = DEFAULT_SEARCH_BUDGET): PlanDraft {
  let state = new PackState(cluster, policy);
  const before = hostFigures(state);
  const metricBefore = metricValue(state, policy);
  const drain = evacuateDrains(state);
  const verdict = decide(state, policy);
  let squeeze: SqueezeOutcome | undefined;
  let grow: ExpandOutcome | undefined;
  if (verdict.decision === 'squeeze') [state, squeeze] = bestSqueeze(cluster, policy, state, searchBudget);
  if (verdict.decision === 'expand') grow = expand(state, policy, searchBudget);
  const emptied = squeeze?.emptied ?? [];
  const woken = grow?.woken ?? [];
  const { decision, reason } = finalDecision(verdict, state, squeeze, grow);
  const drained = [...drain.movedOff.values()].reduce((a, b) => a + b, 0);
  const fullReason = drained > 0 ? `${reason}; draining hosts: ${drained} VM(s) moved off` : reason;
  const hosts = explainHosts(state, {
    decision,
    decisionReason: grow?.summary ?? reason,
    before,
    after: hostFigures(state),
    powerOn: new Set(woken),
    powerOff: new Set(emptied),
    kept: squeeze?.kept ?? new Map(),
    notWoken: grow?.notWoken ?? new Map(),
    stuck: new Set(grow?.stuck ?? []),
    limitedBy: squeeze?.limitedBy,
  });
  const target = state.movedVms();
  const migratedMemMiB = migratedMiB(state);
  const hostsOnBefore = cluster.hosts.filter((h) => h.state === 'on').length;
  return {
    decision,
    reason: fullReason,
    metric: {
      mode: policy.thresholds.mode,
      before: metricBefore,
      after: metricValue(state, policy),
      minimal: policy.thresholds.minimal,
      target: policy.thresholds.target,
    },
    target,
    powerOn: woken.map((h) => state.hosts[h]!.id),
    powerOff: emptied.map((h) => state.hosts[h]!.id),
    hosts,
    leftOut: drain.leftOut,
    warnings: cluster.hosts
      .filter((h) => h.state === 'unknown')
      .map((h) => `host ${h.id} is unknown (not reachable): not emptied, filled or powered off`),
    migratedMemMiB,
    hostsOnBefore,
    hostsOnAfter: hostsOnBefore + woken.length - emptied.length,
    estPowerSavedWatts: emptied.reduce((w, h) => w + (state.hosts[h]!.idleWatts ?? 0), 0),
  };
}

/** Idle power within this share of the best counts as equal: then more hosts freed, then the cheaper migration wins. */
const POWER_TIE_SHARE = 0.02;

/**
 * Runs the squeeze once per candidate order (each on a fresh copy of the drained state) and keeps
 * the best by the objective: idle watts left on (hosts left on where no power figures), then
 * migration cost (memory plus a fixed cost per migration). Power figures are estimates (published
 * figures of similar servers), so within 2 % more hosts freed, then the cheaper migration wins.
 */
function bestSqueeze(
  cluster: Cluster,
  policy: Policy,
  first: PackState,
  searchBudget: number,
): [PackState, SqueezeOutcome] {
  const orders = candidateOrders(first);
  let best: { state: PackState; out: SqueezeOutcome; watts: number; mib: number } | undefined;
  orders.forEach((order, i) => {
    const state = i === 0 ? first : new PackState(cluster, policy);
    if (i > 0) evacuateDrains(state);
    const out = consolidate(state, policy, searchBudget, order);
    const watts = idleWattsOn(state);
    const hosts = out.emptied.length;
    const mib = migrationCostMiB(state, policy);
    const better =
      !best ||
      watts < best.watts * (1 - POWER_TIE_SHARE) ||
      (watts <= best.watts * (1 + POWER_TIE_SHARE) &&
        (hosts > best.out.emptied.length || (hosts === best.out.emptied.length && mib < best.mib)));
    if (better) best = { state, out, watts, mib };
  });
  return [best!.state, best!.out];
}

/** Idle watts of the hosts on (1 W per host where a host has no power figure). */
function idleWattsOn(state: PackState): number {
  let w = 0;
  state.hosts.forEach((h, i) => {
    if (state.on[i] === 1) w += h.idleWatts ?? 1;
  });
  return w;
}

/** Migration cost of the plan: memory of the VMs that end on another host plus the fixed cost per migration, MiB. */
function migrationCostMiB(state: PackState, policy: Policy): number {
  let mib = 0;
  const fixedMiB = perMigrationMiB(policy);
  for (let v = 0; v < state.vms.length; v++)
    if (state.vmHost[v] !== state.origHost[v]) mib += state.dMem[v]! + fixedMiB;
  return mib;
}

/** Memory of the VMs that end on another host, MiB. */
export function migratedMiB(state: PackState): number {
  let mib = 0;
  for (let v = 0; v < state.vms.length; v++) if (state.vmHost[v] !== state.origHost[v]) mib += state.dMem[v]!;
  return mib;
}

function finalDecision(
  verdict: Verdict,
  state: PackState,
  squeeze: SqueezeOutcome | undefined,
  grow: ExpandOutcome | undefined,
): { decision: Decision; reason: string } {
  if (squeeze) {
    if (squeeze.emptied.length === 0) {
      const why = squeeze.limitedBy ?? 'no host can be emptied: its VMs find no room elsewhere';
      return { decision: 'none', reason: `${verdict.reason}, but nothing to squeeze: ${why}` };
    }
    const watts = squeeze.emptied.reduce((w, h) => w + (state.hosts[h]!.idleWatts ?? 0), 0);
    let moved = 0;
    let mib = 0;
    for (let v = 0; v < state.vms.length; v++)
      if (state.vmHost[v] !== state.origHost[v]) {
        moved += 1;
        mib += state.dMem[v]!;
      }
    const power = watts > 0 ? `, idle ${Math.round(watts)} W saved` : '';
    const limit = squeeze.limitedBy ? ` (limited by ${squeeze.limitedBy})` : '';
    return {
      decision: 'squeeze',
      reason: `${verdict.reason}: power off ${squeeze.emptied.length} host(s)${power}, ${moved} migration(s) of ${gib(mib)}${limit}`,
    };
  }
  if (grow) return { decision: 'expand', reason: `${verdict.reason}: ${grow.summary}` };
  return { decision: verdict.decision, reason: verdict.reason };
}
