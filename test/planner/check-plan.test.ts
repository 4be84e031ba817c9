import { describe, expect, it } from 'vitest';
import { checkPlan } from '../../src/planner/check-plan.js';
import { cluster, host, move as mv, planOf as plan, policy, vm } from '../builders.js';

describe('checkPlan', () => {
  const c = cluster(
    [host('a', 8, 16), host('b', 8, 16), host('c', 8, 16)],
    [vm('v1', 'a', 2, 8), vm('v2', 'b', 2, 8), vm('v3', 'c', 2, 12)],
  );
  const p = policy({ safety: { failoverReserveHosts: 0 } });

  it('accepts a valid swap through a third host and a power-off of the emptied host', () => {
    const ok = plan([[mv('v1', 'a', 'b')]], { powerOff: ['a'] });
    expect(checkPlan(c, ok, p)).toEqual([]);
  });

  it('counts a migrating VM on both ends during its wave', () => {
    // v1 (8 GiB) to b (8 free) and v2 (8 GiB) to a in the same wave: each destination still holds its own VM.
    const swap = plan([[mv('v1', 'a', 'b'), mv('v2', 'b', 'a')]]);
    expect(checkPlan(c, swap, p)).toEqual([]);
    const tooBig = plan([[mv('v3', 'c', 'a', 12 * 1024)]]);
    expect(checkPlan(c, tooBig, p).map((v) => v.message)).toEqual([
      'host a is overcommitted by 4096 memory MiB',
    ]);
  });

  it('rejects power-off of a host that still runs a VM', () => {
    const bad = plan([], { powerOff: ['a'] });
    expect(checkPlan(c, bad, p)).toEqual([{ step: 'power_off', message: 'host a still holds 1 VM(s)' }]);
  });

  it('rejects moving a pinned VM, onto an excluded host, and a wrong source', () => {
    const c2 = cluster(
      [host('a', 8, 16), host('b', 8, 16, { exclude: true })],
      [vm('v1', 'a', 1, 1, { pinned: true }), vm('v2', 'a', 1, 1)],
    );
    const messages = checkPlan(c2, plan([[mv('v1', 'a', 'b'), mv('v2', 'b', 'a')]]), p).map((v) => v.message);
    expect(messages).toContain('pinned VM v1 is moved');
    expect(messages).toContain('VM v1 goes to host b, which is excluded');
    expect(messages).toContain('VM v2 is on a, not on b');
  });

  it('enforces anti-affinity, max_per_host and max_parallel', () => {
    const c3 = cluster(
      [host('a', 16, 64), host('b', 16, 64)],
      [
        vm('g1', 'a', 1, 1, { group: 'db' }),
        vm('g2', 'b', 1, 1, { group: 'db' }),
        vm('x', 'a', 1, 1),
        vm('y', 'a', 1, 1),
      ],
    );
    const tight = policy({
      migration: { maxPerHost: 1, maxParallel: 1 },
      safety: { failoverReserveHosts: 0 },
    });
    const messages = checkPlan(c3, plan([[mv('g1', 'a', 'b'), mv('x', 'a', 'b')]]), tight).map(
      (v) => v.message,
    );
    expect(messages).toContain('VM g1 joins another VM of group db on b');
    expect(messages).toContain('2 migrations exceed max_parallel 1');
    expect(messages).toContain('2 migrations touch host a, over max_per_host 1');
  });

  it('checks min_online_hosts and the failover reserve after a squeeze', () => {
    const squeeze = plan([[mv('v1', 'a', 'b')]], { decision: 'squeeze', powerOff: ['a'] });
    const strict = policy({
      safety: { minOnlineHosts: 3, failoverReserveHosts: 1 },
      thresholds: { target: 0 },
    });
    const messages = checkPlan(c, squeeze, strict).map((v) => v.message);
    expect(messages).toContain('2 hosts left online, below min_online_hosts 3');
    expect(messages.some((m) => m.startsWith('failover reserve of 1 host(s) broken'))).toBe(true);
  });
});
