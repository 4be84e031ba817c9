import { expect } from 'vitest';
import { resolvePolicy } from '../src/config/policy.js';
import { loadClusterFile } from '../src/inventory/file/index.js';
import { checkPlan } from '../src/planner/check-plan.js';
import { plan } from '../src/planner/index.js';
import type { Plan } from '../src/planner/plan.js';

/**
 * Plans a Ganeti text file as hsqueeze would judge it: per_host mode at the given thresholds, no
 * failover reserve (hsqueeze has none). The plan must pass checkPlan.
 */
export async function planGaneti(file: string, minimal: number, target: number): Promise<Plan> {
  const { cluster, hints } = await loadClusterFile(`ganeti:${file}`);
  const policy = resolvePolicy(undefined, hints, {
    minimal,
    target,
    mode: 'per_host',
    failoverReserveHosts: 0,
  });
  const p = plan(cluster, policy);
  expect(checkPlan(cluster, p, policy)).toEqual([]);
  return p;
}
