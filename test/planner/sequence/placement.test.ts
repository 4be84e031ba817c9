import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../../src/errors.js';
import { loadPlacementFile, parsePlacement } from '../../../src/inventory/placement-file.js';
import { checkPlan } from '../../../src/planner/check-plan.js';
import { planToPlacement } from '../../../src/planner/sequence/index.js';
import { cluster, host, policy, vm } from '../../builders.js';

const dir = mkdtempSync(path.join(tmpdir(), 'placement-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = path.join(dir, name);
  writeFileSync(p, text);
  return p;
}

const doc = (extra: object) =>
  JSON.stringify({ format: 'virt-squeeze-placement/v1', placement: {}, ...extra }, null, 2);

describe('placement file', () => {
  it('reads placement and power_off', async () => {
    const p = await loadPlacementFile(file('ok.json', doc({ placement: { v1: 'b' }, power_off: ['a'] })));
    expect([...p.placement]).toEqual([['v1', 'b']]);
    expect(p.powerOff).toEqual(['a']);
    expect(p.source).toMatch(/ok\.json$/);
  });

  it.each([
    ['{"format": "virt-squeeze-placement/v1",\n "placement": {,}}', /bad\.json: line 2: not valid JSON/],
    [
      doc({ format: 'other/v1' }),
      /bad\.json: format: expected "virt-squeeze-placement\/v1", got "other\/v1"/,
    ],
    [doc({ placement: { v1: 3 } }), /bad\.json: placement\["v1"\]: expected a host id/],
    [doc({ power_off: 'a' }), /bad\.json: power_off: expected an array of host ids/],
    [doc({ power_off: ['a', 'a'] }), /bad\.json: power_off\[1\]: host a is listed twice/],
    [doc({ powerOff: [] }), /bad\.json: powerOff: unknown field/],
  ])('rejects %s with file and JSON path', async (text, message) => {
    const err = await loadPlacementFile(file('bad.json', text)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InputError);
    expect((err as Error).message).toMatch(message);
  });

  it('names the file when it cannot be read', async () => {
    await expect(loadPlacementFile(path.join(dir, 'missing.json'))).rejects.toThrow(
      /missing\.json: cannot read placement file: ENOENT/,
    );
  });
});

describe('planToPlacement', () => {
  const c = cluster(
    [
      host('a', 8, 16, { idleWatts: 100 }),
      host('b', 8, 16),
      host('c', 8, 32),
      host('s', 8, 32, { state: 'standby', idleWatts: 90 }),
    ],
    [vm('v1', 'a', 1, 4), vm('v2', 'a', 1, 4), vm('v3', 'b', 1, 8)],
  );
  const p = policy({ safety: { failoverReserveHosts: 0 } });

  it('plans the waves, wakes standby hosts the target uses, switches off the emptied host', () => {
    const placement = parsePlacement(doc({ placement: { v1: 'c', v2: 's' }, power_off: ['a'] }), 'b.json');
    const plan = planToPlacement(c, placement, p);
    expect(plan.sequencing).toBe('ok');
    expect(plan.decision).toBe('none');
    expect(plan.reason).toBe('target placement from b.json: 2 migration(s) in 1 wave(s)');
    expect(plan.powerOn).toEqual(['s']);
    expect(plan.powerOff).toEqual(['a']);
    expect(plan.summary).toMatchObject({
      migrations: 2,
      migratedMemMiB: 8192,
      waves: 1,
      hostsOnBefore: 3,
      hostsOnAfter: 3,
    });
    expect(plan.summary.estPowerSavedWatts).toBe(10);
    const a = plan.hosts.find((h) => h.id === 'a')!;
    expect(a).toMatchObject({ stateBefore: 'on', stateAfter: 'standby' });
    expect(a.why).toMatch(/^emptied: 2 VMs/);
    expect(plan.hosts.find((h) => h.id === 's')).toMatchObject({ stateBefore: 'standby', stateAfter: 'on' });
    expect(checkPlan(c, plan, p)).toEqual([]);
  });

  it('names the file and JSON path of an unknown VM or host', () => {
    expect(() => planToPlacement(c, parsePlacement(doc({ placement: { nope: 'a' } }), 'b.json'), p)).toThrow(
      'b.json: placement["nope"]: unknown VM nope (not in test)',
    );
    expect(() => planToPlacement(c, parsePlacement(doc({ power_off: ['x'] }), 'b.json'), p)).toThrow(
      'b.json: power_off[0]: unknown host x (not in test)',
    );
  });

  it('does nothing and says why when the target is unreachable', () => {
    const placement = parsePlacement(doc({ placement: { v3: 'a' }, power_off: ['b'] }), 'b.json');
    const plan = planToPlacement(
      c,
      {
        ...placement,
        placement: new Map([
          ['v3', 'a'],
          ['v1', 'b'],
          ['v2', 'b'],
        ]),
      },
      p,
    );
    expect(plan.sequencing).toBe('unreachable');
    expect(plan.waves).toEqual([]);
    expect(plan.reason).toContain('target placement from b.json is unreachable');
    expect(plan.explanation).toContain('host b is to be switched off but the target keeps v1, v2 on it');
    expect(checkPlan(c, plan, p)).toEqual([]);
  });
});
