import type { Cluster, Host, Vm } from '../src/model/cluster.js';
import type { Policy } from '../src/model/policy.js';
import type { Resources } from '../src/model/resources.js';
import type { Migration, Plan, Wave } from '../src/planner/plan.js';

/** Test builders: small readable clusters and policies. Memory in GiB here for brevity, stored in MiB. */

export function res(cpu: number, memGiB: number, diskGiB = 0): Resources {
  return { cpu, memMiB: memGiB * 1024, diskGiB };
}

export function host(id: string, cpu: number, memGiB: number, extra: Partial<Host> = {}): Host {
  return {
    id,
    capacity: res(cpu, memGiB, 1000),
    reserved: res(0, 0, 0),
    state: 'on',
    exclude: false,
    keepOn: false,
    drain: false,
    tags: [],
    ...extra,
  };
}

export function vm(
  id: string,
  hostId: string | null,
  cpu: number,
  memGiB: number,
  extra: Partial<Vm> = {},
): Vm {
  return { id, demand: res(cpu, memGiB, 10), host: hostId, pinned: false, ...extra };
}

export function cluster(hosts: Host[], vms: Vm[]): Cluster {
  return { hosts, vms, source: 'test' };
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export function policy(overrides: DeepPartial<Policy> = {}): Policy {
  const base: Policy = {
    standard: res(2, 4, 0),
    overcommit: { cpu: 4, mem: 1, disk: 1 },
    thresholds: { minimal: 1, target: 2, mode: 'average' },
    safety: { minOnlineHosts: 1, failoverReserveHosts: 1, maxPowerOffPerRun: 100, maxPowerOnPerRun: 100 },
    migration: { maxParallel: 8, maxPerHost: 2, bandwidthMiBps: 1000, maxDowntimeMs: 300 },
    antiAffinity: true,
  };
  return {
    ...base,
    ...overrides,
    standard: { ...base.standard, ...overrides.standard },
    overcommit: { ...base.overcommit, ...overrides.overcommit },
    thresholds: { ...base.thresholds, ...overrides.thresholds },
    safety: { ...base.safety, ...overrides.safety },
    migration: { ...base.migration, ...overrides.migration },
  } as Policy;
}

/** A bare plan of `waves` (and power actions) for replay and executor tests; the rest is neutral. */
export function planOf(
  waves: readonly Wave[],
  extra: Partial<Plan> & { powerOn?: readonly string[]; powerOff?: readonly string[] } = {},
): Plan {
  return {
    decision: 'none',
    reason: 'test',
    metric: { mode: 'average', before: 0, after: 0, minimal: 0, target: 0 },
    powerOn: [],
    waves,
    powerOff: [],
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
    ...extra,
  };
}

/** A migration of `memMiB` estimated at one second. */
export function move(vmId: string, from: string, to: string, memMiB = 1024): Migration {
  return { vm: vmId, from, to, memMiB, estSeconds: 1 };
}
