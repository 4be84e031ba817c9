import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { FileInventory, loadClusterFile } from '../../src/inventory/file/index.js';
import { percentile } from '../../src/inventory/file/scenario.js';
import { demoClusterText } from '../../scripts/make-demo-cluster.js';
import { errorOf, repoRoot, scenarioDir, scratch, sharedDir } from './helpers.js';

interface Baseline {
  scenario: string;
  hosts: number;
  vms: number;
  events: number;
  util_mem: number;
  util_cpu_alloc: number;
}

const baselines = JSON.parse(
  readFileSync(path.join(sharedDir, 'bench-data/baselines.json'), 'utf8'),
) as Baseline[];
const scenarioFiles = readdirSync(scenarioDir).filter((f) => f.endsWith('.json.gz'));

describe('squeeze-scenario/v1 bench scenarios', () => {
  it('finds every scenario of FORMAT.md', () => {
    expect(scenarioFiles.length).toBeGreaterThanOrEqual(12);
  });

  for (const file of scenarioFiles) {
    const name = file.replace(/\.json\.gz$/, '');
    it(`${name} loads with the counts and utilisation of baselines.json`, { timeout: 180_000 }, async () => {
      const b = baselines.find((x) => x.scenario === name)!;
      expect(b).toBeDefined();
      const { cluster, hints, warnings } = await loadClusterFile(path.join(scenarioDir, file));
      expect(cluster.hosts).toHaveLength(b.hosts);
      expect(cluster.vms).toHaveLength(b.vms);
      const memUsed = cluster.vms.reduce((s, v) => s + v.demand.memMiB, 0);
      const memTotal = cluster.hosts.reduce((s, h) => s + h.capacity.memMiB, 0);
      expect(memUsed / memTotal).toBeCloseTo(b.util_mem, 9);
      const cpuUsed = cluster.vms.reduce((s, v) => s + v.demand.cpu, 0);
      const cpuTotal = cluster.hosts.reduce((s, h) => s + h.capacity.cpu * hints.overcommit!.cpu!, 0);
      expect(cpuUsed / cpuTotal).toBeCloseTo(b.util_cpu_alloc, 6);
      // events are not loaded, but counted in a warning
      if (b.events > 0)
        expect(warnings).toContain(
          `${path.join(scenarioDir, file)}: ${b.events} create/delete events ignored (the planner plans one snapshot)`,
        );
      else expect(warnings).toEqual([]);
      const host = cluster.hosts[0]!;
      expect(host.reserved).toEqual({ cpu: 0, memMiB: 0, diskGiB: 0 });
      expect(host.state).toBe('on');
      expect(host.idleWatts).toBeGreaterThan(0);
      expect(cluster.vms.every((v) => v.cpuLoadCores === undefined)).toBe(true);
    });
  }
});

describe('usage from traces', () => {
  const file = path.join(scenarioDir, 'bitbrains-h100.json.gz');
  const raw = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as {
    vms: Array<{ id: string; vcpus: number; mem_mib: number; trace?: string }>;
    traces: Record<string, { cpu: number[]; mem?: number[] }>;
  };
  const nearestRank = (xs: number[], p: number): number => {
    const s = [...xs].sort((a, b) => a - b);
    return s[Math.ceil((p / 100) * s.length) - 1]!;
  };

  it('sets cpuLoadCores and memUsedMiB from the p-th percentile of each trace', async () => {
    const { cluster } = await loadClusterFile(file, { usage: { percentile: 95 } });
    for (const rawVm of raw.vms.slice(0, 50)) {
      const t = raw.traces[rawVm.trace!]!;
      const vm = cluster.vms.find((v) => v.id === rawVm.id)!;
      expect(vm.cpuLoadCores).toBeCloseTo((rawVm.vcpus * nearestRank(t.cpu, 95)) / 1000, 9);
      expect(vm.memUsedMiB).toBe(Math.ceil((rawVm.mem_mib * nearestRank(t.mem!, 95)) / 1000));
    }
  });

  it('looks back over the last N samples only', async () => {
    const { cluster } = await loadClusterFile(file, { usage: { percentile: 50, lookbackSamples: 12 } });
    const rawVm = raw.vms[7]!;
    const cpu = raw.traces[rawVm.trace!]!.cpu;
    const vm = cluster.vms.find((v) => v.id === rawVm.id)!;
    expect(vm.cpuLoadCores).toBeCloseTo((rawVm.vcpus * nearestRank(cpu.slice(-12), 50)) / 1000, 9);
  });

  it('uses nearest-rank percentiles', () => {
    expect(percentile([5, 1, 4, 2, 3], 100)).toBe(5);
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 1)).toBe(1);
    expect(percentile([], 95)).toBe(1000);
  });
});

