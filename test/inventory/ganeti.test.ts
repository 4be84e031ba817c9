import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { loadClusterFile } from '../../src/inventory/file/index.js';
import { parseGanetiText, readGanetiText, toGanetiText } from '../../src/inventory/file/ganeti.js';
import type { Cluster, Host } from '../../src/model/cluster.js';
import { errorOf, ganetiDir, repoRoot, scratch } from './helpers.js';

const HTOOLS = '/usr/lib/ganeti/3.0/usr/bin';
const ganetiFiles = [
  ...readdirSync(ganetiDir).filter((f) => f.endsWith('.data')),
  ...readdirSync(path.join(ganetiDir, 'own-experiments')).map((f) => `own-experiments/${f}`),
];

function usedOn(cluster: Cluster, h: Host): { cpu: number; memMiB: number } {
  const vms = cluster.vms.filter((v) => v.host === h.id);
  return {
    cpu: vms.reduce((s, v) => s + v.demand.cpu, 0),
    memMiB: vms.reduce((s, v) => s + v.demand.memMiB, 0),
  };
}

interface HbalNode {
  uMem: number;
  rMem: number;
  uCpu: number;
  tCpu: number;
}

/** The node table of the real hinfo: name, u_mem, r_mem, u_cpu, t_cpu (names lose their common suffix). */
function hinfoNodes(file: string): Map<string, HbalNode> {
  const args = ['-t', file, '--print-nodes=name,umem,rmem,ucpu,tcpu'];
  const run = spawnSync(path.join(HTOOLS, 'hinfo'), args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`hinfo ${args.join(' ')}: ${run.stderr}`);
  const lines = run.stderr.split('\n'); // hinfo prints its node table on stderr
  const nodes = new Map<string, HbalNode>();
  const start = lines.findIndex((l) => /^ Name\s+u_mem/.test(l));
  if (start < 0) return nodes;
  for (const line of lines.slice(start + 1)) {
    const f = line.trim().split(/\s+/);
    if (line.trim() === '' || f.length !== 5) break;
    nodes.set(f[0]!, { uMem: Number(f[1]), rMem: Number(f[2]), uCpu: Number(f[3]), tCpu: Number(f[4]) });
  }
  return nodes;
}

describe('Ganeti text files of ../shared/peer-data/ganeti', () => {
  it('finds the hsqueeze test files', () => {
    expect(ganetiFiles).toContain('hsqueeze-underutilized.data');
    expect(ganetiFiles.length).toBeGreaterThanOrEqual(30);
  });

  for (const name of ganetiFiles) {
    it(`${name} loads with the free memory and vCPUs the real hbal computes`, async () => {
      const file = path.join(ganetiDir, name);
      const { cluster, hints } = await loadClusterFile(file);
      const data = readGanetiText(readFileSync(file, 'utf8'), file);
      expect(cluster.hosts.map((h) => h.id)).toEqual(data.nodes.map((n) => n.name));
      expect(cluster.vms).toHaveLength(data.instances.filter((i) => !i.forthcoming).length);
      const table = hinfoNodes(file);
      expect(table.size).toBe(cluster.hosts.length);
      const ratio = hints.overcommit!.cpu!;
      for (const h of cluster.hosts) {
        const g = table.get(h.id) ?? [...table].find(([short]) => h.id.startsWith(`${short}.`))![1];
        const used = usedOn(cluster, h);
        // model free memory = Ganeti's u_mem minus the strict-free MiB and the N+1 reserve r_mem
        expect(h.capacity.memMiB - h.reserved.memMiB - used.memMiB, `${h.id} memory`).toBe(
          g.uMem - 1 - g.rMem,
        );
        // model vCPU room = Ganeti's t_cpu x vcpu_ratio - u_cpu (node OS counted in u_cpu)
        expect(h.capacity.cpu * ratio - h.reserved.cpu - used.cpu, `${h.id} vCPUs`).toBeCloseTo(
          g.tCpu * ratio - g.uCpu,
          9,
        );
      }
    });
  }
});

