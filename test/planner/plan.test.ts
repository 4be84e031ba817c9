import { describe, expect, it } from 'vitest';
import type { Host } from '../../src/model/cluster.js';
import { checkPlan } from '../../src/planner/check-plan.js';
import { plan } from '../../src/planner/index.js';
import type { Plan } from '../../src/planner/plan.js';
import { cluster, host, policy, vm } from '../builders.js';

const noReserve = policy({ safety: { failoverReserveHosts: 0 } });

function why(p: Plan, id: string): string {
  return p.hosts.find((h) => h.id === id)!.why;
}

function movedVms(p: Plan): string[] {
  return p.waves.flatMap((w) => w.map((m) => m.vm)).sort();
}

/** Four 16-vCPU / 64-GiB hosts, each a quarter full: room to empty three of them. */
function quarterFull(extra: Record<string, Partial<Host>> = {}) {
  const ids = ['a', 'b', 'c', 'd'];
  return cluster(
    ids.map((id) => host(id, 16, 64, extra[id] ?? {})),
    ids.flatMap((id) => [vm(`${id}1`, id, 2, 8), vm(`${id}2`, id, 2, 8)]),
  );
}

describe('plan: squeeze', () => {
  it('empties hosts while the average stays above target, and checkPlan accepts the plan', () => {
    const c = quarterFull();
    const p = plan(c, policy({ thresholds: { minimal: 1, target: 4 }, safety: { failoverReserveHosts: 0 } }));
    expect(checkPlan(c, p, noReserve)).toEqual([]);
    expect(p.decision).toBe('squeeze');
    // 64 GiB of VMs on 4 x 64 GiB: metric before (12 x 4) / 4 = 12; with 2 hosts left (8 + 8) / 2 = 8 >= 4,
    // with 1 host left 0 < 4: exactly two hosts go.
    expect(p.powerOff).toHaveLength(2);
    expect(p.summary.hostsOnAfter).toBe(2);
    expect(p.metric.before).toBe(12);
    expect(p.metric.after).toBe(8);
    expect(p.reason).toMatch(
      /free capacity 12\.00 standard instances per online host \(4 hosts\) is above target 4/,
    );
    for (const id of p.powerOff) expect(why(p, id)).toMatch(/^emptied: 2 VMs \(16\.0 GiB\) moved/);
    const kept = p.hosts.find((h) => h.stateAfter === 'on' && h.why.startsWith('kept: needed'));
    expect(kept?.why).toMatch(/target 4 \(would drop to 0\.00\)/);
  });

  it('never empties a host with a pinned VM and says why', () => {
    const c = cluster(
      [host('a', 16, 64), host('b', 16, 64)],
      [vm('pin', 'a', 1, 1, { pinned: true }), vm('x', 'b', 1, 1)],
    );
    const p = plan(c, noReserve);
    expect(p.powerOff).toEqual(['b']);
    expect(why(p, 'a')).toContain('pinned VM pin cannot move');
    expect(checkPlan(c, p, noReserve)).toEqual([]);
  });

  it('leaves excluded and unknown hosts alone, never powers off a keep-on host but fills it', () => {
    const c = quarterFull({ a: { exclude: true }, b: { state: 'unknown' }, c: { keepOn: true } });
    const p = plan(c, noReserve);
    expect(checkPlan(c, p, noReserve)).toEqual([]);
    expect(p.powerOff).toEqual(['d']);
    expect(movedVms(p)).toEqual(['d1', 'd2']);
    expect(p.waves.flat().every((m) => m.to === 'c')).toBe(true);
    expect(why(p, 'a')).toBe('excluded by config: never emptied, filled or powered off');
    expect(why(p, 'b')).toMatch(/^unknown: not reachable/);
    expect(p.warnings).toContain('host b is unknown (not reachable): not emptied, filled or powered off');
    expect(why(p, 'c')).toMatch(/^kept on: never powered off/);
  });

  it('respects max_power_off_per_run and min_online_hosts', () => {
    const c = quarterFull();
    const one = policy({
      safety: { failoverReserveHosts: 0, maxPowerOffPerRun: 1 },
      thresholds: { target: 0, minimal: 0 },
    });
    expect(plan(c, one).powerOff).toHaveLength(1);
    const three = policy({
      safety: { failoverReserveHosts: 0, minOnlineHosts: 3 },
      thresholds: { target: 0, minimal: 0 },
    });
    const p = plan(c, three);
    expect(p.powerOff).toHaveLength(1);
    expect(p.reason).toContain('limited by min_online_hosts 3 reached');
  });

  it('keeps the failover reserve: the VMs of the fullest host must still fit elsewhere', () => {
    const c = quarterFull();
    const reserve = policy({ safety: { failoverReserveHosts: 1 }, thresholds: { target: 0, minimal: 0 } });
    const p = plan(c, reserve);
    expect(checkPlan(c, p, reserve)).toEqual([]);
    // 64 GiB of VMs: one host could hold all, but then losing it strands everything; two hosts of 32 GiB do.
    expect(p.powerOff).toHaveLength(2);
  });

  it('honours anti-affinity when placing', () => {
    const c = cluster(
      [host('a', 16, 64), host('b', 16, 64), host('c', 16, 64)],
      [vm('g1', 'a', 1, 4, { group: 'db' }), vm('g2', 'b', 1, 4, { group: 'db' }), vm('x', 'c', 1, 4)],
    );
    const p = plan(c, noReserve);
    expect(checkPlan(c, p, noReserve)).toEqual([]);
    expect(p.powerOff).toHaveLength(1);
    expect(p.powerOff).not.toContain('c');
  });

  it('prefers switching off the host with the most idle power per MiB to move', () => {
    const c = cluster(
      [
        host('a', 16, 64, { idleWatts: 100 }),
        host('b', 16, 64, { idleWatts: 300 }),
        host('c', 16, 64, { idleWatts: 100 }),
      ],
      [vm('a1', 'a', 1, 8), vm('b1', 'b', 1, 8), vm('c1', 'c', 1, 40)],
    );
    const p = plan(
      c,
      policy({
        safety: { failoverReserveHosts: 0, maxPowerOffPerRun: 1 },
        thresholds: { target: 0, minimal: 0 },
      }),
    );
    expect(p.powerOff).toEqual(['b']);
    expect(p.summary.estPowerSavedWatts).toBe(300);
    expect(why(p, 'b')).toBe('emptied: 1 VM (8.0 GiB) moved, idle 300 W saved');
  });
});

