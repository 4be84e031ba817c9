import type { HostOutcome, Migration, Plan } from '../../src/planner/plan.js';

/** Hand-built plans for the report golden tests (the planner's own output is tested in test/planner). */

const GiB = 1024;

export function outcome(id: string, extra: Partial<HostOutcome> = {}): HostOutcome {
  return {
    id,
    stateBefore: 'on',
    stateAfter: 'on',
    fitBefore: 4,
    fitAfter: 4,
    memPctBefore: 50,
    memPctAfter: 50,
    cpuPctBefore: 25,
    cpuPctAfter: 25,
    why: 'unchanged: nothing to move here',
    ...extra,
  };
}

export function move(vm: string, from: string, to: string, memGiB: number, estSeconds: number): Migration {
  return { vm, from, to, memMiB: memGiB * GiB, estSeconds };
}

/** A plan with computed summary figures; `extra` overrides anything. */
type PlanSpec = Omit<Partial<Plan>, 'summary'> & Pick<Plan, 'hosts'> & { summary?: Partial<Plan['summary']> };

export function planOf(extra: PlanSpec): Plan {
  const waves = extra.waves ?? [];
  const all = waves.flat();
  const on = (state: string): boolean => state === 'on';
  const base: Plan = {
    decision: 'none',
    reason: 'free capacity is between minimal and target',
    metric: { mode: 'average', before: 3, after: 3, minimal: 2, target: 4 },
    powerOn: [],
    waves,
    powerOff: [],
    hosts: extra.hosts,
    leftOut: [],
    warnings: [],
    summary: {
      migrations: all.length,
      migratedMemMiB: all.reduce((s, m) => s + m.memMiB, 0),
      waves: waves.length,
      estMakespanSeconds: waves.reduce((s, w) => s + Math.max(0, ...w.map((m) => m.estSeconds)), 0),
      hostsOnBefore: extra.hosts.filter((h) => on(h.stateBefore)).length,
      hostsOnAfter: extra.hosts.filter((h) => on(h.stateAfter)).length,
      estPowerSavedWatts: 0,
      planMs: 7,
    },
  };
  return { ...base, ...extra, summary: { ...base.summary, ...extra.summary } };
}

export function squeezePlan(): Plan {
  return planOf({
    decision: 'squeeze',
    reason: 'mean free capacity 7.5 standard instances per online host is above the target 4',
    metric: { mode: 'average', before: 7.5, after: 4.25, minimal: 2, target: 4 },
    waves: [
      [move('web-01', 'kvm-03', 'kvm-01', 8, 12.4), move('db-02', 'kvm-05', 'kvm-02', 32, 61)],
      [move('cache-7', 'kvm-03', 'kvm-02', 4, 6), move('ci-runner-long-name-12', 'kvm-05', 'kvm-04', 16, 30.2)],
    ],
    powerOff: ['kvm-03', 'kvm-05'],
    hosts: [
      outcome('kvm-01', { fitBefore: 9, fitAfter: 7, memPctBefore: 31, memPctAfter: 44, cpuPctBefore: 12, cpuPctAfter: 19, why: 'receives 1 VM (8.0 GiB)' }),
      outcome('kvm-02', { fitBefore: 8, fitAfter: 1, memPctBefore: 38, memPctAfter: 91, cpuPctBefore: 20, cpuPctAfter: 55.5, why: 'receives 2 VMs (36.0 GiB)' }),
      outcome('kvm-03', { stateAfter: 'standby', fitBefore: 12, fitAfter: 0, memPctBefore: 9, memPctAfter: 0, cpuPctBefore: 4, cpuPctAfter: 0, why: 'emptied and powered off: highest idle watts per standard instance (210 W, 12 free)' }),
      outcome('kvm-04', { fitBefore: 6, fitAfter: 2, memPctBefore: 50, memPctAfter: 75, cpuPctBefore: 30, cpuPctAfter: 42, why: 'receives 1 VM (16.0 GiB)' }),
      outcome('kvm-05', { stateAfter: 'standby', fitBefore: 5, fitAfter: 0, memPctBefore: 48, memPctAfter: 0, cpuPctBefore: 22, cpuPctAfter: 0, why: 'emptied and powered off: 48 GiB to move, 180 W idle' }),
      outcome('kvm-06', { fitBefore: 5, fitAfter: 5, why: 'kept on: emptying it would drop the mean below target 4' }),
      outcome('kvm-07', { stateBefore: 'standby', stateAfter: 'standby', fitBefore: 0, fitAfter: 0, memPctBefore: 0, memPctAfter: 0, cpuPctBefore: 0, cpuPctAfter: 0, why: 'standby: not needed' }),
      outcome('kvm-08', { stateBefore: 'unknown', stateAfter: 'unknown', fitBefore: 0, fitAfter: 0, memPctBefore: 0, memPctAfter: 0, cpuPctBefore: 0, cpuPctAfter: 0, why: 'unreachable: never emptied, filled or powered off' }),
    ],
    leftOut: [{ kind: 'vm', id: 'bigdb-1', reason: 'est. migration 620 s exceeds max_migration_seconds 300' }],
    warnings: ['host kvm-08 is unreachable (state unknown): left alone', 'host kvm-09 is quarantined (wake-failed since 2026-11-20)'],
    summary: { estPowerSavedWatts: 390, planMs: 12 },
  });
}