describe('Ganeti mapping on the hsqueeze test clusters', () => {
  const load = (name: string): ReturnType<typeof loadClusterFile> =>
    loadClusterFile(path.join(ganetiDir, name));
  const host = (c: Cluster, id: string): Host => c.hosts.find((h) => h.id === id)!;

  it('underutilized: policy line read as a cluster tag (blank-line pitfall), so the default std applies', async () => {
    const { cluster, hints } = await load('hsqueeze-underutilized.data');
    expect(hints.standard).toEqual({ cpu: 1, memMiB: 128, diskGiB: 0 });
    expect(hints.overcommit).toEqual({ cpu: 4, mem: 1, disk: 1 });
    expect(hints.thresholds).toEqual({ mode: 'per_host', minimal: 2, target: 2 });
    expect(hints.safety?.failoverReserveHosts).toBe(0);
    expect(cluster.hosts.map((h) => [h.id, h.state, h.keepOn, h.exclude])).toEqual([
      ['node-01-000', 'on', true, false],
      ['node-01-001', 'on', false, false],
      ['node-01-002', 'on', false, false],
      ['node-01-003', 'on', false, false],
      ['node-01-004', 'on', false, false],
      ['node-01-005', 'on', false, false],
    ]);
    expect(host(cluster, 'node-01-000').reserved).toEqual({ cpu: 1, memMiB: 1, diskGiB: 0 });
    expect(host(cluster, 'node-01-000').capacity).toEqual({ cpu: 9, memMiB: 512, diskGiB: 1052 / 1024 });
    expect(cluster.vms.every((v) => !v.pinned && v.demand.memMiB === 127 && v.demand.cpu === 1)).toBe(true);
    const data = readGanetiText(
      readFileSync(path.join(ganetiDir, 'hsqueeze-underutilized.data'), 'utf8'),
      'x',
    );
    expect(data.clusterTags).toEqual(['|127,1,0,0,1,1|127,1,0,1,1,1;256,1,0,0,2,2|ext|1.0|32.0']);
  });

  it('overutilized: tagged offline nodes are standby, other offline nodes off, the master keepOn', async () => {
    const { cluster, hints } = await load('hsqueeze-overutilized.data');
    expect(hints.standard).toEqual({ cpu: 1, memMiB: 128, diskGiB: 0 });
    expect(cluster.hosts.map((h) => [h.id, h.state, h.keepOn])).toEqual([
      ['node-01-000', 'on', true],
      ['node-01-001', 'on', false],
      ['node-01-002', 'standby', false],
      ['node-01-003', 'off', false],
      ['node-01-004', 'standby', false],
      ['node-01-005', 'standby', false],
      ['node-01-006', 'standby', false],
      ['node-01-007', 'off', false],
    ]);
    expect(host(cluster, 'node-01-007').tags).toEqual(['pink:bunny']);
    expect(host(cluster, 'node-01-000').reserved.memMiB).toBe(1);
  });

  it('mixed-instances: DRBD instances pinned, secondaries keep their node on and reserve N+1 memory', async () => {
    const { cluster } = await load('hsqueeze-mixed-instances.data');
    expect(cluster.vms.map((v) => [v.id, v.pinned, v.demand.diskGiB])).toEqual([
      ['inst-00', false, 0],
      ['inst-10', false, 0],
      ['inst-2-3', true, 1],
      ['inst-4-5', true, 1],
    ]);
    expect(cluster.hosts.map((h) => [h.id, h.keepOn])).toEqual([
      ['node-01-000', true],
      ['node-01-001', false],
      ['node-01-002', false],
      ['node-01-003', true],
      ['node-01-004', false],
      ['node-01-005', true],
    ]);
    // x_mem 127 (unexplained) + 1 (strict free) + r_mem 127 (N+1 for the DRBD peer)
    expect(host(cluster, 'node-01-003').reserved).toEqual({ cpu: 1, memMiB: 255, diskGiB: 1 });
    expect(host(cluster, 'node-01-002').reserved).toEqual({ cpu: 1, memMiB: 128, diskGiB: 0 });
  });

  it('counts memory and vCPUs by instance status as Ganeti does', async () => {
    const { cluster } = await load('own-experiments/down.data');
    expect(cluster.vms.find((v) => v.id === 'i1')!.demand).toEqual({ cpu: 2, memMiB: 0, diskGiB: 0 });
    const text = [
      'g|g-uuid|preferred||',
      '',
      'n0|65536|0|60000|1000|1000|8|M|g-uuid|1||N|0|1|1.0',
      '',
      'off|1000|0|4|ADMIN_offline|Y|n0||ext||1|-|N',
      'err|1000|0|4|ERROR_wrongnode|Y|n0||ext||1|-|N',
      'usr|1000|0|4|USER_down|Y|n0||ext||1|-|N',
      'nb|1000|0|4|running|N|n0||rbd||1|-|N',
      'pl|1000|2048|4|running|Y|n0||plain||1|-|N',
      'fc|1000|0|4|running|Y|n0||ext||1|-|Y',
      '',
      '',
    ].join('\n');
    const { cluster: c, warnings } = parseGanetiText(text, 'st.data');
    expect(c.vms.map((v) => [v.id, v.demand.cpu, v.demand.memMiB, v.demand.diskGiB, v.pinned])).toEqual([
      ['off', 0, 0, 0, false],
      ['err', 4, 1000, 0, false],
      ['usr', 4, 0, 0, false],
      ['nb', 4, 1000, 0, true],
      ['pl', 4, 1000, 2, true],
    ]);
    expect(warnings).toEqual(['st.data:10: forthcoming instance fc ignored']);
  });

  it('takes the vCPU ratio from the node group policy and std from the cluster policy', () => {
    const nodes = [
      'a|a-uuid|preferred||',
      'b|b-uuid|preferred||',
      '',
      'n0|4096|0|4096|1000|1000|8|M|a-uuid|1||N|0|1|1.0',
      'n1|4096|0|4096|1000|1000|8|N|b-uuid|1||N|0|2|1.0',
      '',
      '',
      '',
    ];
    const pol = (owner: string, std: string, ratio: string): string =>
      `${owner}|${std},1,1024,1,1,1|128,1,1024,1,1,1;32768,8,1048576,16,8,12|ext|${ratio}|32.0`;
    // cluster line only: groups keep Ganeti's built-in ratio 4.0
    const only = parseGanetiText([...nodes, pol('', '512', '1.0')].join('\n'), 'x');
    expect(only.hints.standard).toEqual({ cpu: 1, memMiB: 512, diskGiB: 0 });
    expect(only.hints.overcommit?.cpu).toBe(4);
    expect(only.cluster.hosts.map((h) => h.reserved.cpu)).toEqual([1, 2]);
    // group b at 2.0 under a cluster-wide 4.0: n1 reserves the difference (8 x 2 threads)
    const mixed = parseGanetiText([...nodes, pol('', '512', '1.0'), pol('b', '256', '2.0')].join('\n'), 'x');
    expect(mixed.hints.overcommit?.cpu).toBe(4);
    expect(mixed.cluster.hosts.map((h) => h.reserved.cpu)).toEqual([1, 2 + 16]);
    expect(mixed.warnings).toEqual(['x: 2 node groups planned as one pool (as hsqueeze does)']);
  });

  it("loads '?' nodes offline and empty, without their tags", async () => {
    const { cluster, warnings } = await load('own-experiments/under-plus-offline-unknown.data');
    const n = host(cluster, 'node-01-006');
    expect([n.state, n.capacity, n.tags]).toEqual(['off', { cpu: 0, memMiB: 0, diskGiB: 0 }, []]);
    expect(warnings[0]).toMatch(/under-plus-offline-unknown\.data:9: node node-01-006 has unknown resources/);
  });

  it('warns about instances on offline nodes and merges node groups', async () => {
    const { cluster, warnings } = await load('hbal-evac.data');
    expect(host(cluster, 'node-E').state).toBe('off');
    expect(warnings).toContain(
      `${path.join(ganetiDir, 'hbal-evac.data')}:8: instance inst-p1 runs on offline node node-E`,
    );
  });

  it('is detected by content, also with a ganeti: prefix and gzipped', async () => {
    const s = scratch();
    try {
      const text = readFileSync(path.join(ganetiDir, 'hsqueeze-underutilized.data'), 'utf8');
      const gz = s.write('c.gz', text, true);
      const viaGzip = await loadClusterFile(gz);
      const viaPrefix = await loadClusterFile(
        `ganeti:${path.join(ganetiDir, 'hsqueeze-underutilized.data')}`,
      );
      expect(viaGzip.cluster.hosts).toEqual(viaPrefix.cluster.hosts);
      expect(viaPrefix.cluster.source).toBe('ganeti:hsqueeze-underutilized.data');
    } finally {
      s.cleanup();
    }
  });
});

