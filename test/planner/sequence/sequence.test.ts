import { describe, expect, it } from 'vitest';
import { checkPlan } from '../../../src/planner/check-plan.js';
import { estimateMigration, sequence } from '../../../src/planner/sequence/index.js';
import { cluster, host, policy, vm } from '../../builders.js';
import { planOf } from './helpers.js';

const GiB = 1024;

describe('estimateMigration', () => {
  const p = policy({ migration: { bandwidthMiBps: 1000, maxDowntimeMs: 300 } });

  it('copies the memory once when the dirty rate is unknown', () => {
    expect(estimateMigration(vm('v', 'a', 1, 8), p)).toEqual({ seconds: 8.192, converges: true });
  });

  it('adds pre-copy rounds until the dirty set fits the downtime', () => {
    // 1000 MiB at 1000 MiB/s: 1 s; 100 MiB dirtied -> 0.1 s; 10 MiB left <= 300 MiB budget: stop-and-copy 0.01 s.
    const e = estimateMigration(
      { ...vm('v', 'a', 1, 0), demand: { cpu: 1, memMiB: 1000, diskGiB: 0 }, dirtyRateMiBps: 100 },
      p,
    );
    expect(e.converges).toBe(true);
    expect(e.seconds).toBeCloseTo(1 + 0.1, 9);
  });

  it('marks a guest dirtying faster than the link as non-converging', () => {
    const e = estimateMigration({ ...vm('v', 'a', 1, 4), dirtyRateMiBps: 1500 }, p);
    expect(e.converges).toBe(false);
    expect(e.seconds).toBeGreaterThan(4.096 * 30);
  });
});

