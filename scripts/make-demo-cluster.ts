/**
 * Generates config/demo-cluster.json, the embedded demo cluster (squeeze-scenario/v1), deterministically:
 * same script => byte-identical file. Run: npx tsx scripts/make-demo-cluster.ts [output]
 *
 * 14 hosts of two shapes with SPECpower figures from ../shared/bench-data/FORMAT.md (8 x 64 threads /
 * 512 GiB, 6 x 32 threads / 256 GiB), two of them standby; ~120 VMs of common cloud flavours spread
 * at 25-45 % memory per host so a squeeze is possible; three pinned VMs and one anti-affinity group.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { rng } from './rng.js';

const GiB = 1024;

interface Shape {
  readonly model: string;
  readonly cpu: number;
  readonly memGiB: number;
  readonly idleW: number;
  readonly maxW: number;
}

/** FORMAT.md's SPECpower table: 2s-64t-512g and the 32-thread pair (Huawei RH2288 V2). */
const BIG: Shape = { model: '2s-64t-512g', cpu: 64, memGiB: 512, idleW: 96.6, maxW: 377 };
const SMALL: Shape = { model: '2s-32t-256g', cpu: 32, memGiB: 256, idleW: 52.3, maxW: 240 };

/** Common cloud flavours (vCPU, GiB) and how often they occur. */
const FLAVOURS: ReadonlyArray<readonly [number, number, number]> = [
  [1, 1, 4],
  [1, 2, 8],
  [2, 4, 14],
  [2, 8, 10],
  [4, 8, 12],
  [4, 16, 10],
  [8, 16, 6],
  [8, 32, 6],
  [16, 32, 3],
  [16, 64, 3],
];

const ROLES = ['web', 'app', 'api', 'worker', 'cache', 'db', 'ci', 'mq', 'search', 'batch'];

interface HostOut {
  id: string;
  shape: Shape;
  rack: string;
  state: 'on' | 'standby';
  fill: number;
  usedCpu: number;
  usedMiB: number;
  groups: Set<string>;
}

interface VmOut {
  id: string;
  vcpus: number;
  mem_mib: number;
  disk_gib: number;
  host: string;
  pinned?: boolean;
  group?: string;
}

function makeHosts(next: () => number): HostOut[] {
  const shapes = [...Array<Shape>(8).fill(BIG), ...Array<Shape>(6).fill(SMALL)];
  return shapes.map((shape, i) => ({
    id: `kvm${String(i + 1).padStart(2, '0')}`,
    shape,
    rack: `r${Math.floor(i / 7) + 1}`,
    // one standby host of each shape: powered down earlier, may be woken
    state: i === 7 || i === 13 ? 'standby' : 'on',
    fill: 0.25 + 0.2 * next(),
    usedCpu: 0,
    usedMiB: 0,
    groups: new Set<string>(),
  }));
}

function flavour(next: () => number): readonly [number, number] {
  const total = FLAVOURS.reduce((s, f) => s + f[2], 0);
  let x = next() * total;
  for (const [cpu, mem, weight] of FLAVOURS) {
    x -= weight;
    if (x < 0) return [cpu, mem];
  }
  return [FLAVOURS[0]![0], FLAVOURS[0]![1]];
}

/** Puts a VM on the online host with the most room under its target fill (spreading), or none. */
function place(hosts: HostOut[], cpu: number, memMiB: number, group?: string): HostOut | undefined {
  let best: HostOut | undefined;
  let bestRoom = 0;
  for (const h of hosts) {
    if (h.state !== 'on' || (group !== undefined && h.groups.has(group))) continue;
    const memLimit = h.shape.memGiB * GiB * h.fill;
    if (h.usedMiB + memMiB > memLimit || h.usedCpu + cpu > h.shape.cpu * 4) continue;
    const room = (memLimit - h.usedMiB) / (h.shape.memGiB * GiB);
    if (room > bestRoom) [best, bestRoom] = [h, room];
  }
  if (best) {
    best.usedCpu += cpu;
    best.usedMiB += memMiB;
    if (group !== undefined) best.groups.add(group);
  }
  return best;
}

function makeVms(hosts: HostOut[], next: () => number): VmOut[] {
  const vms: VmOut[] = [];
  const counters = new Map<string, number>();
  const add = (role: string, cpu: number, memGiB: number, extra: Partial<VmOut> = {}): boolean => {
    const h = place(hosts, cpu, memGiB * GiB, extra.group);
    if (!h) return false;
    const n = (counters.get(role) ?? 0) + 1;
    counters.set(role, n);
    const id = `${role}-${String(n).padStart(2, '0')}`;
    vms.push({ id, vcpus: cpu, mem_mib: memGiB * GiB, disk_gib: 10 + 2 * memGiB, host: h.id, ...extra });
    return true;
  };
  // the anti-affinity group: a 3-node etcd cluster, one member per host
  for (let i = 0; i < 3; i++) add('etcd', 2, 8, { group: 'etcd' });
  // pinned: a licence-bound database and two VMs with host-local devices
  add('oracle', 16, 64, { pinned: true });
  add('gpu', 8, 32, { pinned: true });
  add('gpu', 8, 32, { pinned: true });
  let misses = 0;
  while (vms.length < 124 && misses < 50) {
    const [cpu, memGiB] = flavour(next);
    const role = ROLES[Math.floor(next() * ROLES.length)]!;
    if (!add(role, cpu, memGiB)) misses++;
  }
  return vms;
}

function hostLine(h: HostOut): string {
  return JSON.stringify({
    id: h.id,
    cpu_cores: h.shape.cpu,
    mem_mib: h.shape.memGiB * GiB,
    disk_gib: 4096,
    rack: h.rack,
    model: h.shape.model,
    idle_w: h.shape.idleW,
    max_w: h.shape.maxW,
    ...(h.state !== 'on' && { state: h.state }),
  });
}

export function demoClusterText(): string {
  const next = rng(20260101);
  const hosts = makeHosts(next);
  const vms = makeVms(hosts, next).sort((a, b) => (a.id < b.id ? -1 : 1));
  const head = {
    format: 'squeeze-scenario/v1',
    name: 'demo-cluster',
    family: 'demo',
    provenance: {
      generator: 'scripts/make-demo-cluster.ts',
      description:
        'Embedded demo: 14 KVM hosts of two shapes (two standby), common cloud VM flavours spread at 25-45 % memory per host; power figures from SPECpower_ssj2008 as in bench-data/FORMAT.md.',
      synthetic: ['everything'],
    },
    units: { cpu: 'hardware threads / vCPUs', mem: 'MiB', disk: 'GiB' },
    policy: { cpu_overcommit: 4.0, mem_overcommit: 1.0, disk_overcommit: 1.0, anti_affinity_groups: true },
    sample_period_s: 300,
    n_samples: 0,
  };
  const lines = ['{'];
  for (const [k, v] of Object.entries(head)) lines.push(`${JSON.stringify(k)}:${JSON.stringify(v)},`);
  lines.push('"hosts":[', hosts.map(hostLine).join(',\n'), '],');
  lines.push('"vms":[', vms.map((v) => JSON.stringify(v)).join(',\n'), '],');
  lines.push('"traces":{},', '"events":[]', '}');
  return `${lines.join('\n')}\n`;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out =
    process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../config/demo-cluster.json');
  writeFileSync(out, demoClusterText());
  console.log(`wrote ${out}`);
}
