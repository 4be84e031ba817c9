/**
 * Quick planner probe (the planner's own measuring script; the formal harness is bench/run.ts):
 *   npx tsx bench/planner-probe.ts [max|defaults|unlimited|usage] [scenario ...]
 * (`unlimited` = the defaults without the per-run power-off/on limits).
 * For each scenario: hosts on before/after vs FFD and the lower bound from baselines.json, migrated
 * GiB vs the memory bound (sum of the k smallest movable host loads for k hosts freed), plan time,
 * RSS, and whether the target placement is feasible (every host within limits, anti-affinity kept).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { resolvePolicy } from '../src/config/policy.js';
import { loadClusterFile } from '../src/inventory/file/index.js';
import type { Cluster } from '../src/model/cluster.js';
import { Occupancy } from '../src/model/capacity.js';
import type { Policy } from '../src/model/policy.js';
import { checkPlan } from '../src/planner/check-plan.js';
import { draftPlan } from '../src/planner/draft.js';
import { plan } from '../src/planner/index.js';
import { memoryLowerBoundMiB } from './plan-one.js';

const shared = path.resolve(import.meta.dirname, '..', '..', 'shared', 'bench-data');
const setting = process.argv[2] ?? 'max';
const names = process.argv.slice(3);
const all = [
  'bitbrains-h100',
  'planetlab-h100',
  'azure-h100',
  'roadef-b01',
  'bitbrains-h1000',
  'planetlab-h1000',
  'azure-h1000',
  'roadef-b04',
  'roadef-b09',
];
const baselines = new Map<string, { ffd: number | null; lb_simple: number; l2_mem: number }>(
  (
    JSON.parse(readFileSync(path.join(shared, 'baselines.json'), 'utf8')) as Array<{
      scenario: string;
      ffd: number | null;
      lb_simple: number;
      l2_mem: number;
    }>
  ).map((b) => [b.scenario, b]),
);

function policyFor(hints: Parameters<typeof resolvePolicy>[1]): Policy {
  const base = resolvePolicy(undefined, hints, {});
  if (setting === 'defaults') return base;
  if (setting === 'unlimited')
    return { ...base, safety: { ...base.safety, maxPowerOffPerRun: 1e9, maxPowerOnPerRun: 1e9 } };
  const max = resolvePolicy(undefined, hints, { minimal: 0, target: 0, failoverReserveHosts: 0 });
  const safety = { ...max.safety, maxPowerOffPerRun: 1e9, maxPowerOnPerRun: 1e9, failoverReserveHosts: 0 };
  return setting === 'usage' ? { ...max, safety, usage: { cpuCap: 1 } } : { ...max, safety };
}

function feasible(cluster: Cluster, policy: Policy, target: ReadonlyMap<string, string>): string {
  const moved: Cluster = {
    ...cluster,
    vms: cluster.vms.map((v) => (target.has(v.id) ? { ...v, host: target.get(v.id)! } : v)),
  };
  const occ = new Occupancy(moved, policy);
  for (const h of cluster.hosts) {
    const free = occ.freeOn(h.id);
    if (Math.min(free.cpu, free.memMiB, free.diskGiB) < -1e-9 || occ.overLoadCap(h.id))
      return `overcommitted ${h.id}`;
  }
  if (policy.antiAffinity)
    for (const h of cluster.hosts) {
      const seen = new Set<string>();
      for (const id of occ.vmsOn(h.id)) {
        const g = occ.vmById.get(id)!.group;
        if (g === undefined) continue;
        if (seen.has(g)) return `anti-affinity ${g} on ${h.id}`;
        seen.add(g);
      }
    }
  return 'ok';
}

for (const name of names.length > 0 ? names : all) {
  const { cluster, hints } = await loadClusterFile(
    path.join(shared, 'scenarios', `${name}.json.gz`),
    setting === 'usage' ? { usage: { percentile: 95 } } : {},
  );
  const policy = policyFor(hints);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const d = draftPlan(cluster, policy);
  const ms = performance.now() - t0;
  const cpuMs = (process.cpuUsage(c0).user + process.cpuUsage(c0).system) / 1000;
  const b = baselines.get(name);
  const lb = b ? Math.max(b.lb_simple, b.l2_mem) : NaN;
  const bound = memoryLowerBoundMiB(cluster, d.powerOff.length);
  const rssMiB = process.memoryUsage().rss / 2 ** 20;
  const off = new Set(d.powerOff);
  const idleOn = cluster.hosts
    .filter((h) => h.state === 'on' && !off.has(h.id))
    .reduce((w, h) => w + (h.idleWatts ?? 0), 0);
  console.log(
    [
      name.padEnd(16),
      d.decision,
      `on ${d.hostsOnBefore}->${d.hostsOnAfter}`,
      `ffd ${b?.ffd ?? '-'} lb ${lb}`,
      `idle on ${idleOn.toFixed(0)} W`,
      `moves ${d.target.size}`,
      `GiB ${(d.migratedMemMiB / 1024).toFixed(0)} / bound ${(bound / 1024).toFixed(0)} = ${(d.migratedMemMiB / Math.max(bound, 1)).toFixed(3)}`,
      `${ms.toFixed(0)} ms (cpu ${cpuMs.toFixed(0)} ms)`,
      `rss ${rssMiB.toFixed(0)} MiB`,
      feasible(cluster, policy, d.target),
    ].join(' | '),
  );
  if (process.env.VSQ_FULL === '1') {
    const t1 = performance.now();
    const p = plan(cluster, policy);
    const full = performance.now() - t1;
    const bad = checkPlan(cluster, p, policy);
    const rss = process.memoryUsage().rss / 2 ** 20;
    console.log(
      `  full plan: ${full.toFixed(0)} ms, waves ${p.summary.waves}, migrations ${p.summary.migrations}, off ${p.powerOff.length}, left out ${p.leftOut.length}, rss ${rss.toFixed(0)} MiB, checkPlan ${bad.length === 0 ? 'ok' : bad[0]!.message}`,
    );
  }
}
