import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Occupancy } from '../../src/model/capacity.js';
import type { Cluster, Host, Vm } from '../../src/model/cluster.js';
import { failoverShortfall } from '../../src/model/metric.js';
import type { Policy } from '../../src/model/policy.js';
import { checkPlan } from '../../src/planner/check-plan.js';
import { plan } from '../../src/planner/index.js';
import type { Plan } from '../../src/planner/plan.js';
import { failoverShortfallFast } from '../../src/planner/squeeze/failover.js';
import { PackState } from '../../src/planner/squeeze/state.js';
import { policy } from '../builders.js';

/** A random cluster of up to 40 hosts: feasible start, some pinned VMs, groups, excluded/draining/standby hosts. */
const clusterArb: fc.Arbitrary<Cluster> = fc
  .record({
    hosts: fc.array(
      fc.record({
        cpu: fc.constantFrom(8, 16, 32),
        memGiB: fc.constantFrom(32, 64, 128),
        state: fc.constantFrom<Host['state']>('on', 'on', 'on', 'on', 'on', 'on', 'standby', 'unknown'),
        flag: fc.constantFrom('none', 'none', 'none', 'none', 'none', 'exclude', 'drain', 'keepOn'),
        idleWatts: fc.option(fc.integer({ min: 50, max: 200 }), { nil: undefined }),
      }),
      { minLength: 1, maxLength: 40, size: 'max' },
    ),
    vms: fc.array(
      fc.record({
        cpu: fc.integer({ min: 1, max: 8 }),
        memGiB: fc.integer({ min: 1, max: 24 }),
        pinned: fc.integer({ min: 0, max: 9 }).map((n) => n < 2),
        group: fc.option(fc.constantFrom('g1', 'g2', 'g3'), { nil: undefined }),
        loadPerMille: fc.option(fc.integer({ min: 0, max: 1000 }), { nil: undefined }),
        hostPick: fc.nat(),
      }),
      { maxLength: 200, size: 'max' },
    ),
  })
  .map(({ hosts, vms }) => build(hosts, vms));

function build(
  hs: ReadonlyArray<{
    cpu: number;
    memGiB: number;
    state: Host['state'];
    flag: string;
    idleWatts: number | undefined;
  }>,
  vs: ReadonlyArray<{
    cpu: number;
    memGiB: number;
    pinned: boolean;
    group: string | undefined;
    loadPerMille: number | undefined;
    hostPick: number;
  }>,
): Cluster {
  const hosts: Host[] = hs.map((h, i) => ({
    id: `h${String(i).padStart(2, '0')}`,
    capacity: { cpu: h.cpu, memMiB: h.memGiB * 1024, diskGiB: 1000 },
    reserved: { cpu: 0, memMiB: 0, diskGiB: 0 },
    state: h.state,
    exclude: h.flag === 'exclude',
    keepOn: h.flag === 'keepOn',
    drain: h.flag === 'drain',
    tags: [],
    ...(h.idleWatts !== undefined && { idleWatts: h.idleWatts, maxWatts: h.idleWatts * 3 }),
  }));
  // Place each VM on the picked host if it fits (keeps the start feasible), else leave it out.
  const vms: Vm[] = [];
  const occ = new Occupancy({ hosts, vms: [], source: 'prop' }, P);
  vs.forEach((v, i) => {
    const candidates = hosts.filter((h) => h.state === 'on' || h.state === 'unknown');
    if (candidates.length === 0) return;
    const h = candidates[v.hostPick % candidates.length]!;
    const vmObj: Vm = {
      id: `v${String(i).padStart(3, '0')}`,
      demand: { cpu: v.cpu, memMiB: v.memGiB * 1024, diskGiB: 10 },
      host: h.id,
      pinned: v.pinned,
      ...(v.group !== undefined && { group: v.group }),
      ...(v.loadPerMille !== undefined && { cpuLoadCores: (v.cpu * v.loadPerMille) / 1000 }),
    };
    if (!occ.canAccept(vmObj, h.id)) return;
    occ.place(vmObj, h.id);
    vms.push(vmObj);
  });
  return { hosts, vms, source: 'prop' };
}

const P = policy({ thresholds: { minimal: 1, target: 2 }, safety: { failoverReserveHosts: 1 } });

