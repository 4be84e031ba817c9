/** Plain data returned by the libvirt binding (the same shapes from the koffi and the virsh backends). */

/** `virDomainState` as a name. */
export type DomainStateName =
  'nostate' | 'running' | 'blocked' | 'paused' | 'shutdown' | 'shutoff' | 'crashed' | 'pmsuspended';

export const DOMAIN_STATES: readonly DomainStateName[] = [
  'nostate',
  'running',
  'blocked',
  'paused',
  'shutdown',
  'shutoff',
  'crashed',
  'pmsuspended',
];

/** `virNodeInfo`: memory in KiB; `cpus` counts hardware threads of all NUMA nodes. */
export interface NodeInfo {
  readonly model: string;
  readonly memoryKiB: number;
  readonly cpus: number;
  readonly mhz: number;
  readonly nodes: number;
  readonly sockets: number;
  readonly cores: number;
  readonly threads: number;
}

/** `virNodeGetMemoryStats` over all cells, KiB (keys as libvirt names them: total, free, buffers, cached). */
export type NodeMemoryStats = Readonly<Record<string, number>>;

/** `virDomainGetInfo` plus name, UUID and persistence. */
export interface DomainInfo {
  readonly name: string;
  readonly uuid: string;
  readonly state: DomainStateName;
  readonly maxMemKiB: number;
  readonly memKiB: number;
  readonly vcpus: number;
  /** Cumulative CPU time of the domain, ns (a Number: sub-microsecond precision is lost above 2^53 ns). */
  readonly cpuTimeNs: number;
  readonly persistent: boolean;
}

/** `virStoragePoolGetInfo` of an active pool, bytes. */
export interface StoragePoolInfo {
  readonly name: string;
  readonly capacityBytes: number;
  readonly allocationBytes: number;
  readonly availableBytes: number;
}

/** A typed-parameter value: numbers for every numeric type, strings for strings, booleans as 0/1. */
export type TypedValue = number | string;

/** One record of `virConnectGetAllDomainStats` (e.g. `cpu.time`, `balloon.rss`, `block.0.capacity`). */
export interface DomainStats {
  readonly name: string;
  readonly stats: Readonly<Record<string, TypedValue>>;
}

/** Stats groups of `virConnectGetAllDomainStats` (`virDomainStatsTypes`). */
export const STATS = {
  STATE: 1,
  CPU_TOTAL: 2,
  BALLOON: 4,
  VCPU: 8,
  INTERFACE: 16,
  BLOCK: 32,
  PERF: 64,
  IOTHREAD: 128,
  MEMORY: 256,
  DIRTYRATE: 512,
  VM: 1024,
} as const;

/** `virDomainMigrateFlags` used here. */
export const MIGRATE = {
  LIVE: 1,
  PEER2PEER: 2,
  TUNNELLED: 4,
  PERSIST_DEST: 8,
  UNDEFINE_SOURCE: 16,
  ABORT_ON_ERROR: 4096,
  AUTO_CONVERGE: 8192,
} as const;

/** Typed parameters of `virDomainMigrateToURI3` this project sets. */
export interface MigrateParams {
  /** `VIR_MIGRATE_PARAM_BANDWIDTH`, MiB/s; 0 or absent = unlimited. */
  readonly bandwidthMiBps?: number;
  /** `VIR_MIGRATE_PARAM_URI`: where QEMU sends the memory (e.g. `tcp://10.0.0.2`). */
  readonly migrateUri?: string;
  /** `VIR_MIGRATE_PARAM_LISTEN_ADDRESS` at the destination. */
  readonly listenAddress?: string;
}

/** `virDomainGetJobStats` of the running job: `type` 0 = none; `stats` keys as libvirt names them (data_total, ...). */
export interface JobStats {
  readonly type: number;
  readonly stats: Readonly<Record<string, TypedValue>>;
}

/**
 * One libvirt connection. Two backends implement it: the koffi binding (default, a worker thread per
 * connection) and `virsh` subprocesses (fallback where no libvirt client library is present).
 */
export interface LibvirtConnection {
  readonly uri: string;
  /** True once closed or dropped (a call timed out, the worker died, the caller aborted). */
  readonly closed: boolean;
  nodeInfo(): Promise<NodeInfo>;
  /** Whole-machine memory statistics, or null when the driver does not support them (test:///). */
  nodeMemoryStats(): Promise<NodeMemoryStats | null>;
  hostname(): Promise<string>;
  /** Active storage pools (shared pools show up on every host that mounts them). */
  storagePools(): Promise<StoragePoolInfo[]>;
  /** Every domain, active or not. */
  listDomains(): Promise<DomainInfo[]>;
  /** `virConnectGetAllDomainStats` with the given groups (0 = libvirt's defaults) for all domains. */
  allDomainStats(groups: number): Promise<DomainStats[]>;
  /** The domain's state, or null when no such domain exists here. */
  domainState(name: string): Promise<DomainStateName | null>;
  /** Starts a page-sampling dirty-rate measurement (never bitmap/ring modes: they crash TCG guests). */
  startDirtyRateCalc(name: string, seconds: number): Promise<void>;
  /** `virDomainMigrateToURI3` (blocks this connection until the migration ends). */
  migrateToUri3(name: string, destUri: string, params: MigrateParams, flags: number): Promise<void>;
  setMaxDowntime(name: string, downtimeMs: number): Promise<void>;
  getMaxDowntime(name: string): Promise<number>;
  jobStats(name: string): Promise<JobStats>;
  abortJob(name: string): Promise<void>;
  defineXml(xml: string): Promise<string>;
  start(name: string): Promise<void>;
  destroy(name: string): Promise<void>;
  undefine(name: string): Promise<void>;
  close(): Promise<void>;
}