describe('malformed Ganeti files', () => {
  const s = scratch();
  afterAll(() => s.cleanup());
  const good = readFileSync(path.join(ganetiDir, 'hsqueeze-underutilized.data'), 'utf8').split('\n');
  const withLine = (lineNo: number, text: string): string =>
    good.map((l, i) => (i === lineNo - 1 ? text : l)).join('\n');
  const message = (text: string): Promise<string> =>
    errorOf(() => loadClusterFile(`ganeti:${s.write('bad.data', text)}`), InputError);
  const file = (): string => path.join(s.dir, 'bad.data');

  it.each([
    [
      withLine(3, 'node-01-000|abc|0|258|1052|1052|9|M|fake-uuid-01|1'),
      '3: node: t_mem: expected a number, got "abc"',
    ],
    [
      withLine(4, 'node-01-001|512|0|258|1052'),
      "4: node: expected name|t_mem|n_mem|f_mem|t_dsk|f_dsk|t_cpu|role|group_uuid[|spindles|tags|excl_storage|free_spindles|nos_cpu|cpu_speed] (at least 9 '|'-separated fields), got 5",
    ],
    [
      withLine(4, 'node-01-001|512|0|258|1052|1052|9|N|nope|1'),
      "4: node: unknown group 'nope' for node node-01-001",
    ],
    [
      withLine(4, 'node-01-000|512|0|258|1052|1052|9|N|fake-uuid-01|1'),
      "4: duplicate node name 'node-01-000' (first on line 3)",
    ],
    [
      withLine(11, 'inst-00|127|0|1|running|Y|node-01-009||ext||1'),
      "11: instance: unknown node 'node-01-009' for instance inst-00",
    ],
    [
      withLine(11, 'inst-00|127|0|1|sleeping|Y|node-01-000||ext||1'),
      '11: instance: status: expected one of running, ADMIN_down, ADMIN_offline, ERROR_down, ERROR_up, ERROR_nodedown, ERROR_nodeoffline, ERROR_wrongnode, USER_down, got "sleeping"',
    ],
    [
      withLine(11, 'inst-00|127|0|1|running|Y|node-01-000||zfs||1'),
      '11: instance: disk_template: expected one of diskless, file, sharedfile, plain, blockdev, drbd, rbd, ext, gluster, got "zfs"',
    ],
    [
      withLine(11, 'inst-00|127|0|1|running|Y|node-01-000|node-01-000|drbd||1'),
      '11: instance: instance inst-00 has same primary and secondary node - node-01-000',
    ],
    [
      withLine(11, 'inst-00|127|0|1.5|running|Y|node-01-000||ext||1'),
      '11: instance: vcpus: expected an integer, got "1.5"',
    ],
    [
      withLine(11, 'inst-00|127|0|1|running|maybe|node-01-000||ext||1'),
      '11: instance: auto_balance: expected Y or N, got "maybe"',
    ],
    [
      withLine(1, 'group-01|fake-uuid-01|greedy|'),
      '1: group: alloc_policy: expected one of preferred, last_resort, unallocable, got "greedy"',
    ],
  ])('names file and line: %#', async (text, expected) => {
    expect(await message(text)).toBe(`${file()}:${expected}`);
  });

  it('rejects a bad policy line in the 5th section', async () => {
    const text = `${good.slice(0, 17).join('\n')}\n\n\n|128,1,0,0,1,1|1,1,0,1,1,1;2,2,0,1,1,1|ext|four|32.0\n`;
    expect(await message(text)).toBe(`${file()}:20: ipolicy: vcpu_ratio: expected a number, got "four"`);
    const odd = `${good.slice(0, 17).join('\n')}\n\n\nother|128,1,0,0,1,1|1,1,0,1,1,1|ext|4.0|32.0\n`;
    expect(await message(odd)).toBe(`${file()}:20: ipolicy: odd number of min/max specs for other`);
    const owner = `${good.slice(0, 17).join('\n')}\n\n\nother|128,1,0,0,1,1|1,1,0,1,1,1;2,2,0,1,1,1|ext|4.0|32.0\n`;
    expect(await message(owner)).toBe(`${file()}:20: ipolicy: unknown group 'other'`);
  });

  it('says how many sections it found when empty lines are missing', async () => {
    const text = good.filter((l) => l !== '').join('\n');
    expect(await message(text)).toBe(
      `${file()}: invalid Ganeti text file: 1 sections instead of 4 or more (groups, nodes, instances, cluster tags[, policies], separated by single empty lines)`,
    );
  });

  it('rejects CRLF line endings with the line', async () => {
    expect(await message(good.join('\r\n'))).toBe(
      `${file()}:1: CRLF line ending: Ganeti text files use LF only`,
    );
  });
});

