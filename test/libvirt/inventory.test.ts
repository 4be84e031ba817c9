/** LibvirtInventory and LibvirtHostProbe against libvirt's test:/// driver with custom host XML files. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { BackendError } from '../../src/errors.js';
import { LibvirtHostProbe, LibvirtInventory } from '../../src/inventory/libvirt/index.js';
import { cpuLoadCores, GarbageError, toHost } from '../../src/inventory/libvirt/convert.js';
import type { UsageSample } from '../../src/state/types.js';
import { garbagePeer, hostUri } from './helpers.js';

class MemoryUsageStore {
  readonly saved: UsageSample[] = [];
  usageSamples(host: string): UsageSample[] {
    return this.saved.filter((s) => s.host === host);
  }
  saveUsageSamples(samples: readonly UsageSample[]): void {
    this.saved.push(...samples);
  }
}

const A = { id: 'a', uri: hostUri('host-a.xml'), idleWatts: 90, maxWatts: 300 };
const B = { id: 'b', uri: hostUri('host-b.xml'), exclude: true };
const opts = { concurrency: 2, perHostTimeoutMs: 20_000, sampleIntervalMs: 200 };

describe('LibvirtInventory on test:/// hosts', () => {
  it('reads capacity, domains and demands of every host', async () => {
    const { cluster, warnings } = await new LibvirtInventory([A, B], opts).read();
    expect(cluster.source).toBe('libvirt');
    expect(cluster.hosts).toEqual([
      expect.objectContaining({ id: 'a', state: 'on', capacity: { cpu: 16, memMiB: 32768, diskGiB: 0 } }),
      expect.objectContaining({
        id: 'b',
        state: 'on',
        exclude: true,
        keepOn: true,
        capacity: { cpu: 8, memMiB: 16384, diskGiB: 0 },
      }),
    ]);
    expect(cluster.hosts[0]).toMatchObject({ idleWatts: 90, maxWatts: 300, drain: false, exclude: false });
    const byId = new Map(cluster.vms.map((v) => [v.id, v]));
    // Memory demand is the maximum (4096), not the current balloon size (2048).
    expect(byId.get('vm-a1')).toMatchObject({
      host: 'a',
      pinned: false,
      demand: { cpu: 2, memMiB: 4096, diskGiB: 0 },
    });
    expect(byId.get('vm-a2')).toMatchObject({ host: 'a', demand: { cpu: 4, memMiB: 8192 } });
    expect(byId.get('vm-a3-off')).toMatchObject({
      host: 'a',
      pinned: true,
      demand: { cpu: 1, memMiB: 1024 },
    });
    expect(byId.get('vm-b1')).toMatchObject({ host: 'b', demand: { cpu: 1, memMiB: 2048 } });
    // The shut-off copy of vm-a1 on b is kept, pinned, under another id, and reported.
    expect(byId.get('vm-a1@b')).toMatchObject({ host: 'b', pinned: true });
    expect(warnings).toEqual([expect.stringMatching(/vm-a1 is defined on a and b/)]);
  });

  it('measures CPU load from an in-run interval, then from the stored samples of the previous run', async () => {
    // The test driver reports wall-clock time as every running domain's CPU time: one core each.
    const store = new MemoryUsageStore();
    const first = await new LibvirtInventory([A], { ...opts, usageStore: store }).read();
    const loads = first.cluster.vms.filter((v) => !v.pinned).map((v) => v.cpuLoadCores);
    expect(loads).toHaveLength(2);
    for (const l of loads) expect(l).toBeCloseTo(1, 0);
    expect(store.saved.map((s) => s.vm).sort()).toEqual(['vm-a1', 'vm-a2']);

    const t0 = Date.now();
    const second = await new LibvirtInventory([A], {
      ...opts,
      sampleIntervalMs: 10_000,
      usageStore: store,
    }).read();
    expect(Date.now() - t0).toBeLessThan(8_000);
    for (const v of second.cluster.vms.filter((x) => !x.pinned)) expect(v.cpuLoadCores).toBeCloseTo(1, 0);
  });

  it('leaves CPU load unknown without an earlier sample and without an in-run interval', async () => {
    const { cluster } = await new LibvirtInventory([A], { ...opts, sampleIntervalMs: 0 }).read();
    expect(cluster.vms.every((v) => v.cpuLoadCores === undefined)).toBe(true);
  });

  it('marks unreachable and garbage-answering hosts unknown, with a warning, and keeps reading the others', async () => {
    const peer = await garbagePeer();
    try {
      const hosts = [
        A,
        { id: 'missing', uri: hostUri('missing.xml') },
        { id: 'zero-cpus', uri: hostUri('host-garbage.xml') },
        { id: 'not-libvirt', uri: peer.uri },
      ];
      const { cluster, warnings } = await new LibvirtInventory(hosts, opts).read();
      expect(cluster.hosts.map((h) => [h.id, h.state])).toEqual([
        ['a', 'on'],
        ['missing', 'unknown'],
        ['zero-cpus', 'unknown'],
        ['not-libvirt', 'unknown'],
      ]);
      expect(cluster.vms.every((v) => v.host === 'a')).toBe(true);
      expect(warnings).toHaveLength(3);
      expect(warnings[1]).toMatch(/^host zero-cpus .* is unknown: implausible answer: node cpus = 0/);
      expect(warnings[2]).toMatch(
        /^host not-libvirt .* is unknown: .*(packet .* too large|client socket is closed)/,
      );
      for (const w of warnings) expect(w).toMatch(/will not be emptied, filled or powered off$/);
    } finally {
      await peer.close();
    }
  });

  it('stops at the caller signal', async () => {
    const ctl = new AbortController();
    ctl.abort();
    await expect(new LibvirtInventory([A], opts).read(ctl.signal)).rejects.toThrow();
  });
});

describe('LibvirtHostProbe on test:/// hosts', () => {
  const probe = new LibvirtHostProbe([A, { id: 'missing', uri: hostUri('missing.xml') }], {
    timeoutMs: 20_000,
  });

  it('counts every domain, running or not, and reads capacity', async () => {
    expect(await probe.domainCount('a')).toBe(3);
    expect(await probe.capacity('a')).toEqual({ cpu: 16, memMiB: 32768, diskGiB: 0 });
  });

  it('throws BackendError for an unreachable or unconfigured host', async () => {
    await expect(probe.domainCount('missing')).rejects.toBeInstanceOf(BackendError);
    await expect(probe.capacity('nope')).rejects.toThrow(/nope has no libvirt URI/);
  });
});

describe('conversion rules', () => {
  it('computes CPU load only from comparable samples', () => {
    expect(cpuLoadCores({ atMs: 0, cpuTimeNs: 0 }, { atMs: 1000, cpuTimeNs: 2e9 })).toBe(2);
    expect(cpuLoadCores(undefined, { atMs: 1000, cpuTimeNs: 2e9 })).toBeUndefined();
    // A new QEMU process after a migration or restart starts its counter again.
    expect(cpuLoadCores({ atMs: 0, cpuTimeNs: 5e9 }, { atMs: 1000, cpuTimeNs: 1e9 })).toBeUndefined();
    expect(cpuLoadCores({ atMs: 1000, cpuTimeNs: 0 }, { atMs: 1000, cpuTimeNs: 1e9 })).toBeUndefined();
  });

  it('never yields a host with a non-positive or non-finite capacity (garbage is rejected)', () => {
    const n = fc.oneof(fc.integer({ min: -5, max: 1 << 30 }), fc.constantFrom(NaN, Infinity, 0.5));
    fc.assert(
      fc.property(n, n, fc.option(n, { nil: undefined }), (cpus, memoryKiB, total) => {
        const node = { model: 'x', memoryKiB, cpus, mhz: 1, nodes: 1, sockets: 1, cores: 1, threads: 1 };
        const reading = {
          node,
          memory: total === undefined ? null : { total },
          pools: [],
          domains: [],
          stats: new Map(),
          samples: [],
          loadCores: new Map(),
        };
        try {
          const h = toHost({ id: 'h', uri: 'test:///default' }, reading);
          return h.capacity.cpu >= 1 && h.capacity.memMiB >= 0 && Number.isFinite(h.capacity.memMiB);
        } catch (e) {
          return e instanceof GarbageError;
        }
      }),
    );
  });
});
