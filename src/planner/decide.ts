import { probe } from '../model/capacity.js';
import type { Policy } from '../model/policy.js';
import type { Resources } from '../model/resources.js';
import type { Decision } from './plan.js';
import type { PackState } from './squeeze/state.js';

/** What the thresholds say about a placement, before any planning. */
export interface Verdict {
  readonly decision: Decision;
  /** The metric as reported (average fit, or the per_host probe factor rounded down to 1/100). */
  readonly metric: number;
  /** Plain-words why, with numbers. */
  readonly reason: string;
}

/** Host indices the metric is taken over: on and not draining. */
export function metricHostIndices(state: PackState): number[] {
  const out: number[] = [];
  state.hosts.forEach((h, i) => {
    if (state.on[i] === 1 && !h.drain) out.push(i);
  });
  return out;
}

/** The configured metric of the state (model/metric.ts semantics, on the planner's arrays). */
export function metricValue(state: PackState, policy: Policy): number {
  const hosts = metricHostIndices(state);
  if (hosts.length === 0) return 0;
  if (policy.thresholds.mode === 'average') {
    let sum = 0;
    for (const h of hosts) sum += state.fit(h);
    return sum / hosts.length;
  }
  const std = policy.standard;
  let worst = Number.POSITIVE_INFINITY;
  for (const h of hosts) {
    if (std.cpu > 0) worst = Math.min(worst, state.freeCpu[h]! / std.cpu);
    if (std.memMiB > 0) worst = Math.min(worst, state.freeMem[h]! / std.memMiB);
    if (std.diskGiB > 0) worst = Math.min(worst, state.freeDisk[h]! / std.diskGiB);
  }
  return Number.isFinite(worst) ? Math.floor(Math.max(0, worst) * 100) / 100 : 0;
}

/** Metric hosts that cannot take one `factor x std` probe (per_host semantics). */
export function hostsMissingProbe(state: PackState, policy: Policy, factor: number): number[] {
  const p: Resources = probe(policy.standard, factor);
  return metricHostIndices(state).filter((h) => !state.takesProbe(h, p.cpu, p.memMiB, p.diskGiB));
}

/**
 * The decision. `average`: below minimal -> expand, above target -> squeeze, otherwise none.
 * `per_host` (hsqueeze): some online host cannot take a `minimal x std` probe -> expand; otherwise
 * squeeze is attempted (it frees a host only if every remaining host still takes a `target` probe).
 * With no online host at all, expand.
 */
export function decide(state: PackState, policy: Policy): Verdict {
  const t = policy.thresholds;
  const metric = metricValue(state, policy);
  const online = metricHostIndices(state).length;
  if (state.hosts.length === 0) return { decision: 'none', metric, reason: 'the cluster has no hosts' };
  if (online === 0) return { decision: 'expand', metric, reason: 'no host is online to run VMs' };
  if (t.mode === 'per_host') {
    const missing = hostsMissingProbe(state, policy, t.minimal);
    if (missing.length > 0) {
      const names = missing.slice(0, 3).map((h) => state.hosts[h]!.id);
      const more = missing.length > 3 ? ` and ${missing.length - 3} more` : '';
      return {
        decision: 'expand',
        metric,
        reason: `${missing.length} of ${online} online hosts (${names.join(', ')}${more}) cannot take a ${t.minimal} x standard instance (minimal ${t.minimal})`,
      };
    }
    return {
      decision: 'squeeze',
      metric,
      reason: `every online host can take a ${t.minimal} x standard instance (minimal ${t.minimal}; largest factor all take: ${metric.toFixed(2)})`,
    };
  }
  const figure = `free capacity ${metric.toFixed(2)} standard instances per online host (${online} hosts)`;
  if (metric < t.minimal - 1e-9)
    return { decision: 'expand', metric, reason: `${figure} is below minimal ${t.minimal}` };
  if (metric > t.target + 1e-9)
    return { decision: 'squeeze', metric, reason: `${figure} is above target ${t.target}` };
  return {
    decision: 'none',
    metric,
    reason: `${figure} is between minimal ${t.minimal} and target ${t.target}`,
  };
}