describe('toGanetiText', () => {
  const s = scratch();
  afterAll(() => s.cleanup());

  for (const name of [
    'hsqueeze-underutilized.data',
    'hsqueeze-overutilized.data',
    'own-experiments/cpu.data',
    'own-experiments/rebalance-only.data',
  ]) {
    it(`round-trips ${name} (hosts and VMs unchanged)`, async () => {
      const { cluster, hints } = await loadClusterFile(path.join(ganetiDir, name));
      const text = toGanetiText(cluster, { standard: hints.standard!, vcpuRatio: hints.overcommit!.cpu! });
      const again = parseGanetiText(text, 'again.data');
      expect(again.cluster.hosts).toEqual(cluster.hosts);
      expect(again.cluster.vms).toEqual(cluster.vms);
      expect(again.hints).toEqual(hints);
    });
  }

  it('writes a scenario cluster that the real hsqueeze reads, and reads it back', async () => {
    const { cluster } = await loadClusterFile(path.join(repoRoot, 'config/demo-cluster.json'));
    const standard = { cpu: 2, memMiB: 4096, diskGiB: 0 };
    const text = toGanetiText(cluster, { standard, vcpuRatio: 4 });
    const file = s.write('demo.data', text);
    const again = await loadClusterFile(`ganeti:${file}`);
    expect(again.hints.standard).toEqual(standard);
    expect(again.cluster.hosts.map((h) => [h.id, h.state, h.capacity])).toEqual(
      cluster.hosts.map((h) => [h.id, h.state, h.capacity]),
    );
    // the only change: Ganeti's strict free-memory rule, kept as one reserved MiB
    expect(
      again.cluster.hosts.every(
        (h) => h.reserved.memMiB === 1 && h.reserved.cpu === 0 && h.reserved.diskGiB === 0,
      ),
    ).toBe(true);
    expect(again.cluster.vms.map((v) => [v.id, v.host, v.demand.cpu, v.demand.memMiB, v.pinned])).toEqual(
      cluster.vms.map((v) => [v.id, v.host, v.demand.cpu, v.demand.memMiB, v.pinned]),
    );
    const out = execFileSync(path.join(HTOOLS, 'hsqueeze'), ['-v', '-t', file], { encoding: 'utf8' });
    expect(out).toMatch(/^'(Nodes to offline|Nodes to online|No action)'/m);
    // standby hosts are hsqueeze's power-on candidates
    const standby = cluster.hosts.filter((h) => h.state === 'standby').map((h) => h.id);
    expect(out).toContain(`Online candidates: ${standby.join(',')}`);
  });
});
