import { describe, expect, it } from 'vitest';
import { checkPlan } from '../../../src/planner/check-plan.js';
import { sequence } from '../../../src/planner/sequence/index.js';
import { casePolicy, loadFixedCases, validateCaseWaves } from './fixed-cases.js';
import { planOf } from './helpers.js';

const cases = loadFixedCases();

describe('migrationpaths fixed scenarios', () => {
  it('has all 13 cases', () => expect(cases).toHaveLength(13));

  for (const c of cases) {
    for (const perHost of [undefined, 2]) {
      const label = `${c.raw.id} (${perHost === undefined ? 'unlimited' : `max ${perHost} per host`})`;
      it(label, () => {
        const pol = casePolicy(perHost);
        const result = sequence({ cluster: c.cluster, policy: pol, target: c.target, allowed: c.allowed });
        if (!c.raw.oracle.feasible) {
          expect(result.status).toBe('unreachable');
          if (result.status !== 'unreachable') return;
          expect(result.explanation).toMatch(/cycle host1 -> host2 -> host1/);
          expect(result.explanation).toMatch(/vm1 3256 MiB/);
          expect(result.explanation).toMatch(/largest free memory on any other host 584 MiB/);
          expect(result.blocking.hosts).toEqual(['host1', 'host2']);
          expect(result.blocking.missing.memMiB).toBe(3256 - 584);
          return;
        }
        expect(result.status).toBe('ok');
        if (result.status !== 'ok') return;
        expect(validateCaseWaves(c, result.waves, perHost)).toEqual([]);
        expect(checkPlan(c.cluster, planOf(result.waves), pol)).toEqual([]);
        expect(result.migratedMemMiB).toBeGreaterThanOrEqual(c.raw.oracle.lower_bound_cost);
        expect(result.migratedMemMiB).toBeLessThanOrEqual(c.raw.peer.expected_cost!);
        // The exact optimum (A*) is reachable on all of these small cases.
        expect(result.migratedMemMiB).toBe(c.raw.oracle.optimal_cost);
        // The prototype's reference wave plans are feasible upper bounds on the wave count.
        const reference = c.raw.reference_waves[perHost === undefined ? 'unlimited' : 'max_2_per_host']!;
        expect(result.waves.length).toBeLessThanOrEqual(reference.wave_count!);
      });
    }
  }
});
