import type { Plan, Wave } from '../../../src/planner/plan.js';
import { planOf as bare } from '../../builders.js';

/** A 'none' plan around some waves, for checkPlan. */
export function planOf(
  waves: readonly Wave[],
  powerOff: readonly string[] = [],
  powerOn: readonly string[] = [],
): Plan {
  return bare(waves, { powerOff, powerOn });
}
