import { describe, expect, it } from 'vitest';
import { checkPlan } from '../../src/planner/check-plan.js';
import { consolidate } from '../../src/planner/consolidate.js';
import { decide } from '../../src/planner/decide.js';
import { plan } from '../../src/planner/index.js';
import { FreeIndex } from '../../src/planner/squeeze/free-index.js';
import { NO_HEADROOM, Packer } from '../../src/planner/squeeze/packer.js';
import { PackState } from '../../src/planner/squeeze/state.js';
import { cluster, host, policy, vm } from '../builders.js';

/** c's 5-GiB VM fits nowhere (a has 2 GiB free, b 4); moving w (3 GiB) from a to b makes room on a. */
const oneStepShort = cluster(
  [host('a', 16, 10), host('b', 16, 10), host('c', 16, 10)],
  [
    vm('p', 'a', 1, 5, { pinned: true }),
    vm('w', 'a', 1, 3),
    vm('q', 'b', 1, 6, { pinned: true }),
    vm('x', 'c', 1, 5),
  ],
);

const maxSqueeze = policy({ thresholds: { minimal: 0, target: 0 }, safety: { failoverReserveHosts: 0 } });

describe('FreeIndex', () => {
  it('keeps hosts sorted by key (ties by index) through updates and answers lower bounds', () => {
    const idx = new FreeIndex(5);
    [30, 10, 20, 10, 50].forEach((k, h) => idx.set(h, k));
    const order = () => Array.from({ length: idx.size }, (_, i) => idx.at(i));
    expect(order()).toEqual([1, 3, 2, 0, 4]);
    idx.set(4, 5);
    idx.delete(2);
    expect(order()).toEqual([4, 1, 3, 0]);
    expect(idx.lowerBound(10)).toBe(1);
    expect(idx.lowerBound(11)).toBe(3);
    expect(idx.lowerBound(31)).toBe(4);
    expect(idx.has(2)).toBe(false);
  });
});

describe('Packer', () => {
  const c = cluster(
    [host('a', 16, 64), host('b', 16, 64), host('c', 4, 64), host('d', 16, 64, { exclude: true })],
    [vm('a1', 'a', 1, 40), vm('b1', 'b', 1, 50), vm('c1', 'c', 1, 60), vm('new', 'd', 2, 8)],
  );

  it('puts a VM on the fullest host where it fits in every dimension, never on an excluded host', () => {
    const s = new PackState(c, maxSqueeze);
    const p = new Packer(s, NO_HEADROOM);
    const v = s.vms.findIndex((x) => x.id === 'new');
    // b has 14 GiB free (fullest that fits); c has 4 GiB free, too little; d is excluded.
    expect(s.hosts[p.bestFit(v)]!.id).toBe('b');
    expect(s.hosts[p.bestFit(v, s.hostIndex.get('b')!)]!.id).toBe('a');
  });

  it('keeps the headroom (the per_host probe) free on the receiving host', () => {
    const s = new PackState(c, maxSqueeze);
    const p = new Packer(s, { cpu: 0, memMiB: 10 * 1024, diskGiB: 0 });
    const v = s.vms.findIndex((x) => x.id === 'new');
    expect(s.hosts[p.bestFit(v)]!.id).toBe('a');
  });
});

describe('consolidate', () => {
  it('relocates a VM to make room when an evacuation is one step short (local search)', () => {
    const c = oneStepShort;
    const p = plan(c, maxSqueeze);
    expect(p.powerOff).toEqual(['c']);
    expect(
      p.waves
        .flat()
        .map((m) => `${m.vm}:${m.from}>${m.to}`)
        .sort(),
    ).toEqual(['w:a>b', 'x:c>a']);
    expect(checkPlan(c, p, maxSqueeze)).toEqual([]);
  });

  it('packs CPU by observed load against cores x cap when usage-aware', () => {
    // Allocation fits anywhere (4:1 overcommit), but a's VMs are busy: 6 of 8 cores.
    const c = cluster(
      [host('a', 8, 64), host('b', 8, 64)],
      [vm('a1', 'a', 8, 8, { cpuLoadCores: 6 }), vm('b1', 'b', 4, 8, { cpuLoadCores: 3 })],
    );
    const byAllocation = plan(c, maxSqueeze);
    expect(byAllocation.powerOff).toHaveLength(1);
    const usage = { ...maxSqueeze, usage: { cpuCap: 1 } };
    const byLoad = plan(c, usage);
    expect(byLoad.powerOff).toEqual([]);
    expect(byLoad.hosts[0]!.why).toMatch(/; CPU load 75% -> 75% of the usage cap$/);
    expect(plan(c, { ...maxSqueeze, usage: { cpuCap: 1.2 } }).powerOff).toHaveLength(1);
  });

  it('explains the kept hosts and what stopped the squeeze', () => {
    const c = cluster([host('a', 16, 16), host('b', 16, 16)], [vm('a1', 'a', 1, 12), vm('b1', 'b', 1, 12)]);
    const s = new PackState(c, maxSqueeze);
    const out = consolidate(s, maxSqueeze, 1000);
    expect(out.emptied).toEqual([]);
    expect([...out.kept.values()]).toEqual([
      'VM a1 (12.0 GiB) finds no room elsewhere',
      'VM b1 (12.0 GiB) finds no room elsewhere',
    ]);
  });
});

describe('decide', () => {
  const c = cluster([host('a', 16, 32), host('b', 16, 32)], [vm('a1', 'a', 2, 16), vm('b1', 'b', 2, 24)]);

  it('average: between minimal and target is no action, with the figure in the reason', () => {
    // fits: a 16 GiB free = 4, b 8 GiB = 2: mean 3.
    const v = decide(
      new PackState(c, policy({ thresholds: { minimal: 2, target: 4 } })),
      policy({ thresholds: { minimal: 2, target: 4 } }),
    );
    expect(v).toEqual({
      decision: 'none',
      metric: 3,
      reason:
        'free capacity 3.00 standard instances per online host (2 hosts) is between minimal 2 and target 4',
    });
  });

  it('per_host: one host without room for a minimal probe means expand, and names it', () => {
    const pol = policy({ thresholds: { mode: 'per_host', minimal: 3, target: 3 } });
    const v = decide(new PackState(c, pol), pol);
    expect(v.decision).toBe('expand');
    expect(v.reason).toBe('1 of 2 online hosts (b) cannot take a 3 x standard instance (minimal 3)');
    expect(v.metric).toBe(2);
  });
});

describe('search budget', () => {
  it('a zero budget skips the settle passes but still gives a valid plan', () => {
    const c = oneStepShort;
    // The relocation that frees c lives in the settle passes: without budget, c stays.
    const p = plan(c, maxSqueeze, { searchBudget: 0 });
    expect(p.powerOff).toEqual([]);
    expect(checkPlan(c, p, maxSqueeze)).toEqual([]);
    expect(plan(c, maxSqueeze, { searchBudget: 100 }).powerOff).toEqual(['c']);
  });
});
