import type { Cluster } from '../model/cluster.js';
import type { Policy } from '../model/policy.js';
import { DEFAULT_SEARCH_BUDGET, type PlanDraft, draftPlan } from './draft.js';
import type { HostOutcome, LeftOut, Plan } from './plan.js';
import { type SequenceResult, sequence } from './sequence/index.js';

export type { Plan } from './plan.js';
export { DEFAULT_SEARCH_BUDGET, draftPlan, type PlanDraft } from './draft.js';

/** Options of {@link plan}. */
export interface PlanOptions {
  /** Work budget for local search, in candidate evaluations (deterministic; no clock in planner/). */
  readonly searchBudget?: number;
}

/** Re-plans allowed when the sequencer leaves VMs where they are (their hosts then stay on). */
const MAX_REPLANS = 3;

/**
 * The planner: decide (squeeze / expand / none), compute the target placement and power actions
 * (draftPlan), then order the migrations into safe waves (sequence). When the sequencer leaves VMs
 * out (max_migration_seconds, plan budget) or cannot reach the target, those VMs are pinned and the
 * plan is made again, so hosts that cannot be emptied are not chosen; after {@link MAX_REPLANS}
 * rounds the last answer stands. Pure and deterministic; `summary.planMs` is left 0 for the caller.
 */
export function plan(cluster: Cluster, policy: Policy, opts: PlanOptions = {}): Plan {
  const budget = opts.searchBudget ?? DEFAULT_SEARCH_BUDGET;
  let current = cluster;
  const carried: LeftOut[] = [];
  for (let round = 0; ; round++) {
    const draft = draftPlan(current, policy, budget);
    const seq = sequence({
      cluster,
      policy,
      target: draft.target,
      powerOn: draft.powerOn,
      powerOff: draft.powerOff,
    });
    const stuck = stuckVms(seq);
    if (stuck.size === 0 || round >= MAX_REPLANS) return assemble(cluster, draft, seq, carried);
    for (const [id, reason] of stuck) carried.push({ kind: 'vm', id, reason });
    current = { ...current, vms: current.vms.map((v) => (stuck.has(v.id) ? { ...v, pinned: true } : v)) };
  }
}

/** VMs the sequencer did not move (with why), or the blocking VMs of an unreachable target. */
function stuckVms(seq: SequenceResult): Map<string, string> {
  if (seq.status === 'ok')
    return new Map(seq.leftOut.filter((l) => l.kind === 'vm').map((l) => [l.id, l.reason]));
  return new Map(seq.blocking.vms.map((id) => [id, `kept in place: ${seq.explanation}`]));
}

function assemble(
  cluster: Cluster,
  draft: PlanDraft,
  seq: SequenceResult,
  carried: readonly LeftOut[],
): Plan {
  if (seq.status !== 'ok') return unsequenced(draft, seq, carried);
  const off = new Set(seq.powerOff);
  const droppedOff = draft.powerOff.filter((id) => !off.has(id));
  const leftOut = [...draft.leftOut, ...dedupe(carried, seq.leftOut), ...seq.leftOut];
  const migrations = seq.waves.reduce((n, w) => n + w.length, 0);
  return {
    decision: draft.decision === 'squeeze' && off.size === 0 && migrations === 0 ? 'none' : draft.decision,
    reason: draft.reason,
    metric: draft.metric,
    powerOn: draft.powerOn,
    waves: seq.waves,
    powerOff: draft.powerOff.filter((id) => off.has(id)),
    hosts: keptOnInstead(draft.hosts, droppedOff, seq.leftOut),
    leftOut,
    warnings: draft.warnings,
    summary: {
      migrations,
      migratedMemMiB: seq.migratedMemMiB,
      waves: seq.waves.length,
      estMakespanSeconds: seq.estMakespanSeconds,
      hostsOnBefore: draft.hostsOnBefore,
      hostsOnAfter: draft.hostsOnAfter + droppedOff.length,
      estPowerSavedWatts: savedWatts(cluster, off),
      planMs: 0,
    },
  };
}

/** A target the sequencer could not order safely: report it and do nothing. */
function unsequenced(
  draft: PlanDraft,
  seq: Exclude<SequenceResult, { status: 'ok' }>,
  carried: readonly LeftOut[],
): Plan {
  const why = `no safe migration order found (${seq.status}): ${seq.explanation}`;
  return {
    decision: 'none',
    reason: `${draft.reason}; not acted on: ${why}`,
    metric: { ...draft.metric, after: draft.metric.before },
    powerOn: [],
    waves: [],
    powerOff: [],
    hosts: draft.hosts.map((h) => ({
      ...h,
      stateAfter: h.stateBefore,
      fitAfter: h.fitBefore,
      memPctAfter: h.memPctBefore,
      cpuPctAfter: h.cpuPctBefore,
      why: h.stateBefore === 'on' ? `unchanged: ${why}` : h.why,
    })),
    leftOut: [...draft.leftOut, ...carried],
    warnings: [...draft.warnings, why],
    summary: {
      migrations: 0,
      migratedMemMiB: 0,
      waves: 0,
      estMakespanSeconds: 0,
      hostsOnBefore: draft.hostsOnBefore,
      hostsOnAfter: draft.hostsOnBefore,
      estPowerSavedWatts: 0,
      planMs: 0,
    },
  };
}

function dedupe(carried: readonly LeftOut[], latest: readonly LeftOut[]): LeftOut[] {
  const seen = new Set(latest.map((l) => `${l.kind}:${l.id}`));
  return carried.filter((l) => !seen.has(`${l.kind}:${l.id}`));
}

/** Host outcomes for power-offs the sequencer dropped: the host stays on, with the limit as why. */
function keptOnInstead(
  hosts: readonly HostOutcome[],
  dropped: readonly string[],
  leftOut: readonly LeftOut[],
): HostOutcome[] {
  if (dropped.length === 0) return [...hosts];
  const reason = new Map(leftOut.filter((l) => l.kind === 'host').map((l) => [l.id, l.reason]));
  const set = new Set(dropped);
  return hosts.map((h) =>
    set.has(h.id)
      ? { ...h, stateAfter: 'on', why: `kept on: ${reason.get(h.id) ?? 'a left-out VM stays'}` }
      : h,
  );
}

function savedWatts(cluster: Cluster, off: ReadonlySet<string>): number {
  return cluster.hosts.reduce((w, h) => w + (off.has(h.id) ? (h.idleWatts ?? 0) : 0), 0);
}
