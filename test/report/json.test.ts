import { describe, expect, it } from 'vitest';
import { PLAN_FORMAT, toPlanJson } from '../../src/report/json.js';
import { expandPlan, squeezePlan } from '../golden/plans.js';

/** Every field of DESIGN.md 4.2, with its JSON type. */
const SHAPE_4_2 = {
  top: {
    format: 'string',
    decision: 'string',
    reason: 'string',
    metric: 'object',
    power_on: 'array',
    waves: 'array',
    power_off: 'array',
    hosts: 'array',
    summary: 'object',
  },
  metric: { mode: 'string', before: 'number', after: 'number', minimal: 'number', target: 'number' },
  migration: { vm: 'string', from: 'string', to: 'string', mem_mib: 'number', est_seconds: 'number' },
  host: {
    id: 'string',
    state_before: 'string',
    state_after: 'string',
    fit_before: 'number',
    fit_after: 'number',
    why: 'string',
  },
  summary: {
    migrations: 'number',
    migrated_mem_mib: 'number',
    waves: 'number',
    est_makespan_seconds: 'number',
    hosts_on_before: 'number',
    hosts_on_after: 'number',
    est_power_saved_w: 'number',
    plan_ms: 'number',
  },
} as const;

function typeOf(value: unknown): string {
  return Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
}

function expectShape(obj: unknown, shape: Record<string, string>, where: string): void {
  expect(typeOf(obj), where).toBe('object');
  for (const [key, type] of Object.entries(shape)) {
    expect(typeOf((obj as Record<string, unknown>)[key]), `${where}.${key}`).toBe(type);
  }
}

describe('toPlanJson (DESIGN.md 4.2)', () => {
  for (const [name, plan] of [
    ['squeeze', squeezePlan()],
    ['expand', expandPlan()],
  ] as const) {
    it(`${name}: every 4.2 field present and typed, after a JSON round trip`, () => {
      const json: unknown = JSON.parse(JSON.stringify(toPlanJson(plan)));
      expectShape(json, SHAPE_4_2.top, '$');
      const j = json as Record<string, unknown> & { waves: unknown[][]; hosts: unknown[] };
      expect(j.format).toBe('virt-squeeze-plan/v1');
      expect(['squeeze', 'expand', 'none']).toContain(j.decision);
      expectShape(j.metric, SHAPE_4_2.metric, '$.metric');
      expectShape(j.summary, SHAPE_4_2.summary, '$.summary');
      expect(j.waves.length).toBeGreaterThan(0);
      j.waves.forEach((wave, w) => {
        expect(Array.isArray(wave)).toBe(true);
        wave.forEach((m, i) => expectShape(m, SHAPE_4_2.migration, `$.waves[${w}][${i}]`));
      });
      j.hosts.forEach((h, i) => expectShape(h, SHAPE_4_2.host, `$.hosts[${i}]`));
      for (const key of ['power_on', 'power_off'] as const) {
        for (const id of j[key] as unknown[]) expect(typeof id).toBe('string');
      }
    });
  }

  it('carries the plan values across unchanged, snake_case only', () => {
    const plan = squeezePlan();
    const json = toPlanJson(plan);
    expect(json.format).toBe(PLAN_FORMAT);
    expect(json.decision).toBe('squeeze');
    expect(json.power_off).toEqual(['kvm-03', 'kvm-05']);
    expect(json.waves[0]?.[1]).toEqual({
      vm: 'db-02',
      from: 'kvm-05',
      to: 'kvm-02',
      mem_mib: 32768,
      est_seconds: 61,
    });
    expect(json.hosts[2]).toMatchObject({
      id: 'kvm-03',
      state_before: 'on',
      state_after: 'standby',
      fit_before: 12,
    });
    expect(json.summary).toMatchObject({
      migrations: 4,
      migrated_mem_mib: 61440,
      waves: 2,
      est_power_saved_w: 390,
    });
    expect(json.summary.est_energy_saved_kwh_per_day).toBeCloseTo(9.36, 6);
    expect(json.left_out).toEqual([plan.leftOut[0]]);
    expect(json.warnings).toEqual(plan.warnings);
    const keys = JSON.stringify(json).match(/"([A-Za-z_]+)":/g) ?? [];
    for (const k of keys) expect(k, 'camelCase key').not.toMatch(/[A-Z]/);
  });

  it('is deterministic and does not share arrays with the plan', () => {
    const plan = squeezePlan();
    const a = toPlanJson(plan);
    expect(JSON.stringify(a)).toBe(JSON.stringify(toPlanJson(plan)));
    a.power_off.push('x');
    expect(plan.powerOff).toEqual(['kvm-03', 'kvm-05']);
  });
});
