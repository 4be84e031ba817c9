import { describe, expect, it } from 'vitest';
import { Occupancy, hostLimit, probe, standardFit } from '../../src/model/capacity.js';
import {
  averageMetric,
  failoverShortfall,
  metricHosts,
  perHostHolds,
  perHostMetric,
} from '../../src/model/metric.js';
import { cluster, host, policy, res, vm } from '../builders.js';

describe('standard-instance accounting', () => {
  it('fits by the scarcest dimension and ignores dimensions the standard instance does not ask for', () => {
    expect(standardFit(res(16, 40, 0), res(2, 4, 0))).toBe(8); // cpu 8, memory 10
    expect(standardFit(res(16, 40, 5), res(2, 4, 10))).toBe(0); // disk binds
    expect(standardFit(res(-1, 40, 0), res(2, 4, 0))).toBe(0); // overcommitted: never negative
  });

  it('builds hsqueeze probes by flooring factor x std', () => {
    expect(probe({ cpu: 1, memMiB: 128, diskGiB: 0 }, 2.02)).toEqual({ cpu: 2, memMiB: 258, diskGiB: 0 });
  });

  it('applies overcommit before subtracting the host reservation', () => {
    const h = host('h', 8, 16, { reserved: { cpu: 1, memMiB: 1024, diskGiB: 0 } });
    expect(hostLimit(h, policy({ overcommit: { cpu: 4, mem: 1, disk: 1 } }))).toEqual({
      cpu: 31,
      memMiB: 15 * 1024,
      diskGiB: 1000,
    });
  });
});

describe('Occupancy', () => {
  const c = cluster(
    [host('a', 4, 16), host('b', 4, 16)],
    [vm('x', 'a', 2, 8, { group: 'g', cpuLoadCores: 1 }), vm('y', 'b', 2, 8, { group: 'g' })],
  );

  it('accepts by resources and refuses a second VM of an anti-affinity group', () => {
    const occ = new Occupancy(c, policy());
    expect(occ.canAccept(vm('z', null, 2, 8), 'a')).toBe(true);
    expect(occ.canAccept(vm('z', null, 2, 9), 'a')).toBe(false);
    expect(occ.canAccept(vm('z', null, 1, 1, { group: 'g' }), 'a')).toBe(false);
    expect(
      new Occupancy(c, policy({ antiAffinity: false })).canAccept(vm('z', null, 1, 1, { group: 'g' }), 'a'),
    ).toBe(true);
  });

  it('caps observed CPU load when usage-aware', () => {
    const occ = new Occupancy(c, policy({ usage: { cpuCap: 0.5 } }));
    expect(occ.loadOn('a')).toBe(1);
    expect(occ.canAccept(vm('z', null, 1, 1, { cpuLoadCores: 1 }), 'a')).toBe(true); // 2 <= 4 x 0.5
    expect(occ.canAccept(vm('z', null, 1, 1, { cpuLoadCores: 1.5 }), 'a')).toBe(false);
  });

  it('counts an in-flight VM on both ends until its source is released', () => {
    const occ = new Occupancy(c, policy({ antiAffinity: false }));
    const x = occ.vmById.get('x')!;
    occ.place(x, 'b');
    expect(occ.usedOn('a').memMiB).toBe(8 * 1024);
    expect(occ.usedOn('b').memMiB).toBe(16 * 1024);
    occ.unplace(x, 'a');
    expect(occ.usedOn('a').memMiB).toBe(0);
    expect(occ.placement.get('x')).toBe('b');
  });
});

describe('threshold metrics', () => {
  const c = cluster(
    [
      host('a', 8, 16),
      host('b', 8, 16),
      host('d', 8, 16, { drain: true }),
      host('s', 8, 16, { state: 'standby' }),
    ],
    [vm('x', 'a', 2, 8)],
  );
  const p = policy({ standard: res(2, 4, 0) });

  it('averages fit over online, non-draining hosts', () => {
    const occ = new Occupancy(c, p);
    const hosts = metricHosts(c.hosts);
    expect(hosts.map((h) => h.id)).toEqual(['a', 'b']);
    expect(averageMetric(occ, hosts)).toBe((2 + 4) / 2);
  });

  it('requires every host to take the probe in per_host mode', () => {
    const occ = new Occupancy(c, p);
    const hosts = metricHosts(c.hosts);
    expect(perHostHolds(occ, hosts, 2)).toBe(true); // a: 8 GiB free = 2 x 4 GiB
    expect(perHostHolds(occ, hosts, 2.5)).toBe(false);
    expect(perHostMetric(occ, hosts)).toBe(2);
  });
});

describe('failover reserve', () => {
  const build = (bigGiB: number) =>
    cluster(
      [host('a', 8, 16), host('b', 8, 16), host('c', 8, 16)],
      [vm('big', 'a', 1, bigGiB), vm('s1', 'b', 1, 6), vm('s2', 'c', 1, 6)],
    );

  it('holds when the VMs of the most loaded host fit elsewhere, and leaves the placement as it was', () => {
    const c = build(8);
    const occ = new Occupancy(c, policy());
    expect(failoverShortfall(occ, c, 1)).toBeUndefined();
    expect(occ.placement.get('big')).toBe('a');
    expect(occ.usedOn('b').memMiB).toBe(6 * 1024);
  });

  it('names the VM that would find no room', () => {
    const c = build(12); // b and c have 10 GiB free each
    expect(failoverShortfall(new Occupancy(c, policy()), c, 1)).toBe('big');
    expect(failoverShortfall(new Occupancy(c, policy()), c, 0)).toBeUndefined();
  });
});
