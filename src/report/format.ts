import type { ThresholdMode } from '../model/policy.js';
import type { HostOutcome, Plan, Wave } from '../planner/plan.js';

/** Shared wording and selection for the text, HTML and email reports, so they never disagree. */

/** With at most this many hosts every host is listed; above it, only hosts the plan touches. */
export const AUTO_ALL_HOSTS_LIMIT = 50;

/** Which hosts a report lists. */
export interface HostSelection {
  readonly shown: readonly HostOutcome[];
  /** Hosts left out of the listing (unchanged by the plan). */
  readonly hidden: number;
}

/** Seconds as `45s`, `6m 12s`, `1h 02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** MiB as GiB with one decimal. */
export function formatGiB(memMiB: number): string {
  return (memMiB / 1024).toFixed(1);
}

/** A number with at most `digits` decimals, trailing zeros dropped (7.5, 4, 0.33). */
export function formatNumber(value: number, digits = 2): string {
  return String(Number(value.toFixed(digits)));
}

/** Integer with thousands separators (12,345). */
export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** Watts and kWh/day, e.g. `540 W (12.96 kWh/day)`. */
export function formatPower(watts: number, kwhPerDay: number): string {
  return `${formatCount(watts)} W (${formatNumber(kwhPerDay)} kWh/day)`;
}

/** What the metric measures, in the operator's words. */
export function metricLabel(mode: ThresholdMode): string {
  return mode === 'average'
    ? 'free standard instances per online host (mean)'
    : 'largest f such that every online host fits f x standard instance';
}

/** Estimated duration of one wave: its migrations run in parallel, so the longest one. */
export function waveSeconds(wave: Wave): number {
  let longest = 0;
  for (const m of wave) longest = Math.max(longest, m.estSeconds);
  return longest;
}

/** Memory a wave copies, MiB. */
export function waveMemMiB(wave: Wave): number {
  let sum = 0;
  for (const m of wave) sum += m.memMiB;
  return sum;
}

/** Hosts the plan touches: state or fit changes, a migration in or out, or a state needing attention. */
export function touchedHostIds(plan: Plan): Set<string> {
  const ids = new Set<string>([...plan.powerOn, ...plan.powerOff]);
  for (const wave of plan.waves) {
    for (const m of wave) {
      ids.add(m.from);
      ids.add(m.to);
    }
  }
  for (const h of plan.hosts) {
    if (h.stateBefore !== h.stateAfter || h.fitBefore !== h.fitAfter || h.stateBefore === 'unknown')
      ids.add(h.id);
  }
  return ids;
}

/**
 * Hosts to list: all when `allHosts` or the cluster is small ({@link AUTO_ALL_HOSTS_LIMIT}),
 * otherwise the hosts the plan touches, in plan order, and a count of the rest.
 */
export function selectHosts(plan: Plan, allHosts = false): HostSelection {
  if (allHosts || plan.hosts.length <= AUTO_ALL_HOSTS_LIMIT) return { shown: plan.hosts, hidden: 0 };
  const touched = touchedHostIds(plan);
  const shown = plan.hosts.filter((h) => touched.has(h.id));
  return { shown, hidden: plan.hosts.length - shown.length };
}

/** One-line headline, e.g. for an email subject: `squeeze: 3 hosts to standby, 23 migrations`. */
export function headline(plan: Plan): string {
  const s = plan.summary;
  const parts: string[] = [];
  if (plan.powerOn.length > 0) parts.push(`${plan.powerOn.length} host(s) to power on`);
  if (plan.powerOff.length > 0) parts.push(`${plan.powerOff.length} host(s) to standby`);
  if (s.migrations > 0) parts.push(`${s.migrations} migration(s)`);
  if (s.estPowerSavedWatts > 0) parts.push(`est. ${formatCount(s.estPowerSavedWatts)} W saved`);
  return parts.length > 0 ? `${plan.decision}: ${parts.join(', ')}` : `${plan.decision}: nothing to do`;
}
