import type { Cluster, Host, Vm } from '../../model/cluster.js';
import { hostLimit } from '../../model/capacity.js';
import type { Policy } from '../../model/policy.js';

/**
 * Index-based, mutable bookkeeping of a placement for the planner's hot loops: per-host free
 * vectors in typed arrays, per-host resident lists and anti-affinity counts, O(1) per move.
 * Semantics equal {@link Occupancy} (same limits, same load cap, same anti-affinity rule); the
 * planner tests check that the two agree. Only placed VMs on known hosts are tracked.
 */
export class PackState {
  readonly hosts: readonly Host[];
  readonly vms: readonly Vm[];
  readonly hostIndex = new Map<string, number>();
  /** Current host index of each tracked VM. */
  readonly vmHost: Int32Array;
  /** Host index of each VM in the snapshot. */
  readonly origHost: Int32Array;
  readonly freeCpu: Float64Array;
  readonly freeMem: Float64Array;
  readonly freeDisk: Float64Array;
  /** Usage-aware CPU headroom in cores (cap x cores - load); +Infinity when not usage-aware. */
  readonly freeLoad: Float64Array;
  readonly limitCpu: Float64Array;
  readonly limitMem: Float64Array;
  readonly dCpu: Float64Array;
  readonly dMem: Float64Array;
  readonly dDisk: Float64Array;
  readonly dLoad: Float64Array;
  /** 1 when the host is on in the plan being built (woken hosts become 1, powered-off hosts 0). */
  readonly on: Uint8Array;
  /** 1 when the host may receive VMs now. */
  readonly accepts: Uint8Array;
  readonly pinnedCount: Int32Array;
  private readonly residents: number[][];
  private readonly vmPos: Int32Array;
  private readonly groups: Array<Map<string, number> | undefined>;
  private readonly groupOf: Array<string | undefined>;
  readonly antiAffinity: boolean;

  constructor(
    cluster: Cluster,
    readonly policy: Policy,
  ) {
    this.hosts = cluster.hosts;
    const n = this.hosts.length;
    this.hosts.forEach((h, i) => this.hostIndex.set(h.id, i));
    this.vms = cluster.vms.filter((v) => v.host !== null && this.hostIndex.has(v.host));
    const m = this.vms.length;
    this.vmHost = new Int32Array(m);
    this.origHost = new Int32Array(m);
    this.vmPos = new Int32Array(m);
    this.freeCpu = new Float64Array(n);
    this.freeMem = new Float64Array(n);
    this.freeDisk = new Float64Array(n);
    this.freeLoad = new Float64Array(n);
    this.limitCpu = new Float64Array(n);
    this.limitMem = new Float64Array(n);
    this.dCpu = new Float64Array(m);
    this.dMem = new Float64Array(m);
    this.dDisk = new Float64Array(m);
    this.dLoad = new Float64Array(m);
    this.on = new Uint8Array(n);
    this.accepts = new Uint8Array(n);
    this.pinnedCount = new Int32Array(n);
    this.residents = Array.from({ length: n }, () => []);
    this.groups = new Array<Map<string, number> | undefined>(n);
    this.groupOf = new Array<string | undefined>(m);
    this.antiAffinity = policy.antiAffinity;
    const cap = policy.usage?.cpuCap;
    this.hosts.forEach((h, i) => {
      const limit = hostLimit(h, policy);
      this.freeCpu[i] = this.limitCpu[i] = limit.cpu;
      this.freeMem[i] = this.limitMem[i] = limit.memMiB;
      this.freeDisk[i] = limit.diskGiB;
      this.freeLoad[i] = cap === undefined ? Number.POSITIVE_INFINITY : h.capacity.cpu * cap;
      this.on[i] = h.state === 'on' ? 1 : 0;
      this.accepts[i] = h.state === 'on' && !h.exclude && !h.drain ? 1 : 0;
    });
    this.vms.forEach((v, j) => {
      this.dCpu[j] = v.demand.cpu;
      this.dMem[j] = v.demand.memMiB;
      this.dDisk[j] = v.demand.diskGiB;
      this.dLoad[j] = v.cpuLoadCores ?? v.demand.cpu;
      this.groupOf[j] = this.antiAffinity ? v.group : undefined;
      const h = this.hostIndex.get(v.host!)!;
      this.origHost[j] = h;
      if (v.pinned) this.pinnedCount[h]! += 1;
      this.attach(j, h);
    });
  }

  /** VM indices on host `h` (live view: copy before moving VMs while iterating). */
  residentsOf(h: number): readonly number[] {
    return this.residents[h]!;
  }

  /** Memory allocated on host `h`, MiB. */
  usedMem(h: number): number {
    return this.limitMem[h]! - this.freeMem[h]!;
  }

