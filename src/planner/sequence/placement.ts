import type { Cluster } from '../../model/cluster.js';
import type { Policy } from '../../model/policy.js';
import { InputError } from '../../errors.js';
import { metricValue } from '../decide.js';
import { explainHosts, hostFigures } from '../explain.js';
import type { Plan } from '../plan.js';
import { PackState } from '../squeeze/state.js';
import { type Blocking, type SequenceResult, sequence } from './index.js';

/** A target placement (`virt-squeeze-placement/v1`), as read by inventory/placement-file.ts. */
export interface Placement {
  /** Where it came from (file path), for reasons and errors. */
  readonly source: string;
  /** VM id -> target host id; VMs it does not name keep their host. */
  readonly placement: ReadonlyMap<string, string>;
  /** Hosts to switch off after the last wave (they must end empty). */
  readonly powerOff: readonly string[];
}

/**
 * A plan to a given placement, plus how sequencing went: `sequencing` is 'ok', or 'unreachable'
 * (proved) / 'unknown' (search budget ran out), in which case the plan does nothing and
 * `explanation`/`blocking` say why; callers exit non-zero then.
 */
export interface PlacementPlan extends Plan {
  readonly sequencing: SequenceResult['status'];
  readonly explanation?: string;
  readonly blocking?: Blocking;
}

/**
 * Plans the safe waves from the cluster's current placement to `placement` (the
 * `plan --target-placement FILE` command). The decision is 'none' (no squeeze or expand was
 * decided: the admin's or another optimiser's target is executed as given) with the reason
 * "target placement from FILE". Standby hosts the target puts VMs on are woken first; `power_off`
 * hosts are switched off after the last wave (unless a limit leaves VMs on them). Unknown VM or
 * host ids are an InputError naming the file and JSON path. Pure apart from that input check.
 */
export function planToPlacement(
  cluster: Cluster,
  placement: Placement,
  policy: Policy,
  searchBudget?: number,
): PlacementPlan {
  checkIds(cluster, placement);
  const powerOn = hostsToWake(cluster, placement).slice(0, policy.safety.maxPowerOnPerRun);
  const result = sequence({
    cluster,
    policy,
    target: placement.placement,
    powerOn,
    powerOff: placement.powerOff,
    searchBudget,
  });
  return result.status === 'ok'
    ? assemble(cluster, placement, policy, result, powerOn)
    : refused(cluster, placement, policy, result);
}

function checkIds(cluster: Cluster, placement: Placement): void {
  const vms = new Set(cluster.vms.map((v) => v.id));
  const hosts = new Set(cluster.hosts.map((h) => h.id));
  for (const [vm, host] of placement.placement) {
    const at = `${placement.source}: placement[${JSON.stringify(vm)}]`;
    if (!vms.has(vm)) throw new InputError(`${at}: unknown VM ${vm} (not in ${cluster.source})`);
    if (!hosts.has(host)) throw new InputError(`${at}: unknown host ${host} (not in ${cluster.source})`);
  }
  placement.powerOff.forEach((host, i) => {
    if (!hosts.has(host))
      throw new InputError(
        `${placement.source}: power_off[${i}]: unknown host ${host} (not in ${cluster.source})`,
      );
  });
}

/**
 * Standby hosts (not quarantined) that the target gives VMs: they are booted before the waves (up
 * to `max_power_on_per_run`; a target needing more is refused as sending VMs to a standby host).
 */
function hostsToWake(cluster: Cluster, placement: Placement): string[] {
  const used = new Set<string>();
  const current = new Map(cluster.vms.map((v) => [v.id, v.host]));
  for (const [vm, host] of placement.placement) if (current.get(vm) !== host) used.add(host);
  return cluster.hosts
    .filter((h) => used.has(h.id) && h.state === 'standby' && !h.tags.includes('wake-failed'))
    .map((h) => h.id)
    .sort();
}

