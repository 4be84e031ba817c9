/**
 * `npm run bench [-- --scale 10000] [--only planner,hsqueeze,sequencing,libvirt] [--hsqueeze-limit 60]`
 *
 * Measures plan quality, speed and memory on ../shared/bench-data/scenarios as ratios against the
 * lower bounds and greedy baselines of baselines.json and side by side with Debian's hsqueeze; every
 * plan is replayed by checkPlan. Prints tables and writes everything as JSON under bench/results/.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, promisify } from 'node:util';
import { loadBaselines, repoRoot, round, scenarioNames, table, type Baseline } from './common.js';
import type { PlanRow, Setting } from './plan-one.js';

const run = promisify(execFile);

const { values: args } = parseArgs({
  options: {
    scale: { type: 'string', default: '1000' },
    only: { type: 'string', default: 'planner,hsqueeze,sequencing,libvirt' },
    'hsqueeze-limit': { type: 'string', default: '60' },
  },
});
const sections = new Set(args.only.split(','));
const maxHosts = Number(args.scale);
const results: Record<string, unknown> = { startedAt: new Date().toISOString(), scale: maxHosts };

async function planChild(scenario: string, setting: Setting): Promise<PlanRow> {
  const script = path.join(repoRoot, 'bench/plan-one.ts');
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script, scenario, setting], {
    cwd: repoRoot,
    maxBuffer: 16 << 20,
    timeout: 15 * 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as PlanRow;
}

function settingsFor(b: Baseline): Setting[] {
  return b.lb_p95 !== null && b.lb_p95 !== undefined ? ['defaults', 'max', 'usage'] : ['defaults', 'max'];
}

function ratio(a: number, b: number): string {
  return b > 0 ? round(a / b, 3).toFixed(3) : a === 0 ? '1.000' : 'inf';
}

async function plannerSection(): Promise<void> {
  const baselines = loadBaselines();
  const rows: PlanRow[] = [];
  for (const name of scenarioNames(maxHosts, baselines))
    for (const setting of settingsFor(baselines.get(name)!)) {
      const row = await planChild(name, setting);
      rows.push(row);
      process.stderr.write(
        `bench: ${name} ${setting}: ${row.hostsOnAfter} hosts on, ${Math.round(row.planMs)} ms\n`,
      );
    }
  results.planner = rows.map((r) => ({ ...r, baseline: baselines.get(r.scenario) }));
  const print = rows.map((r) => {
    const b = baselines.get(r.scenario)!;
    const lb = Math.max(b.lb_simple, b.l2_mem);
    const greedy = r.setting === 'usage' ? b.ffd_p95 : b.ffd;
    const lbFor = r.setting === 'usage' ? (b.lb_p95 ?? lb) : lb;
    return [
      r.scenario,
      r.setting,
      r.hostsOnBefore,
      r.hostsOnAfter,
      lbFor,
      greedy ?? 'fail',
      r.migrations,
      round(r.migratedGiB, 0),
      round(r.memLowerBoundGiB, 0),
      ratio(r.migratedGiB, r.memLowerBoundGiB),
      r.vmsMovedTwice,
      r.waves,
      Math.round(r.planMs),
      Math.round(r.peakRssMiB),
      r.violations === 0 ? 'ok' : `FAIL ${r.firstViolation}`,
    ];
  });
  console.log('\n## Planner (hosts on after vs lower bound and FFD; migrated memory vs its lower bound)\n');
  console.log(
    table(
      [
        'scenario',
        'setting',
        'on before',
        'on after',
        'LB',
        'FFD',
        'migr',
        'GiB moved',
        'GiB LB',
        'mem ratio',
        'twice',
        'waves',
        'plan ms',
        'RSS MiB',
        'checkPlan',
      ],
      print,
    ),
  );
}

async function optionalSection(name: string, file: string, exportName: string): Promise<void> {
  const mod = (await import(path.join(repoRoot, file))) as Record<
    string,
    (o: { maxHosts: number }) => Promise<unknown>
  >;
  const fn = mod[exportName];
  if (typeof fn !== 'function') throw new Error(`${file} does not export ${exportName}()`);
  results[name] = await fn({ maxHosts });
}

const steps: Array<[string, () => Promise<void>]> = [
  ['planner', plannerSection],
  [
    'hsqueeze',
    async () => {
      const { hsqueezeSection } = await import('./hsqueeze.js');
      results.hsqueeze = await hsqueezeSection({ limitSeconds: Number(args['hsqueeze-limit']) });
    },
  ],
  ['sequencing', () => optionalSection('sequencing', 'bench/sequencing.ts', 'sequencingSection')],
  ['libvirt', () => optionalSection('libvirt', 'bench/libvirt.ts', 'libvirtSection')],
];

let failed = false;
for (const [name, step] of steps) {
  if (!sections.has(name)) continue;
  try {
    await step();
  } catch (err) {
    failed = true;
    console.error(`bench: section ${name} failed: ${err instanceof Error ? err.message : String(err)}`);
  }
}
const outDir = path.join(repoRoot, 'bench/results');
mkdirSync(outDir, { recursive: true });
const outFile = path.join(outDir, `bench-${results.startedAt as string}.json`.replace(/:/g, '-'));
writeFileSync(outFile, JSON.stringify(results, null, 1));
console.log(`\nresults: ${path.relative(repoRoot, outFile)}`);
process.exitCode = failed ? 1 : 0;