describe('plan: drains', () => {
  it('evacuates a draining host even when no squeeze is due, and keeps it on', () => {
    const c = cluster(
      [host('a', 16, 64), host('b', 16, 64, { drain: true }), host('c', 16, 64)],
      [
        vm('a1', 'a', 4, 40),
        vm('b1', 'b', 2, 8),
        vm('b2', 'b', 2, 8, { pinned: true }),
        vm('c1', 'c', 4, 40),
      ],
    );
    const p = plan(c, policy({ thresholds: { minimal: 1, target: 10 } }));
    expect(p.decision).toBe('none');
    expect(movedVms(p)).toEqual(['b1']);
    expect(p.powerOff).toEqual([]);
    expect(p.leftOut).toContainEqual({ kind: 'vm', id: 'b2', reason: 'pinned on draining host b' });
    expect(why(p, 'b')).toMatch(/^draining: 1 VM \(8\.0 GiB\) moved off; 1 VM\(s\) stay/);
    expect(p.reason).toContain('draining hosts: 1 VM(s) moved off');
    expect(checkPlan(c, p, policy())).toEqual([]);
  });
});

describe('plan: expand', () => {
  const hot = (standby: Array<Partial<Host>>) =>
    cluster(
      [
        host('a', 16, 32),
        host('b', 16, 32),
        ...standby.map((s, i) => host(`s${i}`, 16, 32, { state: 'standby', ...s })),
      ],
      [vm('a1', 'a', 2, 15), vm('a2', 'a', 2, 15), vm('b1', 'b', 2, 15), vm('b2', 'b', 2, 15)],
    );
  const p2 = policy({ thresholds: { minimal: 1, target: 2 } });

  it('wakes the fewest, most efficient standby hosts (never wake-failed) and rebalances onto them', () => {
    const c = hot([
      { idleWatts: 200 },
      { idleWatts: 90, tags: ['wake-failed'] },
      { idleWatts: 100 },
      { idleWatts: 150 },
    ]);
    const p = plan(c, p2);
    expect(p.decision).toBe('expand');
    // Before: 2 GiB free on a and b: fit 0 < minimal 1. With s2 (fit 8): (0 + 0 + 8) / 3 = 2.67 >= 2.
    // Rebalance: a 15-GiB VM from a to s2 (s2 keeps 17 GiB > a's 2); the next one would leave s2 with
    // 2 GiB, not more than b's 2: load would not get more even, so it stays.
    expect(p.powerOn).toEqual(['s2']);
    expect(p.metric.after).toBeCloseTo(8 / 3, 5);
    expect(p.summary.migrations).toBe(1);
    expect(checkPlan(c, p, p2)).toEqual([]);
    expect(why(p, 's1')).toMatch(/wake-failed/);
    expect(why(p, 's0')).toBe('standby: not needed');
    expect(p.waves.flat().every((m) => m.to === 's2')).toBe(true);
  });

  it('does not wake a host that cannot help: the full host runs only pinned VMs (hsqueeze weakness 7)', () => {
    const c = cluster(
      [host('n0', 8, 4), host('n1', 8, 4), host('n3', 8, 4, { state: 'standby' })],
      [vm('i0', 'n0', 1, 1), vm('i1', 'n1', 1, 2, { pinned: true }), vm('i2', 'n1', 1, 2, { pinned: true })],
    );
    const perHost = policy({
      standard: { cpu: 1, memMiB: 1024, diskGiB: 0 },
      thresholds: { mode: 'per_host', minimal: 2, target: 2 },
    });
    const p = plan(c, perHost);
    expect(p.decision).toBe('expand');
    expect(p.powerOn).toEqual([]);
    expect(p.reason).toContain('n1 stay short of room because their VMs cannot move (pinned)');
    expect(why(p, 'n3')).toBe('standby: waking it would not help');
    expect(why(p, 'n1')).toMatch(/^short of room: its VMs are pinned/);
  });
});