describe('sequence', () => {
  const p = policy({ safety: { failoverReserveHosts: 0 } });

  it('breaks a swap deadlock through the host that is about to be switched off', () => {
    // a and b each hold one 12 GiB VM and must swap; c (going off) and d both have room: c is preferred.
    const c = cluster(
      [host('a', 8, 16), host('b', 8, 16), host('c', 8, 16), host('d', 8, 32)],
      [vm('v1', 'a', 1, 12), vm('v2', 'b', 1, 12)],
    );
    const target = new Map([
      ['v1', 'b'],
      ['v2', 'a'],
    ]);
    const r = sequence({ cluster: c, policy: p, target, powerOff: ['c'] });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.waves.flat().filter((m) => m.to === 'c')).toHaveLength(1);
    expect(r.migratedMemMiB).toBe(36 * GiB);
    expect(r.powerOff).toEqual(['c']);
    expect(checkPlan(c, planOf(r.waves, r.powerOff), p)).toEqual([]);
  });

  it('explains a target that moves a pinned VM or fills a draining host', () => {
    const c = cluster(
      [host('a', 8, 16), host('b', 8, 16, { drain: true })],
      [vm('v1', 'a', 1, 2, { pinned: true }), vm('v2', 'a', 1, 2)],
    );
    const r = sequence({ cluster: c, policy: p, target: new Map([['v1', 'b']]) });
    expect(r.status).toBe('unreachable');
    if (r.status === 'ok') return;
    expect(r.explanation).toContain('VM v1 is pinned to a');
    expect(r.explanation).toContain('host b takes no VMs (draining)');
    expect(r.blocking.vms).toEqual(['v1']);
  });

  it('explains a target that overcommits a host', () => {
    const c = cluster([host('a', 8, 16), host('b', 8, 16)], [vm('v1', 'a', 1, 10), vm('v2', 'b', 1, 10)]);
    const r = sequence({ cluster: c, policy: p, target: new Map([['v1', 'b']]) });
    expect(r.status).toBe('unreachable');
    if (r.status === 'ok') return;
    expect(r.explanation).toContain('the target overcommits host b: 20480 memory MiB needed, limit 16384');
  });

  it('keeps anti-affinity during the waves: a group mate must have left before the next arrives', () => {
    const c = cluster(
      [host('a', 8, 16), host('b', 8, 16)],
      [vm('x1', 'a', 1, 2, { group: 'g' }), vm('x2', 'b', 1, 2, { group: 'g' })],
    );
    const target = new Map([
      ['x1', 'b'],
      ['x2', 'a'],
    ]);
    const r = sequence({ cluster: c, policy: policy({ antiAffinity: true }), target });
    // Every order puts both group VMs on one host at some point: no safe plan exists.
    expect(r.status).toBe('unreachable');
    if (r.status === 'ok') return;
    expect(r.explanation).toMatch(/cycle a -> b -> a/);
  });

  it('respects max_per_host and max_parallel', () => {
    const vms = Array.from({ length: 6 }, (_, i) => vm(`v${i}`, 'a', 1, 1));
    const c = cluster([host('a', 16, 64), host('b', 16, 64), host('c', 16, 64)], vms);
    const target = new Map(vms.map((v, i) => [v.id, i % 2 ? 'b' : 'c']));
    const tight = policy({ migration: { maxPerHost: 2, maxParallel: 1 } });
    const r = sequence({ cluster: c, policy: tight, target });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.waves).toHaveLength(6);
    const wide = sequence({
      cluster: c,
      policy: policy({ migration: { maxPerHost: 2, maxParallel: 10 } }),
      target,
    });
    expect(wide.status === 'ok' && wide.waves.length).toBe(3);
  });

  it('leaves out VMs over max_migration_seconds, and the moves that needed their room', () => {
    // big (16 GiB, 16.4 s) is too slow; small was to take its place on a.
    const c = cluster(
      [host('a', 8, 20), host('b', 8, 20), host('c', 8, 20)],
      [vm('big', 'a', 1, 16), vm('small', 'b', 1, 8), vm('other', 'c', 1, 2)],
    );
    const target = new Map([
      ['big', 'c'],
      ['small', 'a'],
      ['other', 'b'],
    ]);
    const limited = policy({ migration: { maxMigrationSeconds: 10, bandwidthMiBps: 1000 } });
    const r = sequence({ cluster: c, policy: limited, target });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.waves.flat().map((m) => m.vm)).toEqual(['other']);
    expect(r.leftOut).toEqual([
      { kind: 'vm', id: 'big', reason: 'max_migration_seconds 10: estimated 16.38 s' },
      { kind: 'vm', id: 'small', reason: 'max_migration_seconds 10: its target host a would be too full' },
    ]);
  });

  it('fits the plan budget by leaving whole hosts unemptied', () => {
    const vms = ['a', 'b', 'c'].flatMap((h) => Array.from({ length: 4 }, (_, i) => vm(`${h}${i}`, h, 1, 4)));
    const c = cluster([host('a', 16, 64), host('b', 16, 64), host('c', 16, 64), host('d', 64, 256)], vms);
    const target = new Map(vms.map((v) => [v.id, 'd']));
    const budgeted = policy({
      migration: { maxPerHost: 8, maxParallel: 8, bandwidthMiBps: 1024, planBudgetSeconds: 5 },
    });
    const r = sequence({ cluster: c, policy: budgeted, target, powerOff: ['a', 'b', 'c'] });
    expect(r.status).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.estMakespanSeconds).toBeLessThanOrEqual(5);
    const dropped = r.leftOut.filter((l) => l.kind === 'host').map((l) => l.id);
    expect(dropped).toEqual(['c']);
    expect(r.powerOff.length + dropped.length).toBe(3);
    for (const h of dropped) expect(r.waves.flat().some((m) => m.from === h)).toBe(false);
    expect(r.leftOut.every((l) => l.reason.startsWith('plan_budget_seconds 5'))).toBe(true);
    expect(checkPlan(c, planOf(r.waves, r.powerOff), budgeted)).toEqual([]);
  });

  it('orders long migrations first inside a wave and sums wave maxima into the makespan', () => {
    const c = cluster([host('a', 16, 64), host('b', 16, 64)], [vm('s', 'a', 1, 1), vm('l', 'a', 1, 8)]);
    const r = sequence({
      cluster: c,
      policy: p,
      target: new Map([
        ['s', 'b'],
        ['l', 'b'],
      ]),
    });
    expect(r.status === 'ok' && r.waves[0]!.map((m) => m.vm)).toEqual(['l', 's']);
    expect(r.status === 'ok' && r.estMakespanSeconds).toBeCloseTo((8 * GiB) / 1000, 6);
  });

  it('finishes a host to be switched off first among equally long migrations', () => {
    const vms = [
      ...['a0', 'a1', 'a2'].map((id) => vm(id, 'a', 1, 2)),
      ...['b0', 'b1'].map((id) => vm(id, 'b', 1, 2)),
    ];
    const c = cluster([host('a', 16, 64), host('b', 16, 64), host('c', 16, 64)], vms);
    const target = new Map(vms.map((v) => [v.id, 'c']));
    const r = sequence({
      cluster: c,
      policy: policy({ migration: { maxParallel: 2, maxPerHost: 2 } }),
      target,
      powerOff: ['b'],
    });
    expect(r.status === 'ok' && r.waves[0]!.map((m) => m.vm)).toEqual(['b0', 'b1']);
  });

  it('reports unknown, not unreachable, when the search budget runs out', () => {
    // A deadlock with some small VMs free to move: no search budget to prove or find anything.
    const c = cluster(
      [host('a', 8, 16), host('b', 8, 16)],
      [vm('v1', 'a', 1, 12), vm('v2', 'b', 1, 12), vm('s1', 'a', 1, 1), vm('s2', 'b', 1, 1)],
    );
    const target = new Map([
      ['v1', 'b'],
      ['v2', 'a'],
    ]);
    const r = sequence({ cluster: c, policy: p, target, searchBudget: 0 });
    expect(r.status).toBe('unknown');
    if (r.status === 'ok') return;
    expect(r.explanation).toContain('search budget exhausted');
    // Without the small VMs nothing can move at all: that is a proof, whatever the budget.
    const frozen = cluster(
      [host('a', 8, 16), host('b', 8, 16)],
      [vm('v1', 'a', 1, 12), vm('v2', 'b', 1, 12)],
    );
    expect(sequence({ cluster: frozen, policy: p, target, searchBudget: 0 }).status).toBe('unreachable');
  });
});