  /** True when VM `v` fits on host `h` leaving at least the given headroom in each dimension. */
  fits(v: number, h: number, headCpu = 0, headMem = 0, headDisk = 0): boolean {
    if (this.freeMem[h]! - this.dMem[v]! < headMem - 1e-9) return false;
    if (this.freeCpu[h]! - this.dCpu[v]! < headCpu - 1e-9) return false;
    if (this.freeDisk[h]! - this.dDisk[v]! < headDisk - 1e-9) return false;
    if (this.freeLoad[h]! - this.dLoad[v]! < -1e-9) return false;
    const g = this.groupOf[v];
    return g === undefined || !(this.groups[h]?.get(g) ?? 0);
  }

  /** VMs of VM `v`'s anti-affinity group on host `h` (0 when it has none or anti-affinity is off). */
  groupmatesOn(v: number, h: number): number {
    const g = this.groupOf[v];
    return g === undefined ? 0 : (this.groups[h]?.get(g) ?? 0);
  }

  /** True when VM `v` would fit on host `h` (with the headroom) once VM `w` has left it. */
  fitsWithout(v: number, w: number, h: number, headCpu = 0, headMem = 0, headDisk = 0): boolean {
    if (this.freeMem[h]! + this.dMem[w]! - this.dMem[v]! < headMem - 1e-9) return false;
    if (this.freeCpu[h]! + this.dCpu[w]! - this.dCpu[v]! < headCpu - 1e-9) return false;
    if (this.freeDisk[h]! + this.dDisk[w]! - this.dDisk[v]! < headDisk - 1e-9) return false;
    if (this.freeLoad[h]! + this.dLoad[w]! - this.dLoad[v]! < -1e-9) return false;
    const mates = this.groupmatesOn(v, h);
    return mates === 0 || (mates === 1 && this.groupOf[w] === this.groupOf[v]);
  }

  /** Moves VM `v` to host `h` (bookkeeping only). */
  move(v: number, h: number): void {
    this.detach(v, this.vmHost[v]!);
    this.attach(v, h);
  }

  /** Standard instances host `h` can accept now (model/capacity standardFit). */
  fit(h: number): number {
    const std = this.policy.standard;
    let fit = Number.POSITIVE_INFINITY;
    if (std.cpu > 0) fit = Math.min(fit, Math.floor(this.freeCpu[h]! / std.cpu + 1e-9));
    if (std.memMiB > 0) fit = Math.min(fit, Math.floor(this.freeMem[h]! / std.memMiB + 1e-9));
    if (std.diskGiB > 0) fit = Math.min(fit, Math.floor(this.freeDisk[h]! / std.diskGiB + 1e-9));
    return Number.isFinite(fit) ? Math.max(0, fit) : 0;
  }

  /** True when host `h` has at least the probe's room in every dimension (per_host metric). */
  takesProbe(h: number, probeCpu: number, probeMem: number, probeDisk: number): boolean {
    return (
      this.freeCpu[h]! >= probeCpu - 1e-9 &&
      this.freeMem[h]! >= probeMem - 1e-9 &&
      this.freeDisk[h]! >= probeDisk - 1e-9
    );
  }

  /** Target placement: VM id -> host id for every VM that ends on another host than it started. */
  movedVms(): Map<string, string> {
    const target = new Map<string, string>();
    this.vms.forEach((v, j) => {
      if (this.vmHost[j] !== this.origHost[j]) target.set(v.id, this.hosts[this.vmHost[j]!]!.id);
    });
    return target;
  }

  private attach(v: number, h: number): void {
    this.freeCpu[h]! -= this.dCpu[v]!;
    this.freeMem[h]! -= this.dMem[v]!;
    this.freeDisk[h]! -= this.dDisk[v]!;
    this.freeLoad[h]! -= this.dLoad[v]!;
    const list = this.residents[h]!;
    this.vmPos[v] = list.length;
    list.push(v);
    this.vmHost[v] = h;
    const g = this.groupOf[v];
    if (g !== undefined) {
      const map = (this.groups[h] ??= new Map());
      map.set(g, (map.get(g) ?? 0) + 1);
    }
  }

  private detach(v: number, h: number): void {
    this.freeCpu[h]! += this.dCpu[v]!;
    this.freeMem[h]! += this.dMem[v]!;
    this.freeDisk[h]! += this.dDisk[v]!;
    this.freeLoad[h]! += this.dLoad[v]!;
    const list = this.residents[h]!;
    const pos = this.vmPos[v]!;
    const last = list.pop()!;
    if (last !== v) {
      list[pos] = last;
      this.vmPos[last] = pos;
    }
    const g = this.groupOf[v];
    if (g !== undefined) {
      const map = this.groups[h]!;
      const n = map.get(g)! - 1;
      if (n === 0) map.delete(g);
      else map.set(g, n);
    }
  }
}
