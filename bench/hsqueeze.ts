/**
 * Side by side with Debian's hsqueeze (ganeti-htools 3.0): small clusters cut from a real scenario,
 * written as Ganeti text with shared-storage (movable) instances, planned by both tools in per_host
 * mode at the same thresholds. hsqueeze runs under a time limit; where it finishes, the table shows
 * hosts freed, migrations and time for both, and the time ratio.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { resolvePolicy } from '../src/config/policy.js';
import { loadClusterFile } from '../src/inventory/file/index.js';
import { toGanetiText } from '../src/inventory/file/ganeti.js';
import type { Cluster } from '../src/model/cluster.js';
import { checkPlan } from '../src/planner/check-plan.js';
import { plan } from '../src/planner/index.js';
import { round, scenarioDir, table } from './common.js';

const run = promisify(execFile);
export const HSQUEEZE = '/usr/lib/ganeti/3.0/usr/bin/hsqueeze';

/** Thresholds for both tools: hsqueeze's defaults (2 standard instances of headroom per host). */
const MINIMAL = 2;
const TARGET = 2;
const STANDARD = { cpu: 2, memMiB: 4096, diskGiB: 0 };

export interface SideBySideRow {
  readonly hosts: number;
  readonly vms: number;
  readonly hsqueeze: { finished: boolean; hostsFreed?: number; migrations?: number; seconds: number };
  readonly virtSqueeze: { hostsFreed: number; migrations: number; seconds: number; checkPlan: string };
}

/** The first `n` hosts of a scenario with their VMs, every VM movable (shared storage). */
export function cut(cluster: Cluster, n: number): Cluster {
  const hosts = cluster.hosts.slice(0, n);
  const ids = new Set(hosts.map((h) => h.id));
  return {
    ...cluster,
    hosts,
    vms: cluster.vms.filter((v) => v.host !== null && ids.has(v.host)).map((v) => ({ ...v, pinned: false })),
  };
}

async function runHsqueeze(file: string, limitSeconds: number): Promise<SideBySideRow['hsqueeze']> {
  const t0 = performance.now();
  try {
    const { stdout } = await run(
      HSQUEEZE,
      ['-t', file, `--minimal-resources=${MINIMAL}`, `--target-resources=${TARGET}`, '-C'],
      { timeout: limitSeconds * 1000, killSignal: 'SIGKILL', maxBuffer: 64 << 20 },
    );
    const lines = stdout.split('\n');
    const end = lines.findIndex((l, i) => i > 0 && l.trim() === '');
    const names = lines.slice(1, end < 0 ? undefined : end).filter((l) => l.trim() !== '');
    const offline = lines[0]?.includes('Nodes to offline') ? names.length : 0;
    return {
      finished: true,
      hostsFreed: offline,
      migrations: lines.filter((l) => l.includes('gnt-instance migrate')).length,
      seconds: (performance.now() - t0) / 1000,
    };
  } catch {
    return { finished: false, seconds: (performance.now() - t0) / 1000 };
  }
}

async function runOurs(file: string): Promise<SideBySideRow['virtSqueeze']> {
  const { cluster, hints } = await loadClusterFile(`ganeti:${file}`);
  const base = resolvePolicy(undefined, hints, {
    minimal: MINIMAL,
    target: TARGET,
    mode: 'per_host',
    failoverReserveHosts: 0,
  });
  const policy = { ...base, safety: { ...base.safety, maxPowerOffPerRun: Number.MAX_SAFE_INTEGER } };
  const t0 = performance.now();
  const p = plan(cluster, policy);
  const seconds = (performance.now() - t0) / 1000;
  const violations = checkPlan(cluster, p, policy);
  return {
    hostsFreed: p.powerOff.length,
    migrations: p.summary.migrations,
    seconds,
    checkPlan: violations.length === 0 ? 'ok' : `FAIL ${violations[0]!.message}`,
  };
}

export async function hsqueezeSection(opts: {
  limitSeconds: number;
  sizes?: number[];
}): Promise<SideBySideRow[]> {
  if (!existsSync(HSQUEEZE)) throw new Error(`${HSQUEEZE} not found: apt-get install ganeti-htools-3.0`);
  const { cluster } = await loadClusterFile(path.join(scenarioDir, 'bitbrains-h100.json.gz'));
  const dir = mkdtempSync(path.join(tmpdir(), 'vs-hsqueeze-'));
  const rows: SideBySideRow[] = [];
  try {
    for (const n of opts.sizes ?? [10, 15, 20, 30]) {
      const small = cut(cluster, n);
      const file = path.join(dir, `bitbrains-${n}.data`);
      writeFileSync(file, toGanetiText(small, { standard: STANDARD, vcpuRatio: 4 }));
      const theirs = await runHsqueeze(file, opts.limitSeconds);
      const ours = await runOurs(file);
      rows.push({ hosts: n, vms: small.vms.length, hsqueeze: theirs, virtSqueeze: ours });
      process.stderr.write(
        `bench: hsqueeze ${n} hosts: ${theirs.finished ? `${round(theirs.seconds, 1)} s` : 'over limit'}\n`,
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(
    `\n## Side by side with hsqueeze (per_host, minimal ${MINIMAL}, target ${TARGET}, limit ${opts.limitSeconds} s)\n`,
  );
  console.log(
    table(
      [
        'hosts',
        'VMs',
        'hsq freed',
        'ours freed',
        'hsq migr',
        'ours migr',
        'hsq s',
        'ours s',
        'time ratio',
        'checkPlan',
      ],
      rows.map((r) => [
        r.hosts,
        r.vms,
        r.hsqueeze.finished ? r.hsqueeze.hostsFreed! : `> ${opts.limitSeconds} s`,
        r.virtSqueeze.hostsFreed,
        r.hsqueeze.finished ? r.hsqueeze.migrations! : '-',
        r.virtSqueeze.migrations,
        round(r.hsqueeze.seconds, 2),
        round(r.virtSqueeze.seconds, 4),
        `${Math.round(r.hsqueeze.seconds / Math.max(r.virtSqueeze.seconds, 1e-4))}x${r.hsqueeze.finished ? '' : '+'}`,
        r.virtSqueeze.checkPlan,
      ]),
    ),
  );
  return rows;
}