const policyArb: fc.Arbitrary<Policy> = fc
  .record({
    mode: fc.constantFrom<'average' | 'per_host'>('average', 'per_host'),
    minimal: fc.constantFrom(0, 1, 2),
    gap: fc.constantFrom(0, 1, 3),
    reserve: fc.constantFrom(0, 0, 1),
    cpuCap: fc.option(fc.constantFrom(0.3, 0.6, 1), { nil: undefined }),
  })
  .map(({ mode, minimal, gap, reserve, cpuCap }) => {
    const p = policy({
      thresholds: { mode, minimal, target: minimal + gap },
      safety: { failoverReserveHosts: reserve, minOnlineHosts: 1 },
    });
    return cpuCap === undefined ? p : { ...p, usage: { cpuCap } };
  });

/** The cluster after a plan: VMs on their new hosts, powered-off hosts standby, woken hosts on. */
function applied(c: Cluster, p: Plan): Cluster {
  const to = new Map(p.waves.flatMap((w) => w.map((m) => [m.vm, m.to] as const)));
  const off = new Set(p.powerOff);
  const on = new Set(p.powerOn);
  return {
    ...c,
    hosts: c.hosts.map((h) =>
      off.has(h.id) ? { ...h, state: 'standby' } : on.has(h.id) ? { ...h, state: 'on' } : h,
    ),
    vms: c.vms.map((v) => (to.has(v.id) ? { ...v, host: to.get(v.id)! } : v)),
  };
}

const runs = { numRuns: 60 };

describe('planner properties (random clusters up to 40 hosts)', () => {
  it('checkPlan accepts every plan, and no VM moves twice', () => {
    fc.assert(
      fc.property(clusterArb, policyArb, (c, pol) => {
        const p = plan(c, pol);
        expect(checkPlan(c, p, pol)).toEqual([]);
        const vms = p.waves.flatMap((w) => w.map((m) => m.vm));
        expect(new Set(vms).size).toBe(vms.length);
        expect(p.hosts.map((h) => h.id)).toEqual(c.hosts.map((h) => h.id));
      }),
      runs,
    );
  });

  it('re-planning a squeeze result at the same thresholds squeezes nothing more', () => {
    let squeezes = 0;
    fc.assert(
      fc.property(clusterArb, policyArb, (c, pol) => {
        const p = plan(c, pol);
        fc.pre(p.decision === 'squeeze');
        squeezes += 1;
        const again = plan(applied(c, p), pol);
        expect(again.powerOff).toEqual([]);
      }),
      { numRuns: 120 },
    );
    // The property must not hold vacuously: most random clusters are squeezable.
    expect(squeezes).toBeGreaterThan(30);
  });

  it('the same input gives the same plan', () => {
    fc.assert(
      fc.property(clusterArb, policyArb, (c, pol) => {
        const copy: Cluster = JSON.parse(JSON.stringify(c));
        expect(plan(copy, pol)).toEqual(plan(c, pol));
      }),
      { numRuns: 30 },
    );
  });

  it('the fast failover check agrees with model/metric failoverShortfall', () => {
    fc.assert(
      fc.property(clusterArb, fc.integer({ min: 0, max: 3 }), (c, reserve) => {
        const state = new PackState(c, P);
        const fast = failoverShortfallFast(state, reserve);
        const slow = failoverShortfall(new Occupancy(c, P), c, reserve);
        expect(fast < 0 ? undefined : state.vms[fast]!.id).toBe(slow);
      }),
      { numRuns: 150 },
    );
  });

  it('PackState.fits agrees with Occupancy.canAccept', () => {
    fc.assert(
      fc.property(clusterArb, fc.nat(), fc.boolean(), (c, pick, usage) => {
        const pol = usage ? { ...P, usage: { cpuCap: 0.5 } } : P;
        const state = new PackState(c, pol);
        const occ = new Occupancy(c, pol);
        fc.pre(state.vms.length > 0);
        const v = pick % state.vms.length;
        c.hosts.forEach((h, i) => expect(state.fits(v, i)).toBe(occ.canAccept(state.vms[v]!, h.id)));
      }),
      { numRuns: 150 },
    );
  });
});
