import type { Cluster, Host, Vm } from '../../../src/model/cluster.js';
import type { Policy } from '../../../src/model/policy.js';
import { host, policy } from '../../builders.js';
import { rng } from '../../../scripts/rng.js';

export { rng };

/**
 * Random sequencing instances in the style of migrationpaths' generator: identical hosts
 * (4096 MiB minus 280 reserved), VMs filled host by host until a random VM no longer fits, and a
 * target made of random valid single migrations from the start (so it is reachable by
 * construction). Extra constraints the product has: vCPUs with overcommit, anti-affinity groups,
 * pinned VMs, a draining and an excluded host, per-host and per-wave limits.
 */

export type Sizing = 'default' | 'dense';

export interface Instance {
  readonly cluster: Cluster;
  readonly policy: Policy;
  readonly target: Map<string, string>;
  readonly powerOff: string[];
}

const int = (r: () => number, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1));

function makeHost(id: string, extra: Partial<Host> = {}): Host {
  return host(id, 8, 4, { reserved: { cpu: 0, memMiB: 280, diskGiB: 0 }, ...extra });
}

/** Placement bookkeeping for the generator (independent of the planner's). */
class Sim {
  readonly mem = new Map<string, number>();
  readonly cpu = new Map<string, number>();
  readonly where = new Map<string, string>();
  constructor(
    readonly hosts: Host[],
    readonly vms: Map<string, Vm>,
    readonly pol: Policy,
  ) {
    for (const h of hosts) {
      this.mem.set(h.id, 0);
      this.cpu.set(h.id, 0);
    }
  }
  fits(vm: Vm, h: Host): boolean {
    if (h.state !== 'on' || h.exclude || h.drain) return false;
    if (this.mem.get(h.id)! + vm.demand.memMiB > h.capacity.memMiB - h.reserved.memMiB) return false;
    if (this.cpu.get(h.id)! + vm.demand.cpu > h.capacity.cpu * this.pol.overcommit.cpu) return false;
    if (vm.group === undefined) return true;
    for (const [other, at] of this.where)
      if (at === h.id && other !== vm.id && this.vms.get(other)!.group === vm.group) return false;
    return true;
  }
  put(vm: Vm, h: string): void {
    const old = this.where.get(vm.id);
    if (old !== undefined) {
      this.mem.set(old, this.mem.get(old)! - vm.demand.memMiB);
      this.cpu.set(old, this.cpu.get(old)! - vm.demand.cpu);
    }
    this.where.set(vm.id, h);
    this.mem.set(h, this.mem.get(h)! + vm.demand.memMiB);
    this.cpu.set(h, this.cpu.get(h)! + vm.demand.cpu);
  }
}

export interface GenOptions {
  readonly hosts: number;
  readonly sizing: Sizing;
  readonly moves: number;
  /** Add pinned VMs, anti-affinity groups, a draining and an excluded host. */
  readonly extras: boolean;
}

export function reachableInstance(seed: number, o: GenOptions): Instance {
  const r = rng(seed);
  const hosts: Host[] = [];
  for (let i = 0; i < o.hosts; i++) {
    const special =
      o.extras && o.hosts >= 4 && i === 0
        ? { drain: true }
        : o.extras && o.hosts >= 4 && i === 1
          ? { exclude: true }
          : {};
    hosts.push(makeHost(`h${String(i).padStart(2, '0')}`, special));
  }
  const pol = policy({
    overcommit: { cpu: 2, mem: 1, disk: 1 },
    migration: {
      maxPerHost: int(r, 1, 3),
      maxParallel: r() < 0.3 ? int(r, 1, 4) : 1000,
      bandwidthMiBps: 100,
      maxDowntimeMs: 300,
    },
    antiAffinity: o.extras,
  });
  const vms = new Map<string, Vm>();
  const sim = new Sim(hosts, vms, pol);
  const [lo, hi] = o.sizing === 'default' ? [128, 4096] : [128, 1024];
  let n = 0;
  for (const h of hosts) {
    const free = { ...h, drain: false, exclude: false };
    for (;;) {
      const vm: Vm = {
        id: `vm${String(n).padStart(3, '0')}`,
        demand: { cpu: int(r, 1, 4), memMiB: int(r, lo, hi), diskGiB: 0 },
        host: h.id,
        pinned: o.extras && r() < 0.05,
        ...(o.extras && r() < 0.3 ? { group: `g${int(r, 0, 3)}` } : {}),
        ...(r() < 0.3 ? { dirtyRateMiBps: int(r, 0, 60) } : {}),
      };
      vms.set(vm.id, vm);
      if (!sim.fits(vm, free)) {
        vms.delete(vm.id);
        break;
      }
      sim.put(vm, h.id);
      n++;
    }
  }
  const cluster: Cluster = { hosts, vms: [...vms.values()], source: `random:${seed}` };
  const movable = cluster.vms.filter((v) => !v.pinned && !hosts.find((h) => h.id === v.host)!.exclude);
  for (let k = 0; k < o.moves && movable.length > 0; k++) {
    const vm = movable[int(r, 0, movable.length - 1)]!;
    const dest = hosts[int(r, 0, hosts.length - 1)]!;
    if (dest.id !== sim.where.get(vm.id) && sim.fits(vm, dest)) sim.put(vm, dest.id);
  }
  const target = new Map<string, string>();
  for (const vm of cluster.vms)
    if (sim.where.get(vm.id) !== vm.host) target.set(vm.id, sim.where.get(vm.id)!);
  const powerOff = hosts.filter((h) => !h.exclude && sim.mem.get(h.id) === 0).map((h) => h.id);
  return { cluster, policy: pol, target, powerOff };
}

/**
 * A random target that is valid (fits, anti-affinity) but not built from moves: often unreachable
 * when the hosts are nearly full. Hosts are filled tight and VMs re-packed in a random order.
 */
export function shuffledInstance(seed: number, hostCount: number): Instance {
  const base = reachableInstance(seed, { hosts: hostCount, sizing: 'default', moves: 0, extras: false });
  const r = rng(seed ^ 0x5bd1e995);
  const vms = new Map(base.cluster.vms.map((v) => [v.id, v]));
  const sim = new Sim([...base.cluster.hosts], vms, base.policy);
  const order = [...base.cluster.vms].sort(() => r() - 0.5);
  const target = new Map<string, string>();
  for (const vm of order) {
    const options = base.cluster.hosts.filter((h) => sim.fits(vm, h));
    const h =
      options.length > 0
        ? options[int(r, 0, options.length - 1)]!
        : base.cluster.hosts.find((x) => x.id === vm.host)!;
    sim.put(vm, h.id);
    if (h.id !== vm.host) target.set(vm.id, h.id);
  }
  return { ...base, target, powerOff: [] };
}
