/**
 * Live inventory through libvirt: every configured host is read in parallel (bounded concurrency, a time
 * limit per host). A host that cannot be reached, times out or answers garbage is `unknown`: it is kept in
 * the snapshot without VMs so that nothing is planned on, off or onto it, and the report says why.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { BackendError } from '../../errors.js';
import { koffiConnector, type Connector } from '../../libvirt/connection.js';
import { LibvirtError, redactUri, VIR_ERR } from '../../libvirt/errors.js';
import { STATS, type DomainStats, type LibvirtConnection } from '../../libvirt/types.js';
import type { Host, Vm } from '../../model/cluster.js';
import type { Resources } from '../../model/resources.js';
import type { StateStore, UsageSample } from '../../state/types.js';
import type { HostProbe, Inventory, InventoryResult } from '../types.js';
import {
  cpuLoadCores,
  GarbageError,
  isLive,
  toHost,
  toVm,
  unknownHost,
  type HostReading,
  type LibvirtHostConfig,
} from './convert.js';

export { type LibvirtHostConfig } from './convert.js';

export { koffiConnector, type Connector } from '../../libvirt/connection.js';

export interface LibvirtInventoryOptions {
  /** Hosts read at the same time. */
  readonly concurrency: number;
  /** Time limit for one host, ms, including the in-run CPU sampling interval. */
  readonly perHostTimeoutMs: number;
  /** In-run interval between two CPU-time samples when the store has no usable earlier one, ms (0 = none). */
  readonly sampleIntervalMs: number;
  readonly usageStore?: Pick<StateStore, 'usageSamples' | 'saveUsageSamples'>;
  /** Earlier samples older than this are not used, ms. Default 1 h. */
  readonly maxSampleAgeMs?: number;
  /**
   * Page-sampling dirty-rate measurement started on every running domain, s (0 = off). Default 1. Its
   * result is read by the in-run sample when that lasts long enough, otherwise by the next run.
   */
  readonly dirtyRateSeconds?: number;
  readonly connect?: Connector;
  readonly now?: () => number;
}

const READ_GROUPS =
  STATS.STATE | STATS.CPU_TOTAL | STATS.BALLOON | STATS.VCPU | STATS.BLOCK | STATS.DIRTYRATE;

/** Live inventory of libvirt hosts. */
export class LibvirtInventory implements Inventory {
  private readonly connect: Connector;
  private readonly now: () => number;

  constructor(
    private readonly hosts: readonly LibvirtHostConfig[],
    private readonly opts: LibvirtInventoryOptions,
  ) {
    this.connect = opts.connect ?? koffiConnector;
    this.now = opts.now ?? Date.now;
  }

  async read(signal?: AbortSignal): Promise<InventoryResult> {
    const results = await mapLimit(this.hosts, Math.max(1, this.opts.concurrency), (h) =>
      this.readOne(h, signal),
    );
    signal?.throwIfAborted();
    const warnings: string[] = [];
    const hosts: Host[] = [];
    const readings: Array<[LibvirtHostConfig, HostReading]> = [];
    results.forEach((r, i) => {
      const cfg = this.hosts[i]!;
      if (r.ok) {
        hosts.push(r.host);
        readings.push([cfg, r.reading]);
      } else {
        hosts.push(unknownHost(cfg));
        warnings.push(
          `host ${cfg.id} (${redactUri(cfg.uri)}) is unknown: ${r.error}; it will not be emptied, filled or powered off`,
        );
      }
    });
    const vms = assembleVms(readings, warnings);
    this.saveSamples(
      readings.flatMap(([, r]) => r.samples),
      warnings,
    );
    return { cluster: { hosts, vms, source: 'libvirt' }, hints: {}, warnings };
  }

  private async readOne(
    cfg: LibvirtHostConfig,
    outer: AbortSignal | undefined,
  ): Promise<{ ok: true; host: Host; reading: HostReading } | { ok: false; error: string }> {
    const timeout = AbortSignal.timeout(this.opts.perHostTimeoutMs);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    try {
      const reading = await this.readHost(cfg, signal);
      return { ok: true, host: toHost(cfg, reading), reading };
    } catch (e) {
      if (timeout.aborted) return { ok: false, error: `no answer within ${this.opts.perHostTimeoutMs} ms` };
      if (e instanceof LibvirtError) return { ok: false, error: e.libvirtMessage };
      if (e instanceof GarbageError) return { ok: false, error: `implausible answer: ${e.message}` };
      return { ok: false, error: e instanceof Error ? e.message : String(e) };
    }
  }