describe('plan: sequencer limits', () => {
  it('re-plans around a VM too slow to migrate: its host stays, another host is emptied instead', () => {
    // b is the cheapest host to empty (28 GiB), but its VM needs ~29 s at 1000 MiB/s, over
    // max_migration_seconds 20; the 15-GiB VMs of a take ~15 s.
    const c = cluster(
      [host('a', 16, 64), host('b', 16, 64), host('c', 16, 64)],
      [
        vm('a1', 'a', 1, 15),
        vm('a2', 'a', 1, 15),
        vm('b1', 'b', 1, 28),
        vm('c1', 'c', 1, 20),
        vm('c2', 'c', 1, 20),
      ],
    );
    const pol = policy({
      thresholds: { minimal: 0, target: 0 },
      safety: { failoverReserveHosts: 0, maxPowerOffPerRun: 1 },
      migration: { maxMigrationSeconds: 20 },
    });
    const unlimited = plan(c, { ...pol, migration: { ...pol.migration, maxMigrationSeconds: undefined } });
    expect(unlimited.powerOff).toEqual(['b']);
    const p = plan(c, pol);
    expect(checkPlan(c, p, pol)).toEqual([]);
    expect(movedVms(p)).not.toContain('b1');
    expect(p.powerOff).toEqual(['a']);
    expect(p.leftOut.map((l) => l.id)).toContain('b1');
  });
});

describe('plan: drains with a squeeze', () => {
  it('evacuates the draining host first, then squeezes the rest; the drained host stays on', () => {
    const c = cluster(
      [host('a', 16, 64), host('b', 16, 64, { drain: true }), host('c', 16, 64), host('d', 16, 64)],
      [vm('a1', 'a', 2, 16), vm('b1', 'b', 2, 16), vm('c1', 'c', 2, 8), vm('d1', 'd', 2, 24)],
    );
    const p = plan(c, noReserve);
    expect(checkPlan(c, p, noReserve)).toEqual([]);
    expect(p.decision).toBe('squeeze');
    expect(movedVms(p)).toContain('b1');
    expect(p.powerOff).not.toContain('b');
    expect(p.powerOff.length).toBeGreaterThan(0);
    expect(why(p, 'b')).toMatch(/^draining: 1 VM \(16\.0 GiB\) moved off; left on for maintenance/);
    // Every VM ends on a host that is neither draining nor powered off.
    const to = new Map(p.waves.flat().map((m) => [m.vm, m.to]));
    const end = c.vms.map((v) => to.get(v.id) ?? v.host);
    expect(end.every((h) => h !== 'b' && !p.powerOff.includes(h!))).toBe(true);
  });
});

describe('plan: degenerate clusters', () => {
  it('no hosts: nothing to do', () => {
    const p = plan(cluster([], []), policy());
    expect(p.decision).toBe('none');
    expect(p.reason).toBe('the cluster has no hosts');
  });

  it.each(['average', 'per_host'] as const)('no online host (%s): wakes a standby host', (mode) => {
    const p = plan(cluster([host('a', 8, 16, { state: 'standby' })], []), policy({ thresholds: { mode } }));
    expect(p.decision).toBe('expand');
    expect(p.powerOn).toEqual(['a']);
  });

  it('no online host and none to wake: says so', () => {
    const c = cluster([host('a', 8, 16, { state: 'unknown' })], [vm('x', 'a', 1, 1)]);
    const p = plan(c, policy());
    expect(p.powerOn).toEqual([]);
    expect(p.reason).toBe('no host is online to run VMs: no standby host can be woken');
  });
});
