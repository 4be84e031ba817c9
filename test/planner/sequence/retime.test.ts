import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkPlan } from '../../../src/planner/check-plan.js';
import type { Wave } from '../../../src/planner/plan.js';
import { type SeqModel, buildModel, memOf } from '../../../src/planner/sequence/model.js';
import { retimeWaves } from '../../../src/planner/sequence/retime.js';
import type { Move } from '../../../src/planner/sequence/search.js';
import { greedyWaves } from '../../../src/planner/sequence/solve.js';
import type { Cluster } from '../../../src/model/cluster.js';
import type { Policy } from '../../../src/model/policy.js';
import { cluster, host, policy, vm } from '../../builders.js';
import { reachableInstance } from './generate.js';
import { planOf } from './helpers.js';

function modelOf(c: Cluster, p: Policy, target: ReadonlyMap<string, string>): SeqModel {
  return buildModel(c, p, target, [], [], undefined);
}

function makespan(m: SeqModel, waves: readonly Move[][]): number {
  return waves.reduce((s, w) => s + Math.max(...w.map((mv) => m.est[mv.v]!)), 0);
}

function asWaves(m: SeqModel, waves: readonly Move[][]): Wave[] {
  return waves.map((w) =>
    w.map((mv) => ({
      vm: m.vms[mv.v]!.id,
      from: m.hosts[mv.from]!.id,
      to: m.hosts[mv.to]!.id,
      memMiB: memOf(m, mv.v),
      estSeconds: m.est[mv.v]!,
      converges: true,
    })),
  );
}

/** Each VM's migrations in plan order (what re-timing must keep). */
function journeys(m: SeqModel, waves: readonly Move[][]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const mv of waves.flat()) {
    const id = m.vms[mv.v]!.id;
    out.set(id, [...(out.get(id) ?? []), `${m.hosts[mv.from]!.id}->${m.hosts[mv.to]!.id}`]);
  }
  return out;
}

describe('retimeWaves', () => {
  const p = policy({ safety: { failoverReserveHosts: 0 }, migration: { maxParallel: 2, maxPerHost: 2 } });
  const c = cluster(
    [host('a', 8, 64), host('b', 8, 64), host('c', 8, 64), host('d', 8, 64)],
    [vm('long1', 'a', 1, 8), vm('short1', 'c', 1, 1), vm('long2', 'c', 1, 8), vm('short2', 'a', 1, 1)],
  );
  const target = new Map([
    ['long1', 'b'],
    ['short1', 'd'],
    ['long2', 'd'],
    ['short2', 'b'],
  ]);

  it('exchanges migrations between full waves so long ones share a wave', () => {
    const m = modelOf(c, p, target);
    const mv = (id: string): Move => {
      const v = m.vmIndex.get(id)!;
      return { v, from: m.a[v]!, to: m.b[v]! };
    };
    // Each full wave (max_parallel 2) pairs a long migration with a short one: 2 x 8.192 s.
    const mixed = [
      [mv('long1'), mv('short1')],
      [mv('long2'), mv('short2')],
    ];
    const retimed = retimeWaves(m, mixed);
    expect(makespan(m, mixed)).toBeCloseTo(2 * 8.192, 6);
    expect(makespan(m, retimed)).toBeCloseTo(8.192 + 1.024, 6);
    expect(retimed.map((w) => w.map((x) => m.vms[x.v]!.id).sort()).sort()).toEqual([
      ['long1', 'long2'],
      ['short1', 'short2'],
    ]);
    expect(checkPlan(c, planOf(asWaves(m, retimed)), p)).toEqual([]);
  });

  it('keeps a move behind the one that makes room for it', () => {
    // d holds 60 of 64 GiB until full leaves; long2 (8 GiB) can only arrive after that.
    const tight = cluster(
      [host('a', 8, 64), host('b', 8, 64), host('c', 8, 64), host('d', 8, 64)],
      [vm('full', 'd', 1, 60), vm('short1', 'a', 1, 1), vm('long2', 'c', 1, 8)],
    );
    const t = new Map([
      ['full', 'b'],
      ['short1', 'b'],
      ['long2', 'd'],
    ]);
    const m = modelOf(tight, p, t);
    const greedy = greedyWaves(m, Int32Array.from(m.b), { left: 1e6 });
    if (greedy.status !== 'ok') expect.fail(greedy.status);
    const retimed = retimeWaves(m, greedy.waves);
    const waveOf = (id: string) => retimed.findIndex((w) => w.some((x) => m.vms[x.v]!.id === id));
    expect(waveOf('long2')).toBeGreaterThan(waveOf('full'));
    expect(checkPlan(tight, planOf(asWaves(m, retimed)), p)).toEqual([]);
  });

  it('never lengthens a plan, keeps every VM journey, and checkPlan accepts the result', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.integer({ min: 2, max: 40 }),
        fc.constantFrom('default' as const, 'dense' as const),
        (s, hosts, sizing) => {
          const inst = reachableInstance(s, { hosts, sizing, moves: 100, extras: true });
          const m = modelOf(inst.cluster, inst.policy, inst.target);
          const greedy = greedyWaves(m, Int32Array.from(m.b), { left: 1e6 });
          if (greedy.status !== 'ok') return;
          const retimed = retimeWaves(m, greedy.waves);
          expect(makespan(m, retimed)).toBeLessThanOrEqual(makespan(m, greedy.waves) + 1e-9);
          expect(retimed.length).toBeLessThanOrEqual(greedy.waves.length);
          expect(journeys(m, retimed)).toEqual(journeys(m, greedy.waves));
          expect(checkPlan(inst.cluster, planOf(asWaves(m, retimed)), inst.policy)).toEqual([]);
        },
      ),
      { numRuns: 150, seed: 20261121 },
    );
  });
});