export function expandPlan(): Plan {
  return planOf({
    decision: 'expand',
    reason: 'free capacity 0.8 per online host is below the minimal 1',
    metric: { mode: 'per_host', before: 0.8, after: 1.5, minimal: 1, target: 1.5 },
    powerOn: ['kvm-07'],
    waves: [[move('batch-1', 'kvm-02', 'kvm-07', 24, 95), move('batch-2', 'kvm-04', 'kvm-07', 12, 47)]],
    hosts: [
      outcome('kvm-02', { fitBefore: 0, fitAfter: 3, memPctBefore: 98, memPctAfter: 80, why: 'gives 1 VM to the woken host' }),
      outcome('kvm-04', { fitBefore: 1, fitAfter: 2, memPctBefore: 92, memPctAfter: 86, why: 'gives 1 VM to the woken host' }),
      outcome('kvm-07', { stateBefore: 'standby', stateAfter: 'on', fitBefore: 0, fitAfter: 10, memPctBefore: 0, memPctAfter: 28, cpuPctBefore: 0, cpuPctAfter: 9, why: 'woken: most power-efficient standby host (160 W idle)' }),
    ],
    summary: { estPowerSavedWatts: -160 },
  });
}

export function nothingPlan(): Plan {
  return planOf({
    hosts: [outcome('a', { why: 'kept on: within the dead band' }), outcome('b', { why: 'excluded by config' })],
  });
}

/** 200 hosts of which 3 change: the text report lists the 3 and counts the rest. */
export function largePlan(): Plan {
  const ids = Array.from({ length: 200 }, (_, i) => `node-${String(i + 1).padStart(3, '0')}`);
  return planOf({
    decision: 'squeeze',
    reason: 'mean free capacity 5.1 is above the target 5',
    metric: { mode: 'average', before: 5.1, after: 5.02, minimal: 3, target: 5 },
    waves: [[move('vm-a', 'node-200', 'node-001', 4, 9), move('vm-b', 'node-200', 'node-002', 2, 5)]],
    powerOff: ['node-200'],
    hosts: ids.map((id) =>
      id === 'node-200'
        ? outcome(id, { stateAfter: 'standby', fitBefore: 7, fitAfter: 0, why: 'emptied and powered off' })
        : id === 'node-001' || id === 'node-002'
          ? outcome(id, { fitAfter: 3, why: 'receives 1 VM' })
          : outcome(id),
    ),
    summary: { estPowerSavedWatts: 150 },
  });
}