describe('embedded demo cluster', () => {
  const demoFile = path.join(repoRoot, 'config/demo-cluster.json');

  it('is what scripts/make-demo-cluster.ts generates', () => {
    expect(readFileSync(demoFile, 'utf8')).toBe(demoClusterText());
  });

  it('is an Inventory that honours an aborted signal', async () => {
    await expect(new FileInventory(demoFile).read(AbortSignal.abort())).rejects.toThrow(/abort/i);
  });

  it('loads as a realistic cluster: two shapes, two standby hosts, pinned VMs, one anti-affinity group', async () => {
    const { cluster, hints } = await new FileInventory(demoFile).read();
    expect(cluster.source).toBe('file:demo-cluster.json');
    expect(cluster.hosts.length).toBeGreaterThanOrEqual(12);
    expect(new Set(cluster.hosts.map((h) => `${h.capacity.cpu}/${h.capacity.memMiB}`)).size).toBe(2);
    expect(cluster.hosts.filter((h) => h.state === 'standby')).toHaveLength(2);
    expect(cluster.hosts.every((h) => h.idleWatts !== undefined && h.maxWatts! > h.idleWatts)).toBe(true);
    expect(cluster.vms.length).toBeGreaterThan(100);
    expect(cluster.vms.filter((v) => v.pinned).length).toBeGreaterThanOrEqual(2);
    const group = cluster.vms.filter((v) => v.group !== undefined);
    expect(group).toHaveLength(3);
    expect(new Set(group.map((v) => v.group)).size).toBe(1);
    expect(new Set(group.map((v) => v.host)).size).toBe(3);
    expect(hints).toEqual({ overcommit: { cpu: 4, mem: 1, disk: 1 }, antiAffinity: true });
    const sizes = new Set(cluster.vms.map((v) => `${v.demand.cpu}/${v.demand.memMiB}`));
    expect(sizes.size).toBeGreaterThanOrEqual(6);
    // moderately loaded: every online host between 15 % and 60 % of its memory
    for (const h of cluster.hosts.filter((x) => x.state === 'on')) {
      const used = cluster.vms.filter((v) => v.host === h.id).reduce((s, v) => s + v.demand.memMiB, 0);
      expect(used / h.capacity.memMiB).toBeGreaterThan(0.15);
      expect(used / h.capacity.memMiB).toBeLessThan(0.6);
    }
  });
});

