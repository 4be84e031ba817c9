import type { Cluster, Host, Vm } from '../../model/cluster.js';
import { hostLimit } from '../../model/capacity.js';
import type { Policy } from '../../model/policy.js';
import { estimateMigration } from './estimate.js';

/** Dimensions tracked per host and VM: vCPU allocation, memory MiB, disk GiB, observed CPU load cores. */
export const R = 4;
/** Slack that absorbs float noise of fractional vCPUs; checkPlan tolerates twice as much. */
export const EPS = 5e-10;

/** Optional static placement rule (e.g. CPU architecture): may `vm` ever run on `host`? */
export type AllowedPredicate = (vm: Vm, host: Host) => boolean;

/**
 * Indexed, immutable view of one sequencing problem: hosts and VMs sorted by id (deterministic
 * order), limits and demands as flat typed arrays, start placement `a` and target `b`
 * (host indices, -1 = nowhere).
 */
export interface SeqModel {
  readonly hosts: readonly Host[];
  readonly vms: readonly Vm[];
  readonly hostIndex: ReadonlyMap<string, number>;
  readonly vmIndex: ReadonlyMap<string, number>;
  /** Per host x R: allocation limit (capacity x overcommit - reserved; load cap x cores). */
  readonly lim: Float64Array;
  /** Per VM x R: demand. */
  readonly dem: Float64Array;
  /** Host may receive VMs (on after the power-ons, not excluded, not draining). */
  readonly accepts: Uint8Array;
  /** VMs may leave the host (on, not excluded). */
  readonly releases: Uint8Array;
  /** Host must end empty (power-off candidate): an excellent temporary host. */
  readonly emptied: Uint8Array;
  /** Anti-affinity group index per VM, -1 when none or anti-affinity is off. */
  readonly group: Int32Array;
  readonly groupCount: number;
  /** VM may be migrated at all (not pinned, on a host it may leave). */
  readonly movable: Uint8Array;
  readonly a: Int32Array;
  readonly b: Int32Array;
  /** Estimated migration seconds and convergence per VM. */
  readonly est: Float64Array;
  readonly converges: Uint8Array;
  readonly allowed: AllowedPredicate | undefined;
  readonly maxPerHost: number;
  readonly maxParallel: number;
}

/** Memory of VM `v`, MiB (what its migration copies). */
export function memOf(m: SeqModel, v: number): number {
  return m.dem[v * R + 1]!;
}

const byId = <T extends { id: string }>(x: T, y: T) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);

/** Builds the indexed model. `target` overrides VM hosts; VMs it does not name keep their host. */
export function buildModel(
  cluster: Cluster,
  policy: Policy,
  target: ReadonlyMap<string, string>,
  powerOn: readonly string[],
  powerOff: readonly string[],
  allowed: AllowedPredicate | undefined,
): SeqModel {
  const hosts = [...cluster.hosts].sort(byId);
  const vms = [...cluster.vms].sort(byId);
  const hostIndex = new Map(hosts.map((h, i) => [h.id, i]));
  const vmIndex = new Map(vms.map((v, i) => [v.id, i]));
  const nH = hosts.length;
  const nV = vms.length;
  const lim = new Float64Array(nH * R);
  const accepts = new Uint8Array(nH);
  const releases = new Uint8Array(nH);
  const emptied = new Uint8Array(nH);
  const woken = new Set(powerOn);
  const cap = policy.usage?.cpuCap;
  hosts.forEach((h, i) => {
    const l = hostLimit(h, policy);
    lim.set([l.cpu, l.memMiB, l.diskGiB, cap === undefined ? Infinity : h.capacity.cpu * cap], i * R);
    const on = h.state === 'on' || (h.state === 'standby' && woken.has(h.id));
    accepts[i] = on && !h.exclude && !h.drain ? 1 : 0;
    releases[i] = on && !h.exclude ? 1 : 0;
  });
  for (const id of powerOff) {
    const i = hostIndex.get(id);
    if (i !== undefined) emptied[i] = 1;
  }
  const dem = new Float64Array(nV * R);
  const group = new Int32Array(nV).fill(-1);
  const groups = new Map<string, number>();
  const movable = new Uint8Array(nV);
  const a = new Int32Array(nV).fill(-1);
  const b = new Int32Array(nV).fill(-1);
  const est = new Float64Array(nV);
  const converges = new Uint8Array(nV);
  vms.forEach((v, i) => {
    dem[i * R] = v.demand.cpu;
    dem[i * R + 1] = v.demand.memMiB;
    dem[i * R + 2] = v.demand.diskGiB;
    dem[i * R + 3] = v.cpuLoadCores ?? v.demand.cpu;
    if (policy.antiAffinity && v.group !== undefined) {
      if (!groups.has(v.group)) groups.set(v.group, groups.size);
      group[i] = groups.get(v.group)!;
    }
    a[i] = v.host === null ? -1 : (hostIndex.get(v.host) ?? -1);
    const t = target.get(v.id);
    b[i] = t === undefined ? a[i]! : (hostIndex.get(t) ?? -1);
    movable[i] = !v.pinned && a[i]! >= 0 && releases[a[i]!] ? 1 : 0;
    const e = estimateMigration(v, policy);
    est[i] = e.seconds;
    converges[i] = e.converges ? 1 : 0;
  });
  return {
    hosts,
    vms,
    hostIndex,
    vmIndex,
    lim,
    dem,
    accepts,
    releases,
    emptied,
    group,
    groupCount: groups.size,
    movable,
    a,
    b,
    est,
    converges,
    allowed,
    maxPerHost: Math.max(1, policy.migration.maxPerHost),
    maxParallel: Math.max(1, policy.migration.maxParallel),
  };
}

