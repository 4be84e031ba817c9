import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { planGaneti } from '../ganeti-plan.js';

/**
 * Ganeti's own hsqueeze test clusters (recipe section 5): same decision and the same number of hosts
 * as hsqueeze 3.0.2 at the same thresholds, failover reserve 0. The live comparison against the
 * real binary is the oracle test; these pin the planner's side with the recipe's arithmetic.
 */
const ganeti = path.resolve(import.meta.dirname, '../../../shared/peer-data/ganeti');

async function run(file: string, minimal: number, target: number) {
  return planGaneti(path.join(ganeti, file), minimal, target);
}

describe('hsqueeze compatibility (per_host)', () => {
  it.each([
    [2, 2, 2],
    [1, 1, 3],
    [0, 0, 4],
  ])('underutilized, m=%d t=%d: %d hosts off, never the master', async (m, t, off) => {
    const p = await run('hsqueeze-underutilized.data', m, t);
    expect(p.decision).toBe('squeeze');
    expect(p.powerOff).toHaveLength(off);
    expect(p.powerOff).not.toContain('node-01-000');
  });

  it('underutilized at t=2.02: no action (a 258-MiB probe needs more than 257 MiB free)', async () => {
    const p = await run('hsqueeze-underutilized.data', 2, 2.02);
    expect(p.decision).toBe('none');
    expect(p.powerOff).toEqual([]);
  });

  it('overutilized, m=t=2: wakes 2 tagged standby hosts and moves VMs onto them', async () => {
    const p = await run('hsqueeze-overutilized.data', 2, 2);
    expect(p.decision).toBe('expand');
    expect(p.powerOn).toEqual(['node-01-002', 'node-01-004']);
    expect(p.summary.migrations).toBe(4);
  });

  it('overutilized, m=0: no action', async () => {
    const p = await run('hsqueeze-overutilized.data', 0, 2);
    expect(p.decision).toBe('none');
  });

  it('overutilized, m=4 t=5: wakes all 4 standby hosts and says it will not be enough', async () => {
    const p = await run('hsqueeze-overutilized.data', 4, 5);
    expect(p.decision).toBe('expand');
    expect(p.powerOn).toHaveLength(4);
    expect(p.reason).toContain('even all 4 standby hosts will not reach');
  });

  it('mixed instances: only node-01-001 goes', async () => {
    const p = await run('hsqueeze-mixed-instances.data', 2, 2);
    expect(p.powerOff).toEqual(['node-01-001']);
  });

  it.each([1, 2, 2.9])('cpu.data (vCPU-bound), m=t=%d: no action', async (f) => {
    const p = await run('own-experiments/cpu.data', f, f);
    expect(p.decision).toBe('none');
  });

  it('cpu.data, m=t=3: wakes n2, moves i0 there and i3 to n0 (as hsqueeze)', async () => {
    const p = await run('own-experiments/cpu.data', 3, 3);
    expect(p.powerOn).toEqual(['n2']);
    expect(
      p.waves
        .flat()
        .map((m) => `${m.vm}>${m.to}`)
        .sort(),
    ).toEqual(['i0>n2', 'i3>n0']);
  });

  it('rebalance-only: rebalancing alone restores the probe room, no host woken, 2 moves', async () => {
    const p = await run('own-experiments/rebalance-only.data', 2, 2);
    expect(p.decision).toBe('expand');
    expect(p.powerOn).toEqual([]);
    expect(p.summary.migrations).toBe(2);
    expect(p.reason).toContain('rebalancing alone restores it');
  });

  it('drbdside: 4 hosts off, and no VM moved twice (hsqueeze moves e4 twice)', async () => {
    const p = await run('own-experiments/drbdside.data', 2, 2);
    expect(p.powerOff).toHaveLength(4);
    const vms = p.waves.flat().map((m) => m.vm);
    expect(new Set(vms).size).toBe(vms.length);
  });

  it('an offline node of unknown size does not flip a squeeze into an expansion (hsqueeze weakness 8)', async () => {
    const p = await run('own-experiments/under-plus-offline-unknown.data', 2, 2);
    expect(p.decision).toBe('squeeze');
    expect(p.powerOff).toHaveLength(2);
  });
});
