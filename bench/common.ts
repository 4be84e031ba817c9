import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root and the shared reference data beside it (CI clones with ../shared next to the repo). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const sharedDir = path.resolve(repoRoot, '../shared');
export const scenarioDir = path.join(sharedDir, 'bench-data/scenarios');

/** One row of ../shared/bench-data/baselines.json (host counts). */
export interface Baseline {
  readonly scenario: string;
  readonly hosts: number;
  readonly vms: number;
  readonly active_t0: number;
  readonly lb_simple: number;
  readonly l2_mem: number;
  readonly ffd: number | null;
  readonly bfd: number | null;
  readonly lb_p95?: number | null;
  readonly ffd_p95?: number | null;
}

export function loadBaselines(): Map<string, Baseline> {
  const file = path.join(sharedDir, 'bench-data/baselines.json');
  if (!existsSync(file))
    throw new Error(`benchmark data not found: ${file} (../shared must sit beside the repo)`);
  const rows = JSON.parse(readFileSync(file, 'utf8')) as Baseline[];
  return new Map(rows.map((r) => [r.scenario, r]));
}

/** Scenario names at or below `maxHosts` hosts, smallest first. */
export function scenarioNames(maxHosts: number, baselines: Map<string, Baseline>): string[] {
  return [...baselines.values()]
    .filter((b) => b.hosts <= maxHosts && existsSync(path.join(scenarioDir, `${b.scenario}.json.gz`)))
    .sort((a, b) => a.hosts - b.hosts || (a.scenario < b.scenario ? -1 : 1))
    .map((b) => b.scenario);
}

/** Fixed-width table for terminal output. */
export function table(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
