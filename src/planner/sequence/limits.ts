import type { LeftOut } from '../plan.js';
import { EPS, R, type SeqModel } from './model.js';
import type { Move } from './search.js';
import { round } from './validate.js';

/** Left-out bookkeeping while limits shrink the target: VM or host id -> reason (first reason wins). */
export class LeftOutLog {
  private readonly entries = new Map<string, LeftOut>();
  add(kind: LeftOut['kind'], id: string, reason: string): void {
    const key = `${kind}:${id}`;
    if (!this.entries.has(key)) this.entries.set(key, { kind, id, reason });
  }
  list(): LeftOut[] {
    return [...this.entries.values()].sort((x, y) => (x.kind + x.id < y.kind + y.id ? -1 : 1));
  }
}

/** Keeps VMs whose estimated migration exceeds `max_migration_seconds` on their host. */
export function applyMaxMigrationSeconds(
  m: SeqModel,
  tgt: Int32Array,
  limitSeconds: number,
  log: LeftOutLog,
): void {
  for (let v = 0; v < m.vms.length; v++) {
    if (tgt[v] === m.a[v] || !(m.est[v]! > limitSeconds)) continue;
    tgt[v] = m.a[v]!;
    log.add('vm', m.vms[v]!.id, `max_migration_seconds ${limitSeconds}: estimated ${round(m.est[v]!)} s`);
  }
}

/**
 * After VMs were kept home, the shrunken target may overcommit a receiving host (the kept VM still
 * uses room another VM was to take) or break anti-affinity there. Keeps arrivals of such hosts home
 * too, largest first, until every receiving host fits; each is logged with the limit that started it.
 */
export function repairTarget(m: SeqModel, tgt: Int32Array, log: LeftOutLog, cause: string): void {
  const nH = m.hosts.length;
  const used = new Float64Array(nH * R);
  const arrivals: number[][] = Array.from({ length: nH }, () => []);
  for (let v = 0; v < m.vms.length; v++) {
    const h = tgt[v]!;
    if (h < 0) continue;
    for (let r = 0; r < R; r++) used[h * R + r]! += m.dem[v * R + r]!;
    if (h !== m.a[v]) arrivals[h]!.push(v);
  }
  const dirty = arrivals.map((list) => list.length > 0);
  for (let pass = true; pass;) {
    pass = false;
    for (let h = 0; h < nH; h++) {
      if (!dirty[h]) continue;
      dirty[h] = false;
      const list = arrivals[h]!.filter((v) => tgt[v] === h).sort(
        (x, y) => m.dem[y * R + 1]! - m.dem[x * R + 1]! || x - y,
      );
      for (const v of list) {
        if (fitsTarget(m, tgt, used, h)) break;
        const home = m.a[v]!;
        tgt[v] = home;
        for (let r = 0; r < R; r++) {
          used[h * R + r]! -= m.dem[v * R + r]!;
          used[home * R + r]! += m.dem[v * R + r]!;
        }
        log.add('vm', m.vms[v]!.id, `${cause}: its target host ${m.hosts[h]!.id} would be too full`);
        dirty[home] = arrivals[home]!.length > 0;
        pass = true;
      }
    }
  }
}

function fitsTarget(m: SeqModel, tgt: Int32Array, used: Float64Array, h: number): boolean {
  for (let r = 0; r < R; r++) if (used[h * R + r]! > m.lim[h * R + r]! + EPS) return false;
  if (m.groupCount === 0) return true;
  const seen = new Set<number>();
  for (let v = 0; v < m.vms.length; v++) {
    if (tgt[v] !== h || m.group[v]! < 0) continue;
    if (seen.has(m.group[v]!)) return false;
    seen.add(m.group[v]!);
  }
  return true;
}

/** Power-off hosts the shrunken target still leaves VMs on: they stay on. */
export function keptOn(m: SeqModel, tgt: Int32Array, log: LeftOutLog, cause: string): Set<number> {
  const kept = new Set<number>();
  for (let v = 0; v < m.vms.length; v++) if (tgt[v]! >= 0 && m.emptied[tgt[v]!]) kept.add(tgt[v]!);
  for (const h of kept) log.add('host', m.hosts[h]!.id, `${cause}: it would still hold VMs`);
  return kept;
}

/** Wave durations: the longest migration of each wave (waves run one after another). */
export function waveSeconds(m: SeqModel, waves: readonly Move[][]): number[] {
  return waves.map((w) => w.reduce((s, mv) => Math.max(s, m.est[mv.v]!), 0));
}

/**
 * Whole hosts to drop so the plan fits `budgetSeconds`: every start host whose VMs are still
 * migrating after the budget (by the finish time of the last wave moving one of them). When none
 * finishes late yet the plan is too long, the latest-finishing host goes.
 */
export function hostsOverBudget(m: SeqModel, waves: readonly Move[][], budgetSeconds: number): number[] {
  const durations = waveSeconds(m, waves);
  const finish = new Map<number, number>();
  let t = 0;
  waves.forEach((w, i) => {
    t += durations[i]!;
    for (const mv of w) finish.set(m.a[mv.v]!, t);
  });
  const late = [...finish].filter(([, end]) => end > budgetSeconds + 1e-9).map(([h]) => h);
  if (late.length > 0 && late.length < finish.size) return late.sort((x, y) => x - y);
  const latest = [...finish].sort((x, y) => y[1] - x[1] || y[0] - x[0])[0];
  return latest ? [latest[0]] : [];
}
