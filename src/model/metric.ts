import type { Cluster, Host } from './cluster.js';
import { Occupancy, isOnline, probe, standardFit } from './capacity.js';
import { fitsWithin } from './resources.js';

/** Hosts whose free capacity counts toward the threshold metric: online, not draining. */
export function metricHosts(hosts: Iterable<Host>): Host[] {
  return [...hosts].filter((h) => isOnline(h) && !h.drain);
}

/** Standard instances each metric host can still accept. */
export function fitPerHost(occ: Occupancy, hosts: readonly Host[]): Map<string, number> {
  const fits = new Map<string, number>();
  for (const h of hosts) fits.set(h.id, standardFit(occ.freeOn(h.id), occ.policy.standard));
  return fits;
}

/** `average` metric: mean free standard instances per online host (0 with no online host). */
export function averageMetric(occ: Occupancy, hosts: readonly Host[]): number {
  if (hosts.length === 0) return 0;
  let sum = 0;
  for (const h of hosts) sum += standardFit(occ.freeOn(h.id), occ.policy.standard);
  return sum / hosts.length;
}

/** True when the host can take one `factor x std` probe instance (hsqueeze's hasCapacity, per host). */
export function hostTakesProbe(occ: Occupancy, hostId: string, factor: number): boolean {
  return fitsWithin(probe(occ.policy.standard, factor), occ.freeOn(hostId));
}

/**
 * `per_host` metric: the largest factor f (in steps of 1/100) such that every online host takes an
 * f x std probe; reported as a number comparable with the thresholds. Decisions use
 * {@link perHostHolds} with the exact threshold rather than this rounded figure.
 */
export function perHostMetric(occ: Occupancy, hosts: readonly Host[]): number {
  if (hosts.length === 0) return 0;
  let worst = Number.POSITIVE_INFINITY;
  const std = occ.policy.standard;
  for (const h of hosts) {
    const free = occ.freeOn(h.id);
    let f = Number.POSITIVE_INFINITY;
    if (std.cpu > 0) f = Math.min(f, free.cpu / std.cpu);
    if (std.memMiB > 0) f = Math.min(f, free.memMiB / std.memMiB);
    if (std.diskGiB > 0) f = Math.min(f, free.diskGiB / std.diskGiB);
    worst = Math.min(worst, f);
  }
  return Number.isFinite(worst) ? Math.floor(Math.max(0, worst) * 100) / 100 : 0;
}

/** True when every metric host takes a `factor x std` probe. */
export function perHostHolds(occ: Occupancy, hosts: readonly Host[], factor: number): boolean {
  return hosts.every((h) => hostTakesProbe(occ, h.id, factor));
}

/** The configured metric of a placement. */
export function clusterMetric(occ: Occupancy, hosts: readonly Host[]): number {
  return occ.policy.thresholds.mode === 'average' ? averageMetric(occ, hosts) : perHostMetric(occ, hosts);
}

/** True when the placement's metric is at least `threshold` (exact for per_host). */
export function metricAtLeast(occ: Occupancy, hosts: readonly Host[], threshold: number): boolean {
  return occ.policy.thresholds.mode === 'average'
    ? averageMetric(occ, hosts) >= threshold - 1e-9
    : perHostHolds(occ, hosts, threshold);
}

/**
 * Failover reserve: the VMs of the `reserveHosts` online hosts carrying the most memory can be
 * re-hosted, first-fit decreasing by memory, on the remaining hosts that accept VMs.
 * Returns the id of a VM that found no room, or undefined when the reserve holds.
 */
export function failoverShortfall(
  occ: Occupancy,
  cluster: Cluster,
  reserveHosts: number,
): string | undefined {
  if (reserveHosts <= 0) return undefined;
  const online = cluster.hosts.filter((h) => isOnline(h));
  const byLoad = [...online].sort(
    (a, b) => occ.usedOn(b.id).memMiB - occ.usedOn(a.id).memMiB || (a.id < b.id ? -1 : 1),
  );
  const lost = new Set(byLoad.slice(0, reserveHosts).map((h) => h.id));
  const survivors = online.filter((h) => !lost.has(h.id) && !h.exclude && !h.drain);
  const orphans = [...lost]
    .flatMap((id) => [...occ.vmsOn(id)].map((v) => occ.vmById.get(v)!))
    .sort((a, b) => b.demand.memMiB - a.demand.memMiB || (a.id < b.id ? -1 : 1));
  const moved: Array<[string, string]> = [];
  let missing: string | undefined;
  for (const vm of orphans) {
    const from = occ.placement.get(vm.id)!;
    const to = survivors.find((h) => occ.canAccept(vm, h.id));
    if (!to) {
      missing = vm.id;
      break;
    }
    occ.unplace(vm, from);
    occ.place(vm, to.id);
    moved.push([vm.id, from]);
  }
  for (const [vmId, from] of moved.reverse()) {
    const vm = occ.vmById.get(vmId)!;
    occ.unplace(vm, occ.placement.get(vmId)!);
    occ.place(vm, from);
  }
  return missing;
}