function assemble(
  cluster: Cluster,
  placement: Placement,
  policy: Policy,
  result: Extract<SequenceResult, { status: 'ok' }>,
  powerOn: readonly string[],
): PlacementPlan {
  const state = new PackState(cluster, policy);
  const before = hostFigures(state);
  const metricBefore = metricValue(state, policy);
  const vmIndex = new Map(state.vms.map((v, i) => [v.id, i]));
  for (const wave of result.waves)
    for (const mv of wave) state.move(vmIndex.get(mv.vm)!, state.hostIndex.get(mv.to)!);
  for (const id of powerOn) state.on[state.hostIndex.get(id)!] = 1;
  for (const id of result.powerOff) state.on[state.hostIndex.get(id)!] = 0;
  const migrations = result.waves.reduce((n, w) => n + w.length, 0);
  const reason = `target placement from ${placement.source}: ${migrations} migration(s) in ${result.waves.length} wave(s)`;
  const kept = new Map(
    result.leftOut
      .filter((l) => l.kind === 'host')
      .map((l) => [state.hostIndex.get(l.id)!, `not switched off: ${l.reason}`] as const),
  );
  const hosts = explainHosts(state, {
    decision: 'none',
    decisionReason: reason,
    before,
    after: hostFigures(state),
    powerOn: new Set(powerOn.map((id) => state.hostIndex.get(id)!)),
    powerOff: new Set(result.powerOff.map((id) => state.hostIndex.get(id)!)),
    kept,
    notWoken: new Map(),
    stuck: new Set(),
  });
  const hostsOnBefore = cluster.hosts.filter((h) => h.state === 'on').length;
  const off = new Set(result.powerOff);
  return {
    decision: 'none',
    reason,
    sequencing: 'ok',
    metric: { ...metricOf(policy), before: metricBefore, after: metricValue(state, policy) },
    powerOn,
    waves: result.waves,
    powerOff: result.powerOff,
    hosts,
    leftOut: result.leftOut,
    warnings: result.waves.flat().some((m) => m.converges === false)
      ? ['some migrations may not converge within the allowed downtime (converges: false)']
      : [],
    summary: {
      migrations,
      migratedMemMiB: result.migratedMemMiB,
      waves: result.waves.length,
      estMakespanSeconds: result.estMakespanSeconds,
      hostsOnBefore,
      hostsOnAfter: hostsOnBefore + powerOn.length - off.size,
      estPowerSavedWatts: cluster.hosts.reduce(
        (w, h) =>
          w + (off.has(h.id) ? (h.idleWatts ?? 0) : 0) - (powerOn.includes(h.id) ? (h.idleWatts ?? 0) : 0),
        0,
      ),
      planMs: 0,
    },
  };
}

function metricOf(policy: Policy) {
  return {
    mode: policy.thresholds.mode,
    minimal: policy.thresholds.minimal,
    target: policy.thresholds.target,
  };
}

/** The target cannot be reached (or the search could not tell): a plan that does nothing, and why. */
function refused(
  cluster: Cluster,
  placement: Placement,
  policy: Policy,
  result: Exclude<SequenceResult, { status: 'ok' }>,
): PlacementPlan {
  const state = new PackState(cluster, policy);
  const figures = hostFigures(state);
  const metric = metricValue(state, policy);
  const word = result.status === 'unreachable' ? 'unreachable' : 'undecided (search budget exhausted)';
  const reason = `target placement from ${placement.source} is ${word}: ${result.explanation}`;
  const blocking = new Set(result.blocking.hosts);
  const hostsOnBefore = cluster.hosts.filter((h) => h.state === 'on').length;
  return {
    decision: 'none',
    reason,
    sequencing: result.status,
    explanation: result.explanation,
    blocking: result.blocking,
    metric: { ...metricOf(policy), before: metric, after: metric },
    powerOn: [],
    waves: [],
    powerOff: [],
    hosts: explainHosts(state, {
      decision: 'none',
      decisionReason: reason,
      before: figures,
      after: figures,
      powerOn: new Set(),
      powerOff: new Set(),
      kept: new Map(
        [...blocking].map(
          (id) => [state.hostIndex.get(id)!, `blocks the target placement (${result.status})`] as const,
        ),
      ),
      notWoken: new Map(),
      stuck: new Set(),
    }),
    leftOut: result.blocking.vms.map((id) => ({
      kind: 'vm' as const,
      id,
      reason: `target ${result.status}`,
    })),
    warnings: [reason],
    summary: {
      migrations: 0,
      migratedMemMiB: 0,
      waves: 0,
      estMakespanSeconds: 0,
      hostsOnBefore,
      hostsOnAfter: hostsOnBefore,
      estPowerSavedWatts: 0,
      planMs: 0,
    },
  };
}
