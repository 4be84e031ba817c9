import type { Resources } from './resources.js';

/**
 * Power/availability state of a host as virt-squeeze sees it.
 * - `on`: powered and reachable; may run VMs.
 * - `standby`: powered down by virt-squeeze (or tagged by an admin); may be woken.
 * - `off`: powered down and not ours to wake.
 * - `unknown`: unreachable or answered garbage: never emptied, filled or powered off.
 */
export type HostState = 'on' | 'standby' | 'off' | 'unknown';

/** A physical host. Capacity is before overcommit; `reserved` is taken by the host OS after overcommit. */
export interface Host {
  readonly id: string;
  /** Hardware threads, memory MiB and disk GiB available to VMs. */
  readonly capacity: Resources;
  /** Held by the host itself (e.g. Ganeti's node-OS memory and vCPUs); subtracted after overcommit. */
  readonly reserved: Resources;
  readonly state: HostState;
  /** Never powered down and never given VMs by virt-squeeze. */
  readonly exclude: boolean;
  /**
   * Never powered down, but may receive VMs (e.g. Ganeti's master node, which hsqueeze never powers
   * off yet does fill). `exclude` implies it.
   */
  readonly keepOn: boolean;
  /** Must be evacuated; receives nothing. */
  readonly drain: boolean;
  /** Power draw with no load, watts (linear power model). */
  readonly idleWatts?: number;
  /** Power draw at 100 % CPU, watts. */
  readonly maxWatts?: number;
  readonly rack?: string;
  readonly powerDomain?: string;
  /** Free-form tags, e.g. `wake-failed` (quarantine) or Ganeti node tags. */
  readonly tags: readonly string[];
}

/** A virtual machine and its allocation. */
export interface Vm {
  readonly id: string;
  /** Allocation: vCPUs, memory MiB (what a live migration copies), disk GiB. */
  readonly demand: Resources;
  /** Current host id; null for an unplaced VM. */
  readonly host: string | null;
  /** Never moved. */
  readonly pinned: boolean;
  /** Anti-affinity group: VMs of one group must run on distinct hosts (when the policy enables it). */
  readonly group?: string;
  /** Observed CPU load in cores (e.g. the 95th percentile over a look-back window), for usage-aware packing. */
  readonly cpuLoadCores?: number;
  /** Observed memory in use, MiB. */
  readonly memUsedMiB?: number;
  /** Page dirty rate, MiB/s, when known: drives migration time and convergence estimates. */
  readonly dirtyRateMiBps?: number;
}

/** A snapshot of the cluster: hosts, VMs and where each VM runs. Immutable by convention. */
export interface Cluster {
  readonly hosts: readonly Host[];
  readonly vms: readonly Vm[];
  /** Where the snapshot came from, for reports (`file:demo-cluster.json`, `libvirt`). */
  readonly source: string;
}

/** A host id -> VM ids index of the current placement. */
export function vmsByHost(cluster: Cluster): Map<string, Vm[]> {
  const byHost = new Map<string, Vm[]>();
  for (const h of cluster.hosts) byHost.set(h.id, []);
  for (const vm of cluster.vms) {
    if (vm.host === null) continue;
    const list = byHost.get(vm.host);
    if (list) list.push(vm);
    else byHost.set(vm.host, [vm]);
  }
  return byHost;
}
