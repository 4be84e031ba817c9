import type { Cluster, Host, Vm } from './cluster.js';
import type { Policy } from './policy.js';
import { DIMENSIONS, type Resources, add, scale, sub, ZERO } from './resources.js';

/** Allocation a host may carry: capacity x overcommit - reserved. */
export function hostLimit(host: Host, policy: Policy): Resources {
  return sub(scale(host.capacity, policy.overcommit), host.reserved);
}

/** True when a host takes part in the capacity metric and may run VMs: powered, reachable. */
export function isOnline(host: Host): boolean {
  return host.state === 'on';
}

/** True when virt-squeeze may place VMs on the host. */
export function acceptsVms(host: Host): boolean {
  return host.state === 'on' && !host.exclude && !host.drain;
}

/**
 * Standard instances that fit in `free`: min over dimensions of floor(free / std).
 * Dimensions where the standard instance asks for nothing are ignored. Never negative.
 */
export function standardFit(free: Resources, standard: Resources): number {
  let fit = Number.POSITIVE_INFINITY;
  for (const d of DIMENSIONS) {
    if (standard[d] <= 0) continue;
    fit = Math.min(fit, Math.floor(free[d] / standard[d] + 1e-9));
  }
  return Number.isFinite(fit) ? Math.max(0, fit) : 0;
}

/** The per_host probe: floor(factor x std) per dimension, as Ganeti's hsqueeze builds it. */
export function probe(standard: Resources, factor: number): Resources {
  return {
    cpu: Math.floor(factor * standard.cpu),
    memMiB: Math.floor(factor * standard.memMiB),
    diskGiB: Math.floor(factor * standard.diskGiB),
  };
}

/** Sum of the allocation of `vms` (by demand). */
export function totalDemand(vms: readonly Vm[]): Resources {
  let sum = ZERO;
  for (const vm of vms) sum = add(sum, vm.demand);
  return sum;
}

/**
 * Mutable bookkeeping of a placement: per-host used allocation, CPU load and anti-affinity groups.
 * Shared by checkPlan's replay and the planners; O(1) per move.
 */
export class Occupancy {
  readonly hostById = new Map<string, Host>();
  readonly vmById = new Map<string, Vm>();
  /** vm id -> host id (current placement). */
  readonly placement = new Map<string, string>();
  private readonly used = new Map<
    string,
    { cpu: number; memMiB: number; diskGiB: number; loadCores: number }
  >();
  private readonly groups = new Map<string, Map<string, number>>();
  private readonly residents = new Map<string, Set<string>>();

  constructor(
    cluster: Cluster,
    readonly policy: Policy,
  ) {
    for (const h of cluster.hosts) {
      this.hostById.set(h.id, h);
      this.used.set(h.id, { cpu: 0, memMiB: 0, diskGiB: 0, loadCores: 0 });
      this.groups.set(h.id, new Map());
      this.residents.set(h.id, new Set());
    }
    for (const vm of cluster.vms) {
      this.vmById.set(vm.id, vm);
      if (vm.host !== null && this.hostById.has(vm.host)) this.place(vm, vm.host);
    }
  }

  /** Count `vm` on `hostId` (also used for the destination side of an in-flight migration). */
  place(vm: Vm, hostId: string): void {
    this.adjust(vm, hostId, +1);
    this.residents.get(hostId)!.add(vm.id);
    this.placement.set(vm.id, hostId);
  }

  /** Stop counting `vm` on `hostId`. */
  unplace(vm: Vm, hostId: string): void {
    this.adjust(vm, hostId, -1);
    this.residents.get(hostId)!.delete(vm.id);
    if (this.placement.get(vm.id) === hostId) this.placement.delete(vm.id);
  }

  private adjust(vm: Vm, hostId: string, sign: 1 | -1): void {
    const u = this.used.get(hostId);
    if (!u) throw new Error(`unknown host ${hostId}`);
    u.cpu += sign * vm.demand.cpu;
    u.memMiB += sign * vm.demand.memMiB;
    u.diskGiB += sign * vm.demand.diskGiB;
    u.loadCores += sign * (vm.cpuLoadCores ?? vm.demand.cpu);
    if (vm.group !== undefined) {
      const g = this.groups.get(hostId)!;
      const n = (g.get(vm.group) ?? 0) + sign;
      if (n === 0) g.delete(vm.group);
      else g.set(vm.group, n);
    }
  }

  usedOn(hostId: string): Resources {
    const u = this.used.get(hostId);
    return u ? { cpu: u.cpu, memMiB: u.memMiB, diskGiB: u.diskGiB } : ZERO;
  }

  /** Observed CPU load on the host in cores (allocation where no usage is known). */
  loadOn(hostId: string): number {
    return this.used.get(hostId)?.loadCores ?? 0;
  }

  /** VM ids counted on the host (residents, plus incoming ones during a wave replay). */
  vmsOn(hostId: string): ReadonlySet<string> {
    return this.residents.get(hostId) ?? new Set();
  }

  /** How many VMs of `group` are counted on the host. */
  groupCount(hostId: string, group: string): number {
    return this.groups.get(hostId)?.get(group) ?? 0;
  }

  freeOn(hostId: string): Resources {
    return sub(hostLimit(this.hostById.get(hostId)!, this.policy), this.usedOn(hostId));
  }

  /** True when the host's counted allocation (and load, when usage-aware) is within its limits. */
  withinLimits(hostId: string): boolean {
    const free = this.freeOn(hostId);
    if (free.cpu < 0 || free.memMiB < 0 || free.diskGiB < 0) return false;
    return !this.overLoadCap(hostId);
  }

  /** True when usage-aware packing is on and the host's observed CPU load exceeds its cap. */
  overLoadCap(hostId: string): boolean {
    const cap = this.policy.usage?.cpuCap;
    if (cap === undefined) return false;
    return this.loadOn(hostId) > this.hostById.get(hostId)!.capacity.cpu * cap + 1e-9;
  }

  /** True when `vm` could be added to the host now: resources, load cap and anti-affinity. */
  canAccept(vm: Vm, hostId: string): boolean {
    const free = this.freeOn(hostId);
    const d = vm.demand;
    if (d.cpu > free.cpu || d.memMiB > free.memMiB || d.diskGiB > free.diskGiB) return false;
    const cap = this.policy.usage?.cpuCap;
    if (cap !== undefined) {
      const load = this.loadOn(hostId) + (vm.cpuLoadCores ?? d.cpu);
      if (load > this.hostById.get(hostId)!.capacity.cpu * cap + 1e-9) return false;
    }
    return !(this.policy.antiAffinity && vm.group !== undefined && this.groupCount(hostId, vm.group) > 0);
  }
}