  private async readHost(cfg: LibvirtHostConfig, signal: AbortSignal): Promise<HostReading> {
    const t = this.opts.perHostTimeoutMs;
    const conn = await this.connect(cfg.uri, { openTimeoutMs: t, callTimeoutMs: t, signal });
    try {
      const node = await conn.nodeInfo();
      const memory = await conn.nodeMemoryStats();
      const pools = await unlessUnsupported(conn.storagePools(), []);
      // The CPU-time sample is taken with the domain list: stamp it right after that call.
      let domains = await conn.listDomains();
      let atMs = this.now();
      const stats = new Map((await conn.allDomainStats(READ_GROUPS)).map((s) => [s.name, s.stats] as const));
      const running = domains.filter(isLive);
      const prev = this.previousSamples(cfg.id, atMs);
      const loadCores = new Map<string, number>();
      const sampleLoads = (): void => {
        for (const d of domains.filter(isLive)) {
          const load = cpuLoadCores(prev.get(d.name), { atMs, cpuTimeNs: d.cpuTimeNs });
          if (load !== undefined) loadCores.set(d.name, load);
        }
      };
      sampleLoads();
      const dirtyStarted = await this.startDirtyRate(
        conn,
        running.map((d) => d.name),
      );
      if (this.opts.sampleIntervalMs > 0 && running.some((d) => !loadCores.has(d.name))) {
        // No usable earlier sample for some VMs: take a short in-run interval.
        for (const d of running)
          if (!loadCores.has(d.name)) prev.set(d.name, { atMs, cpuTimeNs: d.cpuTimeNs });
        await sleep(this.opts.sampleIntervalMs, undefined, { signal });
        domains = await conn.listDomains();
        atMs = this.now();
        sampleLoads();
        if (dirtyStarted && this.opts.sampleIntervalMs >= this.dirtyRateSeconds() * 1000) {
          mergeStats(stats, await conn.allDomainStats(STATS.DIRTYRATE));
        }
      }
      const samples = domains
        .filter(isLive)
        .map((d): UsageSample => ({ host: cfg.id, vm: d.name, atMs, cpuTimeNs: d.cpuTimeNs }));
      return { node, memory, pools, domains, stats, samples, loadCores };
    } finally {
      await conn.close().catch(() => undefined);
    }
  }

  private dirtyRateSeconds(): number {
    return this.opts.dirtyRateSeconds ?? 1;
  }

  /** Starts a page-sampling dirty-rate measurement on each domain; false when the driver has none. */
  private async startDirtyRate(conn: LibvirtConnection, names: readonly string[]): Promise<boolean> {
    const seconds = this.dirtyRateSeconds();
    if (seconds <= 0 || names.length === 0) return false;
    let started = false;
    for (const name of names) {
      // Best effort: an older QEMU, a domain that just stopped, or the test driver cannot measure.
      started =
        (await conn.startDirtyRateCalc(name, seconds).then(
          () => true,
          () => false,
        )) || started;
    }
    return started;
  }

  private previousSamples(hostId: string, nowMs: number): Map<string, { atMs: number; cpuTimeNs: number }> {
    const maxAgeMs = this.opts.maxSampleAgeMs ?? 3_600_000;
    const out = new Map<string, { atMs: number; cpuTimeNs: number }>();
    for (const s of this.opts.usageStore?.usageSamples(hostId) ?? []) {
      if (nowMs - s.atMs <= maxAgeMs) out.set(s.vm, s);
    }
    return out;
  }

  private saveSamples(samples: readonly UsageSample[], warnings: string[]): void {
    if (this.opts.usageStore === undefined || samples.length === 0) return;
    try {
      this.opts.usageStore.saveUsageSamples(samples);
    } catch (e) {
      warnings.push(`usage samples not saved: ${e instanceof Error ? e.message : String(e)}`);
    }
  }
}

