import { describe, expect, it } from 'vitest';
import { applyStoreTags } from '../../src/app/store-tags.js';
import { cluster, host, res } from '../builders.js';

const tag = (h: string, t: string) => ({ host: h, tag: t, by: 'run r1', atMs: 1, why: 'test' });

describe('applyStoreTags', () => {
  const known = new Map([
    ['off1', res(32, 256)],
    ['on1', res(1, 1)],
  ]);
  const snapshot = cluster(
    [
      host('on1', 16, 128),
      host('off1', 0, 0, { state: 'unknown', capacity: res(0, 0) }),
      host('gone', 0, 0, { state: 'unknown', capacity: res(0, 0) }),
    ],
    [],
  );

  it('gives a standby host (unreadable) its last known capacity, and no other host', () => {
    const { cluster: c } = applyStoreTags(
      snapshot,
      [tag('off1', 'standby'), tag('on1', 'standby'), tag('gone', 'standby')],
      known,
    );
    const byId = new Map(c.hosts.map((h) => [h.id, h]));
    expect(byId.get('off1')).toMatchObject({ state: 'standby', capacity: res(32, 256) });
    // Answers: the snapshot wins, also its capacity.
    expect(byId.get('on1')).toMatchObject({ state: 'on', capacity: res(16, 128, 1000) });
    // Standby but never read on: stays without capacity (the planner will not wake it).
    expect(byId.get('gone')).toMatchObject({ state: 'standby', capacity: res(0, 0) });
  });

  it('leaves an unknown host without a standby tag unknown and without capacity', () => {
    const { cluster: c } = applyStoreTags(snapshot, [tag('off1', 'exclude')], known);
    expect(c.hosts.find((h) => h.id === 'off1')).toMatchObject({
      state: 'unknown',
      capacity: res(0, 0),
      exclude: true,
    });
  });

  it("drops the inventory's 'did not answer' warning for hosts that are standby, keeps the others", () => {
    const earlier = [
      'host off1 (qemu+ssh://off1/system) is unknown: connection refused; it will not be emptied, filled or powered off',
      'host other (qemu+ssh://other/system) is unknown: timeout; it will not be emptied, filled or powered off',
      'config: something else',
    ];
    const { warnings } = applyStoreTags(
      snapshot,
      [tag('off1', 'standby'), tag('on1', 'wake-failed')],
      known,
      earlier,
    );
    expect(warnings).toEqual([
      earlier[1],
      earlier[2],
      'host on1 is quarantined (wake-failed): never woken until an admin runs: virt-squeeze host untag on1 wake-failed',
    ]);
  });
});