describe('malformed scenario files', () => {
  const s = scratch();
  afterAll(() => s.cleanup());
  const host = (id: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    id,
    cpu_cores: 64,
    mem_mib: 262144,
    disk_gib: 8192,
    ...extra,
  });
  const vm = (
    id: string,
    hostId: string | null,
    extra: Record<string, unknown> = {},
  ): Record<string, unknown> => ({
    id,
    vcpus: 2,
    mem_mib: 4096,
    disk_gib: 20,
    host: hostId,
    ...extra,
  });
  const doc = (hosts: unknown[], vms: unknown[], extra: Record<string, unknown> = {}): string =>
    JSON.stringify({ format: 'squeeze-scenario/v1', hosts, vms, traces: {}, events: [], ...extra }, null, 1);
  const load = (text: string, gzip = false): Promise<unknown> =>
    loadClusterFile(s.write(gzip ? 'c.json.gz' : 'c.json', text, gzip));
  const message = (text: string, gzip = false): Promise<string> =>
    errorOf(() => load(text, gzip), InputError);

  it('accepts the extra fields of DESIGN.md 4.1', async () => {
    const text = doc(
      [
        host('a', { exclude: true, idle_w: 100, max_w: 300 }),
        host('b', { drain: true }),
        host('c', { state: 'standby' }),
      ],
      [vm('v1', 'a', { pinned: true, group: 'g' }), vm('v2', 'b', { group: 'g' }), vm('v3', null)],
      { policy: { cpu_overcommit: 2, anti_affinity_groups: true } },
    );
    const { cluster, hints } = (await load(text, true)) as Awaited<ReturnType<typeof loadClusterFile>>;
    expect(cluster.hosts.map((h) => [h.id, h.state, h.exclude, h.drain, h.keepOn])).toEqual([
      ['a', 'on', true, false, false],
      ['b', 'on', false, true, false],
      ['c', 'standby', false, false, false],
    ]);
    expect(cluster.hosts[0]).toMatchObject({
      idleWatts: 100,
      maxWatts: 300,
      capacity: { cpu: 64, memMiB: 262144, diskGiB: 8192 },
    });
    expect(cluster.vms.map((v) => [v.id, v.host, v.pinned, v.group])).toEqual([
      ['v1', 'a', true, 'g'],
      ['v2', 'b', false, 'g'],
      ['v3', null, false, undefined],
    ]);
    expect(hints).toEqual({ overcommit: { cpu: 2 }, antiAffinity: true });
  });

  it('reports a JSON syntax error with file, line and column', async () => {
    const text = '{\n"format": "squeeze-scenario/v1",\n"hosts": [\n  {"id": "a",, "cpu_cores": 1}\n]}';
    expect(await message(text)).toBe(`${s.dir}/c.json:4:14: invalid JSON: a double-quoted string, got ","`);
  });

  it('maps error lines back across the skipped events', async () => {
    const events = Array.from({ length: 5 }, (_, i) => `{"t": ${i}, "op": "delete", "id": "v${i}"}`).join(
      ',\n',
    );
    const text = `{"format": "squeeze-scenario/v1",\n"events": [\n${events}\n],\n"hosts": [],\n"vms": [}\n`;
    expect(await message(text, true)).toMatch(/c\.json\.gz:10:\d+: invalid JSON: /);
  });

  it.each([
    [doc([host('a', { mem_mib: 'x' })], []), 'hosts[0].mem_mib: expected a positive integer, got "x"'],
    [
      doc([host('a'), host('b', { cpu_cores: 0 })], []),
      'hosts[1].cpu_cores: expected a positive number, got 0',
    ],
    [
      doc([host('a', { state: 'sleeping' })], []),
      'hosts[0].state: expected "on", "standby" or "off", got "sleeping"',
    ],
    [doc([host('a', { idle_w: 10 })], []), 'hosts[0].max_w: expected idle_w and max_w together, got nothing'],
    [
      doc([host('a', { idle_w: 10, max_w: 5 })], []),
      'hosts[0].max_w: expected a number >= idle_w (10), got 5',
    ],
    [doc([host('a', { exclude: 'yes' })], []), 'hosts[0].exclude: expected true or false, got "yes"'],
    [doc([host('a'), host('a')], []), 'hosts[1].id: duplicate id "a" (also hosts[0])'],
    [doc([host('a')], [vm('v', 'a'), vm('v', 'a')]), 'vms[1].id: duplicate id "v" (also vms[0])'],
    [doc([host('a')], [vm('v', 'zz')]), 'vms[0].host: expected the id of a host in "hosts", got "zz"'],
    [doc([host('a', { state: 'off' })], [vm('v', 'a')]), 'vms[0].host: VM runs on host "a", which is off'],
    [doc([host('a')], [vm('v', 'a', { vcpus: -1 })]), 'vms[0].vcpus: expected a positive number, got -1'],
    [
      doc([host('a')], [vm('v', 'a', { trace: 't9' })]),
      'vms[0].trace: expected the id of an entry of "traces", got "t9"',
    ],
    [
      doc([host('a')], [vm('v', 'a', { host: undefined })]),
      'vms[0].host: expected a host id or null, got nothing',
    ],
    [doc([host('a')], ['x']), 'vms[0]: expected an object, got "x"'],
    [doc([], [], { format: 'other/v2' }), 'format: Invalid input: expected "squeeze-scenario/v1"'],
    [doc([], [], { hosts: {} }), 'hosts: Invalid input: expected array, received object'],
    [
      doc([], [], { policy: { cpu_overcommit: -1 } }),
      'policy.cpu_overcommit: Too small: expected number to be >0',
    ],
    [
      doc([], [], { traces: { t1: { cpu: [1, 'a'] } } }),
      'traces["t1"].cpu[1]: expected a non-negative integer, got "a"',
    ],
    [
      doc([], [], { traces: { t1: { mem: [1] } } }),
      'traces["t1"].cpu: expected an array of per-mille integers, got nothing',
    ],
    [doc([], [], { traces: { t1: 5 } }), 'traces["t1"]: expected an object, got 5'],
  ])('names file and JSON path: %#', async (text, expected) => {
    expect(await message(text)).toBe(`${s.dir}/c.json: ${expected}`);
  });

  it('rejects unreadable, empty and corrupt files', async () => {
    expect(await errorOf(() => loadClusterFile(`${s.dir}/missing.json`), InputError)).toMatch(
      /missing\.json: cannot read cluster file: ENOENT/,
    );
    expect(await message('  \n')).toBe(`${s.dir}/c.json: empty cluster file`);
    expect(await message('[{"id": 1}]')).toBe(
      `${s.dir}/c.json: expected a squeeze-scenario/v1 JSON object, got a JSON array`,
    );
    const bytes = readFileSync(s.write('good.json.gz', doc([host('a')], []), true));
    const truncated = path.join(s.dir, 'trunc.json.gz');
    writeFileSync(truncated, bytes.subarray(0, 30));
    expect(await errorOf(() => loadClusterFile(truncated), InputError)).toMatch(/trunc\.json\.gz: /);
  });

  it('rejects a bad usage percentile', async () => {
    const file = s.write('u.json', doc([host('a')], []));
    expect(await errorOf(() => loadClusterFile(file, { usage: { percentile: 0 } }), InputError)).toMatch(
      /usage percentile must be in \(0, 100\], got 0/,
    );
  });
});