function mergeStats(into: Map<string, DomainStats['stats']>, more: readonly DomainStats[]): void {
  for (const s of more) into.set(s.name, { ...into.get(s.name), ...s.stats });
}

async function unlessUnsupported<T>(p: Promise<T>, fallback: T): Promise<T> {
  try {
    return await p;
  } catch (e) {
    if (e instanceof LibvirtError && e.code === VIR_ERR.NO_SUPPORT) return fallback;
    throw e;
  }
}

/**
 * VMs of all readable hosts. VM ids are domain names; when one name shows up on several hosts (a stale
 * definition, or a migration caught half-way), a running copy keeps the name and every other copy becomes
 * a pinned `name@host`, with a warning.
 */
function assembleVms(readings: ReadonlyArray<[LibvirtHostConfig, HostReading]>, warnings: string[]): Vm[] {
  const all = readings.flatMap(([cfg, r]) => r.domains.map((d) => ({ cfg, r, d })));
  // Deterministic: running copies first, then hosts in configuration order, then names.
  const hostOrder = new Map(readings.map(([cfg], i) => [cfg.id, i]));
  all.sort(
    (x, y) =>
      Number(isLive(y.d)) - Number(isLive(x.d)) ||
      hostOrder.get(x.cfg.id)! - hostOrder.get(y.cfg.id)! ||
      x.d.name.localeCompare(y.d.name),
  );
  const taken = new Map<string, string>();
  const vms: Vm[] = [];
  for (const { cfg, r, d } of all) {
    const first = taken.get(d.name);
    if (first === undefined) {
      taken.set(d.name, cfg.id);
      vms.push(toVm(cfg.id, d, r, d.name));
      continue;
    }
    const id = `${d.name}@${cfg.id}`;
    warnings.push(
      `domain ${d.name} is defined on ${first} and ${cfg.id}; the copy on ${cfg.id} is kept as ${id}, pinned`,
    );
    vms.push({ ...toVm(cfg.id, d, r, id), pinned: true });
  }
  return vms;
}

/** Runs `fn` over `items` with at most `limit` at a time; results in input order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return out;
}

/** Fresh looks at single hosts right before power actions (DESIGN.md 5.1, 5.7). */
export class LibvirtHostProbe implements HostProbe {
  private readonly connect: Connector;

  constructor(
    private readonly hosts: readonly LibvirtHostConfig[],
    private readonly opts: { readonly timeoutMs: number; readonly connect?: Connector },
  ) {
    this.connect = opts.connect ?? koffiConnector;
  }

  /** Domains defined or running on the host, in any state. */
  domainCount(hostId: string, signal?: AbortSignal): Promise<number> {
    return this.withHost(hostId, signal, async (conn) => (await conn.listDomains()).length);
  }

  capacity(hostId: string, signal?: AbortSignal): Promise<Resources> {
    return this.withHost(hostId, signal, async (conn, cfg) => {
      const node = await conn.nodeInfo();
      const memory = await conn.nodeMemoryStats();
      const pools = await unlessUnsupported(conn.storagePools(), []);
      const empty = { domains: [], stats: new Map(), samples: [], loadCores: new Map() };
      return toHost(cfg, { node, memory, pools, ...empty }).capacity;
    });
  }

  private async withHost<T>(
    hostId: string,
    outer: AbortSignal | undefined,
    fn: (conn: LibvirtConnection, cfg: LibvirtHostConfig) => Promise<T>,
  ): Promise<T> {
    const cfg = this.hosts.find((h) => h.id === hostId);
    if (cfg === undefined) throw new BackendError(`host ${hostId} has no libvirt URI configured`);
    const timeout = AbortSignal.timeout(this.opts.timeoutMs);
    const signal = outer ? AbortSignal.any([outer, timeout]) : timeout;
    const t = this.opts.timeoutMs;
    try {
      const conn = await this.connect(cfg.uri, { openTimeoutMs: t, callTimeoutMs: t, signal });
      try {
        return await fn(conn, cfg);
      } finally {
        await conn.close().catch(() => undefined);
      }
    } catch (e) {
      if (e instanceof BackendError) throw e;
      throw new BackendError(`host ${hostId}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}
