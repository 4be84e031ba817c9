import { describe, expect, it } from 'vitest';
import { executePlan, type PowerActions } from '../../src/executor/index.js';
import { staleAssumptions } from '../../src/executor/revalidate.js';
import type { Migrator } from '../../src/migration/types.js';
import type { Migration, Plan } from '../../src/planner/plan.js';
import { cluster, host, move as mv, planOf as bare, vm } from '../builders.js';

// The executor only orchestrates; its adapters have their own real-peer tests (libvirt, ipmi_sim, sshd).
// Here an in-memory hypervisor records the order of actions, which is what this module decides.

function planOf(powerOn: string[], waves: Migration[][], powerOff: string[]): Plan {
  return bare(waves, { decision: 'squeeze', powerOn, powerOff });
}

function recorder(opts: { failVm?: string; failWake?: string; quarantine?: boolean } = {}) {
  const log: string[] = [];
  const migrator: Migrator = {
    async migrate(m) {
      log.push(`start ${m.vm}`);
      await new Promise((r) => setTimeout(r, m.vm === opts.failVm ? 5 : 20));
      log.push(`end ${m.vm}`);
      return m.vm === opts.failVm
        ? { vm: m.vm, ok: false, durationMs: 5, error: 'migration job aborted: timeout' }
        : { vm: m.vm, ok: true, durationMs: 20 };
    },
  };
  const power: PowerActions = {
    async wake(h) {
      log.push(`wake ${h}`);
      return h === opts.failWake
        ? { ok: false, error: 'never came up', quarantined: opts.quarantine }
        : { ok: true };
    },
    async powerOff(h) {
      log.push(`off ${h}`);
      return { ok: true };
    },
  };
  const journal: string[] = [];
  return {
    log,
    journal,
    deps: {
      migrator,
      power,
      journal: (e: { action: string; target: string; phase: string }) =>
        journal.push(`${e.phase} ${e.action} ${e.target}`),
      migrationTimeoutMs: () => 1000,
    },
  };
}

describe('executePlan', () => {
  it('wakes first, runs each wave in parallel, then powers off, journaling each migration before and after', async () => {
    const r = recorder();
    const res = await executePlan(
      planOf(['s1'], [[mv('a', 'h1', 'h2'), mv('b', 'h1', 's1')], [mv('c', 'h3', 'h2')]], ['h1', 'h3']),
      r.deps,
    );
    expect(res).toMatchObject({ completed: true, replan: false });
    expect(r.log).toEqual([
      'wake s1',
      'start a',
      'start b',
      'end a',
      'end b',
      'start c',
      'end c',
      'off h1',
      'off h3',
    ]);
    expect(r.journal.slice(0, 3)).toEqual(['intent migrate a', 'intent migrate b', 'done migrate a']);
    expect(r.journal.filter((j) => j.startsWith('intent')).length).toBe(
      r.journal.filter((j) => !j.startsWith('intent')).length,
    );
  });

  it('stops after a failed migration: its wave finishes, no later wave, no power-off', async () => {
    const r = recorder({ failVm: 'b' });
    const res = await executePlan(
      planOf([], [[mv('a', 'h1', 'h2'), mv('b', 'h1', 'h2')], [mv('c', 'h3', 'h2')]], ['h1']),
      r.deps,
    );
    expect(res.completed).toBe(false);
    expect(res.stoppedAt).toBe('wave 1');
    expect(r.log).not.toContain('start c');
    expect(r.log).not.toContain('off h1');
    expect(r.log).toContain('end a');
    expect(res.outcomes.find((o) => o.target === 'b')).toMatchObject({
      ok: false,
      error: 'migration job aborted: timeout',
    });
    expect(r.journal).toContain('failed migrate b');
  });

  it('asks for a re-plan when a wake failed and the host was quarantined', async () => {
    const r = recorder({ failWake: 's1', quarantine: true });
    const res = await executePlan(planOf(['s1', 's2'], [[mv('a', 'h1', 's1')]], []), r.deps);
    expect(res).toMatchObject({ completed: false, replan: true, stoppedAt: 'power_on s1' });
    expect(r.log).toEqual(['wake s1']);
  });

  it('starts nothing once aborted', async () => {
    const r = recorder();
    const ac = new AbortController();
    ac.abort();
    const res = await executePlan(planOf(['s1'], [[mv('a', 'h1', 'h2')]], ['h1']), {
      ...r.deps,
      signal: ac.signal,
    });
    expect(res.completed).toBe(false);
    expect(r.log).toEqual([]);
  });
});

describe('staleAssumptions', () => {
  const c = cluster(
    [host('h1', 8, 16), host('h2', 8, 16), host('s1', 8, 16, { state: 'standby' })],
    [vm('a', 'h1', 1, 1)],
  );
  it('accepts an unchanged cluster', () => {
    expect(staleAssumptions(planOf(['s1'], [[mv('a', 'h1', 's1')]], ['h1']), c)).toEqual([]);
  });
  it('names every stale assumption', () => {
    const moved = cluster(
      [host('h1', 8, 16), host('h2', 8, 16, { state: 'unknown' }), host('s1', 8, 16)],
      [vm('a', 'h2', 1, 1)],
    );
    expect(staleAssumptions(planOf(['s1'], [[mv('a', 'h1', 'h2')]], ['h1']), moved)).toEqual([
      'host s1 to wake is now on',
      'VM a is now on h2, planned from h1',
      'destination h2 of VM a is now unknown',
    ]);
  });
});
