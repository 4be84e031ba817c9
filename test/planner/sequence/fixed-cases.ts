import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Cluster, Host, Vm } from '../../../src/model/cluster.js';
import type { Policy } from '../../../src/model/policy.js';
import type { Wave } from '../../../src/planner/plan.js';
import { policy } from '../../builders.js';

/** The 13 migrationpaths scenarios (../shared/peer-data/migrationpaths/fixed-cases.json), converted. */

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const sharedDir = path.resolve(repoRoot, '../shared');

interface RawCase {
  id: string;
  hosts: Array<{ name: string; arch: string; capacity: { ram_mb: number } }>;
  vms: Array<{ name: string; arch: string; demand: { ram_mb: number } }>;
  initial: Record<string, string[]>;
  target: Record<string, string[]>;
  phases: { shutdown_first: string[]; provision_last: string[]; to_migrate: string[] };
  peer: { expected_feasible: boolean; expected_cost?: number };
  oracle: { lower_bound_cost: number; feasible: boolean; optimal_cost?: number };
  reference_waves: Record<string, { wave_count?: number; cost?: number }>;
}

export interface FixedCase {
  readonly raw: RawCase;
  readonly cluster: Cluster;
  readonly target: Map<string, string>;
  /** The arch rule: x86_64 hosts run both archs, i386 hosts only i386 VMs. */
  readonly allowed: (vm: Vm, host: Host) => boolean;
  readonly archOf: Map<string, string>;
  readonly capacityMiB: Map<string, number>;
}

export function loadFixedCases(): FixedCase[] {
  const file = path.join(sharedDir, 'peer-data/migrationpaths/fixed-cases.json');
  const data = JSON.parse(readFileSync(file, 'utf8')) as { cases: RawCase[] };
  return data.cases.map(convert);
}

function convert(raw: RawCase): FixedCase {
  const archOf = new Map<string, string>();
  const capacityMiB = new Map<string, number>();
  // Phases: shut-down VMs are gone before the first migration, provisioned ones come after the last.
  const hostOf = new Map<string, string>();
  for (const [h, vms] of Object.entries(raw.initial)) for (const v of vms) hostOf.set(v, h);
  const shutdown = new Set(raw.phases.shutdown_first);
  const hosts: Host[] = raw.hosts.map((h) => {
    archOf.set(h.name, h.arch);
    capacityMiB.set(h.name, h.capacity.ram_mb);
    return {
      id: h.name,
      capacity: { cpu: 1000, memMiB: h.capacity.ram_mb, diskGiB: 0 },
      reserved: { cpu: 0, memMiB: 0, diskGiB: 0 },
      state: 'on',
      exclude: false,
      keepOn: false,
      drain: false,
      tags: [],
    };
  });
  const vms: Vm[] = raw.vms
    .filter((v) => hostOf.has(v.name) && !shutdown.has(v.name))
    .map((v) => {
      archOf.set(v.name, v.arch);
      return {
        id: v.name,
        demand: { cpu: 0, memMiB: v.demand.ram_mb, diskGiB: 0 },
        host: hostOf.get(v.name)!,
        pinned: false,
      };
    });
  const provisioned = new Set(raw.phases.provision_last);
  const target = new Map<string, string>();
  for (const [h, list] of Object.entries(raw.target))
    for (const v of list) if (!provisioned.has(v)) target.set(v, h);
  const allowed = (vm: Vm, host: Host) => archOf.get(host.id) === 'x86_64' || archOf.get(vm.id) === 'i386';
  return {
    raw,
    cluster: { hosts, vms, source: `migrationpaths:${raw.id}` },
    target,
    allowed,
    archOf,
    capacityMiB,
  };
}

/** A policy with the case's per-host limit (undefined = unlimited) and nothing else in the way. */
export function casePolicy(perHost: number | undefined): Policy {
  return policy({
    overcommit: { cpu: 1, mem: 1, disk: 1 },
    migration: { maxParallel: 1000, maxPerHost: perHost ?? 1000, bandwidthMiBps: 100, maxDowntimeMs: 300 },
    antiAffinity: false,
  });
}

/**
 * The case's own wave semantics, independent of the planner and of checkPlan: every VM moves from
 * where it is, at most once per wave; during a wave each migrating VM counts on source and
 * destination; RAM within capacity and the arch rule on every destination; per-host limit; the
 * final placement is the target. Returns the problems found.
 */
export function validateCaseWaves(
  c: FixedCase,
  waves: readonly Wave[],
  perHost: number | undefined,
): string[] {
  const problems: string[] = [];
  const where = new Map(c.cluster.vms.map((v) => [v.id, v.host!]));
  const mem = new Map(c.cluster.vms.map((v) => [v.id, v.demand.memMiB]));
  waves.forEach((wave, i) => {
    const load = new Map<string, number>();
    for (const [v, h] of where) load.set(h, (load.get(h) ?? 0) + mem.get(v)!);
    const touches = new Map<string, number>();
    const seen = new Set<string>();
    for (const m of wave) {
      if (seen.has(m.vm)) problems.push(`wave ${i + 1}: ${m.vm} moves twice`);
      seen.add(m.vm);
      if (where.get(m.vm) !== m.from) problems.push(`wave ${i + 1}: ${m.vm} is not on ${m.from}`);
      if (c.archOf.get(m.to) === 'i386' && c.archOf.get(m.vm) !== 'i386')
        problems.push(`wave ${i + 1}: ${m.vm} (x86_64) onto i386 host ${m.to}`);
      load.set(m.to, (load.get(m.to) ?? 0) + mem.get(m.vm)!);
      for (const h of [m.from, m.to]) touches.set(h, (touches.get(h) ?? 0) + 1);
    }
    for (const [h, l] of load)
      if (l > c.capacityMiB.get(h)!)
        problems.push(`wave ${i + 1}: host ${h} holds ${l} > ${c.capacityMiB.get(h)} MiB`);
    if (perHost !== undefined)
      for (const [h, n] of touches)
        if (n > perHost) problems.push(`wave ${i + 1}: ${n} migrations touch ${h}`);
    for (const m of wave) where.set(m.vm, m.to);
  });
  for (const [v, h] of c.target)
    if (where.get(v) !== h) problems.push(`${v} ends on ${where.get(v)}, not ${h}`);
  return problems;
}
