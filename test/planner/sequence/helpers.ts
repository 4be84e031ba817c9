import type { Plan, Wave } from '../../../src/planner/plan.js';

/** A 'none' plan around some waves, for checkPlan. */
export function planOf(
  waves: readonly Wave[],
  powerOff: readonly string[] = [],
  powerOn: readonly string[] = [],
): Plan {
  return {
    decision: 'none',
    reason: 'test',
    metric: { mode: 'average', before: 0, after: 0, minimal: 0, target: 0 },
    powerOn,
    waves,
    powerOff,
    hosts: [],
    leftOut: [],
    warnings: [],
    summary: {
      migrations: 0,
      migratedMemMiB: 0,
      waves: waves.length,
      estMakespanSeconds: 0,
      hostsOnBefore: 0,
      hostsOnAfter: 0,
      estPowerSavedWatts: 0,
      planMs: 0,
    },
  };
}