/**
 * Mutable placement bookkeeping over a {@link SeqModel}: where each VM is, what each host holds
 * (residents plus in-flight arrivals), anti-affinity counts. O(R) per move, never cloned per check.
 */
export class SeqState {
  readonly cur: Int32Array;
  readonly used: Float64Array;
  private readonly groupsOn = new Map<number, number>();
  readonly residents: Array<Set<number>>;

  constructor(
    readonly m: SeqModel,
    placement: Int32Array,
  ) {
    this.cur = Int32Array.from(placement);
    this.used = new Float64Array(m.hosts.length * R);
    this.residents = m.hosts.map(() => new Set<number>());
    for (let v = 0; v < placement.length; v++) {
      const h = placement[v]!;
      if (h < 0) continue;
      this.hold(v, h);
      this.residents[h]!.add(v);
    }
  }

  /** Count `v` on host `h` (residence or the destination side of an in-flight migration). */
  hold(v: number, h: number): void {
    this.adjust(v, h, 1);
  }

  /** Stop counting `v` on host `h`. */
  release(v: number, h: number): void {
    this.adjust(v, h, -1);
  }

  private adjust(v: number, h: number, sign: 1 | -1): void {
    const { dem, group, groupCount } = this.m;
    for (let r = 0; r < R; r++) this.used[h * R + r]! += sign * dem[v * R + r]!;
    const g = group[v]!;
    if (g >= 0) {
      const key = h * groupCount + g;
      const n = (this.groupsOn.get(key) ?? 0) + sign;
      if (n === 0) this.groupsOn.delete(key);
      else this.groupsOn.set(key, n);
    }
  }

  /** True when `v`'s group already has a VM counted on `h`. */
  groupClash(v: number, h: number): boolean {
    const g = this.m.group[v]!;
    return g >= 0 && (this.groupsOn.get(h * this.m.groupCount + g) ?? 0) > 0;
  }

  /** True when `v` fits on `h` now: resources, load cap, anti-affinity, static rules. */
  fits(v: number, h: number): boolean {
    const m = this.m;
    if (!m.accepts[h]) return false;
    for (let r = 0; r < R; r++)
      if (this.used[h * R + r]! + m.dem[v * R + r]! > m.lim[h * R + r]! + EPS) return false;
    if (this.groupClash(v, h)) return false;
    return m.allowed === undefined || m.allowed(m.vms[v]!, m.hosts[h]!);
  }

  /** Completes a migration after its wave: release the source, `v` now resides on `to`. */
  land(v: number, from: number, to: number): void {
    this.release(v, from);
    this.residents[from]!.delete(v);
    this.residents[to]!.add(v);
    this.cur[v] = to;
  }

  /** A sequential move (used by the exact search's replays): hold on `to`, then land. */
  move(v: number, to: number): void {
    const from = this.cur[v]!;
    this.hold(v, to);
    this.land(v, from, to);
  }
}
