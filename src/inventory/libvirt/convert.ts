/**
 * Turns what libvirt reports for one host into model Hosts and VMs (no I/O). Rejects implausible answers
 * ("garbage") with a GarbageError naming the field, so the host is marked unknown rather than trusted.
 */
import type { Host, Vm } from '../../model/cluster.js';
import { ZERO } from '../../model/resources.js';
import type { UsageSample } from '../../state/types.js';
import type {
  DomainInfo,
  DomainStats,
  NodeInfo,
  NodeMemoryStats,
  StoragePoolInfo,
} from '../../libvirt/types.js';

/** One configured libvirt host (from the config's `hosts:`). */
export interface LibvirtHostConfig {
  readonly id: string;
  readonly uri: string;
  readonly idleWatts?: number;
  readonly maxWatts?: number;
  readonly exclude?: boolean;
  readonly drain?: boolean;
}

/** Everything read from one host in one inventory run. */
export interface HostReading {
  readonly node: NodeInfo;
  readonly memory: NodeMemoryStats | null;
  readonly pools: readonly StoragePoolInfo[];
  readonly domains: readonly DomainInfo[];
  readonly stats: ReadonlyMap<string, DomainStats['stats']>;
  /** Latest cumulative CPU-time sample per running domain (saved for the next run). */
  readonly samples: readonly UsageSample[];
  /** CPU load per running domain, cores, where two usable samples existed. */
  readonly loadCores: ReadonlyMap<string, number>;
}

export class GarbageError extends Error {}

const KIB_PER_MIB = 1024;
const BYTES_PER_GIB = 1024 ** 3;

function positiveInt(v: number, what: string): number {
  if (!Number.isInteger(v) || v <= 0) throw new GarbageError(`${what} = ${v}, expected a positive integer`);
  return v;
}

function finiteNonNegative(v: number, what: string): number {
  if (!Number.isFinite(v) || v < 0) throw new GarbageError(`${what} = ${v}, expected a finite number >= 0`);
  return v;
}

/**
 * Host capacity: hardware threads from node info; memory from the whole-machine memory statistics when the
 * driver has them (node info can cover only part of the machine, recipe pitfall 5), else node info;
 * disk from the active storage pools (shared pools count on every host that mounts them).
 */
export function toHost(cfg: LibvirtHostConfig, r: HostReading): Host {
  const cpu = positiveInt(r.node.cpus, 'node cpus');
  const totalKiB = r.memory?.['total'] ?? r.node.memoryKiB;
  const memKiB = positiveInt(totalKiB, 'node memory KiB');
  const poolBytes = r.pools.reduce(
    (s, p) => s + finiteNonNegative(p.capacityBytes, `pool ${p.name} capacity`),
    0,
  );
  return {
    ...baseHost(cfg),
    capacity: { cpu, memMiB: Math.floor(memKiB / KIB_PER_MIB), diskGiB: poolBytes / BYTES_PER_GIB },
    state: 'on',
  };
}

/** A host that could not be read: state unknown, no capacity, never emptied, filled or powered off. */
export function unknownHost(cfg: LibvirtHostConfig): Host {
  return { ...baseHost(cfg), capacity: ZERO, state: 'unknown' };
}

function baseHost(cfg: LibvirtHostConfig): Omit<Host, 'capacity' | 'state'> {
  return {
    id: cfg.id,
    reserved: ZERO,
    exclude: cfg.exclude ?? false,
    keepOn: cfg.exclude ?? false,
    drain: cfg.drain ?? false,
    ...(cfg.idleWatts !== undefined && { idleWatts: cfg.idleWatts }),
    ...(cfg.maxWatts !== undefined && { maxWatts: cfg.maxWatts }),
    tags: [],
  };
}

/** Domains that can be live-migrated; others (shut off, crashed, suspended to disk) stay where they are defined. */
export function isLive(d: DomainInfo): boolean {
  return d.state === 'running' || d.state === 'paused' || d.state === 'blocked';
}

function num(stats: DomainStats['stats'] | undefined, key: string): number | undefined {
  const v = stats?.[key];
  return typeof v === 'number' ? v : undefined;
}

/** Sum of `block.N.capacity` (bytes) over the domain's disks, GiB. */
function diskGiB(stats: DomainStats['stats'] | undefined, name: string): number {
  const count = num(stats, 'block.count') ?? 0;
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    bytes += finiteNonNegative(num(stats, `block.${i}.capacity`) ?? 0, `${name} block.${i}.capacity`);
  }
  return bytes / BYTES_PER_GIB;
}

/** `dirtyrate.megabytes_per_second` of a finished page-sampling measurement (calc_status 2), MiB/s. */
function dirtyRate(stats: DomainStats['stats'] | undefined): number | undefined {
  if (num(stats, 'dirtyrate.calc_status') !== 2) return undefined;
  return num(stats, 'dirtyrate.megabytes_per_second');
}

/**
 * One domain as a model VM. Demand: current vCPUs; memory = the balloon MAXIMUM (what the guest may use
 * and what the destination must be able to hold; the balloon's current size can grow back at any time);
 * disk = the sum of its block devices' capacity. Observed use: memory from `balloon.rss` (QEMU's resident
 * memory), CPU from cpu.time deltas. Domains that are not running are pinned: they cannot be live-migrated,
 * and they keep their host from being emptied and powered off (DESIGN.md 5.1).
 */
export function toVm(hostId: string, d: DomainInfo, r: HostReading, id: string): Vm {
  const stats = r.stats.get(d.name);
  const vcpus = positiveInt(num(stats, 'vcpu.current') ?? d.vcpus, `${d.name} vcpus`);
  const maxKiB = positiveInt(num(stats, 'balloon.maximum') ?? d.maxMemKiB, `${d.name} max memory KiB`);
  const rssKiB = num(stats, 'balloon.rss');
  const load = r.loadCores.get(d.name);
  const dirty = dirtyRate(stats);
  return {
    id,
    demand: { cpu: vcpus, memMiB: Math.ceil(maxKiB / KIB_PER_MIB), diskGiB: diskGiB(stats, d.name) },
    host: hostId,
    pinned: !isLive(d),
    ...(load !== undefined && { cpuLoadCores: load }),
    ...(rssKiB !== undefined && {
      memUsedMiB: finiteNonNegative(rssKiB, `${d.name} balloon.rss`) / KIB_PER_MIB,
    }),
    ...(dirty !== undefined && { dirtyRateMiBps: finiteNonNegative(dirty, `${d.name} dirty rate`) }),
  };
}

/**
 * CPU load in cores between two cumulative samples; undefined when they cannot be compared (no earlier
 * sample, clock not advancing, or the counter went back: a new QEMU process after a migration or restart).
 */
export function cpuLoadCores(
  prev: { atMs: number; cpuTimeNs: number } | undefined,
  cur: { atMs: number; cpuTimeNs: number },
): number | undefined {
  if (prev === undefined || cur.atMs <= prev.atMs || cur.cpuTimeNs < prev.cpuTimeNs) return undefined;
  return (cur.cpuTimeNs - prev.cpuTimeNs) / ((cur.atMs - prev.atMs) * 1e6);
}
