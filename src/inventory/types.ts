import type { Cluster } from '../model/cluster.js';
import type { Policy } from '../model/policy.js';

/** Hints a cluster source carries about its own constraint model (a scenario's `policy`, Ganeti's ipolicy). */
export interface SourceHints {
  readonly overcommit?: Partial<Policy['overcommit']>;
  readonly standard?: Policy['standard'];
  readonly antiAffinity?: boolean;
  /** The source's own decision defaults, e.g. Ganeti's (GANETI_DEFAULT_HINTS in src/config/defaults.ts). */
  readonly thresholds?: Partial<Policy['thresholds']>;
  readonly safety?: Partial<Policy['safety']>;
}

/** What an inventory read returns: the snapshot, its hints, and warnings for the report (e.g. unknown hosts). */
export interface InventoryResult {
  readonly cluster: Cluster;
  readonly hints: SourceHints;
  readonly warnings: readonly string[];
}

/** A source of cluster snapshots: a cluster file, or live libvirt hosts. */
export interface Inventory {
  read(signal?: AbortSignal): Promise<InventoryResult>;
}

/** A fresh look at one host right before a power action (DESIGN.md 5.1, 5.7). */
export interface HostProbe {
  /** Domains defined or running on the host (any state); throws BackendError when unreachable. */
  domainCount(hostId: string, signal?: AbortSignal): Promise<number>;
  /** Capacity the host reports (libvirt answers), or throws BackendError. */
  capacity(hostId: string, signal?: AbortSignal): Promise<import('../model/resources.js').Resources>;
}
