/**
 * Benchmarks one scenario under one setting in a process of its own (so peak RSS is this plan's),
 * printing one JSON line. Called by bench/run.ts; runnable alone:
 *   npx tsx bench/plan-one.ts bitbrains-h100 defaults|max
 */
import path from 'node:path';
import { resolvePolicy } from '../src/config/policy.js';
import { loadClusterFile } from '../src/inventory/file/index.js';
import type { Cluster } from '../src/model/cluster.js';
import type { Policy } from '../src/model/policy.js';
import { checkPlan } from '../src/planner/check-plan.js';
import { plan } from '../src/planner/index.js';
import { scenarioDir } from './common.js';

export type Setting = 'defaults' | 'max' | 'usage';

export interface PlanRow {
  readonly scenario: string;
  readonly setting: Setting;
  readonly decision: string;
  readonly hostsOnBefore: number;
  readonly hostsOnAfter: number;
  readonly migrations: number;
  readonly migratedGiB: number;
  /** Lower bound on the memory that must move to switch off as many hosts as the plan does. */
  readonly memLowerBoundGiB: number;
  readonly waves: number;
  readonly loadMs: number;
  readonly planMs: number;
  readonly peakRssMiB: number;
  readonly violations: number;
  readonly firstViolation?: string;
  readonly vmsMovedTwice: number;
}

/**
 * Memory of the k cheapest hosts to empty: any plan that switches off k hosts moves at least all of
 * their VMs, so the sum of the k smallest per-host memory loads (over hosts that could be emptied) is a bound.
 */
export function memoryLowerBoundMiB(cluster: Cluster, hostsFreed: number): number {
  const loadMiB = new Map<string, number>();
  const blocked = new Set<string>();
  for (const h of cluster.hosts) if (h.state === 'on' && !h.exclude && !h.keepOn) loadMiB.set(h.id, 0);
  for (const v of cluster.vms) {
    if (v.host === null || !loadMiB.has(v.host)) continue;
    if (v.pinned) blocked.add(v.host);
    loadMiB.set(v.host, loadMiB.get(v.host)! + v.demand.memMiB);
  }
  const loads = [...loadMiB]
    .filter(([id]) => !blocked.has(id))
    .map(([, mib]) => mib)
    .sort((a, b) => a - b);
  return loads.slice(0, hostsFreed).reduce((s, x) => s + x, 0);
}

export function policyFor(setting: Setting, hints: Parameters<typeof resolvePolicy>[1]): Policy {
  const base = resolvePolicy(undefined, hints, {});
  const unlimited = {
    ...base.safety,
    maxPowerOffPerRun: Number.MAX_SAFE_INTEGER,
    maxPowerOnPerRun: Number.MAX_SAFE_INTEGER,
  };
  if (setting === 'defaults') return base;
  const max = resolvePolicy(undefined, hints, { minimal: 0, target: 0, failoverReserveHosts: 0 });
  if (setting === 'max') return { ...max, safety: { ...max.safety, ...unlimited, failoverReserveHosts: 0 } };
  return { ...max, safety: { ...max.safety, ...unlimited, failoverReserveHosts: 0 }, usage: { cpuCap: 1.0 } };
}

export async function benchOne(scenario: string, setting: Setting): Promise<PlanRow> {
  const file = path.join(scenarioDir, `${scenario}.json.gz`);
  const t0 = performance.now();
  const usage = setting === 'usage' ? { percentile: 95 } : undefined;
  const { cluster, hints } = await loadClusterFile(file, usage ? { usage } : {});
  const loadMs = performance.now() - t0;
  const policy = policyFor(setting, hints);
  const t1 = performance.now();
  const p = plan(cluster, policy);
  const planMs = performance.now() - t1;
  const violations = checkPlan(cluster, p, policy);
  const moved = new Map<string, number>();
  for (const wave of p.waves) for (const m of wave) moved.set(m.vm, (moved.get(m.vm) ?? 0) + 1);
  return {
    scenario,
    setting,
    decision: p.decision,
    hostsOnBefore: p.summary.hostsOnBefore,
    hostsOnAfter: p.summary.hostsOnAfter,
    migrations: p.summary.migrations,
    migratedGiB: p.summary.migratedMemMiB / 1024,
    memLowerBoundGiB: memoryLowerBoundMiB(cluster, p.powerOff.length) / 1024,
    waves: p.summary.waves,
    loadMs,
    planMs,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    violations: violations.length,
    firstViolation: violations[0] ? `${violations[0].step}: ${violations[0].message}` : undefined,
    vmsMovedTwice: [...moved.values()].filter((n) => n > 1).length,
  };
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join('bench', 'plan-one.ts'))) {
  const [scenario, setting = 'defaults'] = process.argv.slice(2);
  if (!scenario) throw new Error('usage: plan-one.ts SCENARIO defaults|max|usage');
  process.stdout.write(JSON.stringify(await benchOne(scenario, setting as Setting)) + '\n');
}
