import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  parseCounters,
  renderMetrics,
  writeMetricsFile,
  type MetricsInput,
} from '../../src/report/metrics.js';
import { squeezePlan } from '../golden/plans.js';

const at = new Date('2026-11-21T03:00:00Z');
const dryRun: MetricsInput = {
  at,
  durationMs: 1500,
  mode: 'dry-run',
  exitCode: 0,
  plan: squeezePlan(),
  quarantinedHosts: 1,
};

/** A strict reader of the Prometheus text exposition format (0.0.4) as the textfile collector expects it. */
function parseExposition(text: string): Map<string, number> {
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const SAMPLE =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\["\\n])*",?)*\})? (\S+)$/;
  expect(text.endsWith('\n')).toBe(true);
  const help = new Set<string>();
  const type = new Map<string, string>();
  const samples = new Map<string, number>();
  for (const line of text.slice(0, -1).split('\n')) {
    const meta = /^# (HELP|TYPE) (\S+) (.+)$/.exec(line);
    if (meta) {
      const [, kind, name = '', rest = ''] = meta;
      expect(name).toMatch(NAME);
      if (kind === 'HELP') {
        expect(help.has(name), `second HELP for ${name}`).toBe(false);
        help.add(name);
      } else {
        expect(['gauge', 'counter']).toContain(rest);
        expect(type.has(name), `second TYPE for ${name}`).toBe(false);
        type.set(name, rest);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    expect(m, `bad sample line: ${line}`).not.toBeNull();
    const name = m?.[1] ?? '';
    expect(help.has(name) && type.has(name), `${name} without HELP/TYPE before it`).toBe(true);
    if (type.get(name) === 'counter') expect(name.endsWith('_total')).toBe(true);
    const value = Number(m?.[3]);
    expect(Number.isNaN(value), line).toBe(false);
    const key = `${name}${m?.[2] ?? ''}`;
    expect(samples.has(key), `duplicate series ${key}`).toBe(false);
    samples.set(key, value);
  }
  return samples;
}

describe('renderMetrics', () => {
  it('is valid exposition text with the operator-facing series', () => {
    const s = parseExposition(renderMetrics(dryRun));
    expect(s.get('virt_squeeze_last_run_timestamp_seconds')).toBe(at.getTime() / 1000);
    expect(s.get('virt_squeeze_last_run_success')).toBe(1);
    expect(s.get('virt_squeeze_last_run_info{decision="squeeze",mode="dry-run",result="ok"}')).toBe(1);
    // squeezePlan: on hosts before 9+8+12+6+5+5 = 45, after 7+1+2+5 = 15.
    expect(s.get('virt_squeeze_free_standard_instances{when="before"}')).toBe(45);
    expect(s.get('virt_squeeze_free_standard_instances{when="after"}')).toBe(15);
    expect(s.get('virt_squeeze_capacity_metric{mode="average",when="before"}')).toBe(7.5);
    expect(s.get('virt_squeeze_capacity_threshold{threshold="target"}')).toBe(4);
    // A dry run changes nothing: the hosts are counted as they are.
    expect(s.get('virt_squeeze_hosts{state="on"}')).toBe(6);
    expect(s.get('virt_squeeze_hosts{state="standby"}')).toBe(1);
    expect(s.get('virt_squeeze_hosts{state="unknown"}')).toBe(1);
    expect(s.get('virt_squeeze_hosts_quarantined')).toBe(1);
    expect(s.get('virt_squeeze_last_run_migrations{outcome="planned"}')).toBe(4);
    expect(s.get('virt_squeeze_last_run_migrations{outcome="done"}')).toBe(0);
    expect(s.get('virt_squeeze_last_run_power_actions{action="off",outcome="planned"}')).toBe(2);
    expect(s.get('virt_squeeze_estimated_power_saved_watts')).toBe(390);
    expect(s.get('virt_squeeze_estimated_energy_saved_kwh_per_day')).toBeCloseTo(9.36, 9);
    expect(s.get('virt_squeeze_runs_total{result="ok"}')).toBe(1);
  });

  it('an executed run that failed midway: outcomes, not-started actions, hosts as they were', () => {
    const s = parseExposition(
      renderMetrics({
        ...dryRun,
        mode: 'execute',
        exitCode: 3,
        actions: [
          { kind: 'migrate', ok: true },
          { kind: 'migrate', ok: true },
          { kind: 'migrate', ok: false },
        ],
      }),
    );
    expect(s.get('virt_squeeze_last_run_success')).toBe(0);
    expect(s.get('virt_squeeze_last_run_exit_code')).toBe(3);
    expect(
      s.get('virt_squeeze_last_run_info{decision="squeeze",mode="execute",result="actions_failed"}'),
    ).toBe(1);
    expect(s.get('virt_squeeze_last_run_migrations{outcome="done"}')).toBe(2);
    expect(s.get('virt_squeeze_last_run_migrations{outcome="failed"}')).toBe(1);
    expect(s.get('virt_squeeze_last_run_migrations{outcome="not_started"}')).toBe(1);
    expect(s.get('virt_squeeze_last_run_power_actions{action="off",outcome="not_started"}')).toBe(2);
    expect(s.get('virt_squeeze_hosts{state="on"}')).toBe(6);
    expect(s.get('virt_squeeze_migrations_total{outcome="failed"}')).toBe(1);
    expect(s.get('virt_squeeze_runs_total{result="actions_failed"}')).toBe(1);
  });

  it('a completed executed run counts hosts in their new states; a run with no plan still reports', () => {
    const done = parseExposition(renderMetrics({ ...dryRun, mode: 'execute' }));
    expect(done.get('virt_squeeze_hosts{state="on"}')).toBe(4);
    expect(done.get('virt_squeeze_hosts{state="standby"}')).toBe(3);
    const failed = parseExposition(renderMetrics({ at, durationMs: 5, mode: 'execute', exitCode: 2 }));
    expect(
      failed.get('virt_squeeze_last_run_info{decision="unknown",mode="execute",result="bad_input"}'),
    ).toBe(1);
    expect(failed.has('virt_squeeze_hosts{state="on"}')).toBe(false);
  });

  it('parseCounters reads back exactly the counters', () => {
    const counters = parseCounters(renderMetrics(dryRun));
    expect(counters.get('virt_squeeze_runs_total{result="ok"}')).toBe(1);
    expect(counters.get('virt_squeeze_power_actions_total{action="off",outcome="done"}')).toBe(0);
    expect([...counters.keys()].every((k) => /_total(\{|$)/.test(k))).toBe(true);
    expect(parseCounters('garbage\nvirt_squeeze_runs_total{result="ok"} -3\n').size).toBe(0);
  });
});

describe('writeMetricsFile', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'vs-metrics-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('accumulates counters across runs, mode 0644, no temporary files left', async () => {
    const file = path.join(dir, 'virt-squeeze.prom');
    const executed: MetricsInput = {
      ...dryRun,
      mode: 'execute',
      actions: [
        { kind: 'migrate', ok: true },
        { kind: 'power_off', ok: true },
      ],
    };
    await writeMetricsFile(file, executed);
    await writeMetricsFile(file, executed);
    await writeMetricsFile(file, { ...executed, exitCode: 4, actions: [] });
    const s = parseExposition(readFileSync(file, 'utf8'));
    expect(s.get('virt_squeeze_runs_total{result="ok"}')).toBe(2);
    expect(s.get('virt_squeeze_runs_total{result="locked"}')).toBe(1);
    expect(s.get('virt_squeeze_migrations_total{outcome="done"}')).toBe(2);
    expect(s.get('virt_squeeze_power_actions_total{action="off",outcome="done"}')).toBe(2);
    expect(statSync(file).mode & 0o777).toBe(0o644);
    expect(readdirSync(dir)).toEqual(['virt-squeeze.prom']);
  });

  it('replaces the file by rename: a concurrent reader only ever sees whole files', async () => {
    const file = path.join(dir, 'virt-squeeze.prom');
    await writeMetricsFile(file, dryRun);
    const inodes = new Set<number>([statSync(file).ino]);
    let writing = true;
    let reads = 0;
    const reader = (async () => {
      while (writing) {
        const text = await readFile(file, 'utf8');
        parseExposition(text);
        expect(text).toContain('virt_squeeze_power_actions_total{action="on",outcome="failed"}');
        reads++;
      }
    })();
    for (let i = 0; i < 80; i++) {
      await writeMetricsFile(file, { ...dryRun, durationMs: i });
      inodes.add(statSync(file).ino);
    }
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(inodes.size).toBeGreaterThan(1);
    expect(readdirSync(dir)).toEqual(['virt-squeeze.prom']);
    expect(parseCounters(readFileSync(file, 'utf8')).get('virt_squeeze_runs_total{result="ok"}')).toBe(81);
  });
});

describe('node_exporter textfile collector reads the file', () => {
  const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
  let child: ChildProcess | undefined;
  let dir: string | undefined;
  afterAll(() => {
    if (child?.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
      const srv = createServer();
      srv.once('error', reject);
      srv.listen(0, '127.0.0.1', () => {
        const addr = srv.address();
        const port = typeof addr === 'object' && addr ? addr.port : 0;
        srv.close(() => resolve(port));
      });
    });
  }

  async function scrape(
    url: string,
    until: (body: string) => boolean,
    gone: () => boolean,
    timeoutMs = 30_000,
  ): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline && !gone()) {
      try {
        const res = await fetch(url);
        last = await res.text();
        if (until(last)) return last;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (gone()) return undefined;
    throw new Error(
      `node_exporter did not serve the expected metrics in time; last body:\n${last.slice(0, 2000)}`,
    );
  }

  /** Starts node_exporter on a free loopback port; a start that loses the port race is retried on another. */
  async function startAndScrape(textfileDir: string): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const proc = spawn(
        NODE_EXPORTER,
        [
          '--collector.disable-defaults',
          '--collector.textfile',
          `--collector.textfile.directory=${textfileDir}`,
          `--web.listen-address=127.0.0.1:${port}`,
        ],
        { stdio: 'ignore' },
      );
      child = proc;
      const body = await scrape(
        `http://127.0.0.1:${port}/metrics`,
        (b) => b.includes('virt_squeeze_'),
        () => proc.exitCode !== null,
      );
      if (body !== undefined) return body;
      if (attempt >= 3) throw new Error('node_exporter exited at start three times');
    }
  }

  it('serves our series with no textfile scrape error', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'vs-textfile-'));
    const file = path.join(dir, 'virt-squeeze.prom');
    await writeMetricsFile(file, dryRun);
    const body = await startAndScrape(dir);
    expect(body).toMatch(/^node_textfile_scrape_error 0$/m);
    expect(body).toMatch(/^virt_squeeze_last_run_success 1$/m);
    expect(body).toMatch(/^virt_squeeze_hosts\{state="on"\} 6$/m);
    expect(body).toMatch(/^# TYPE virt_squeeze_runs_total counter$/m);
    expect(body).toContain(`node_textfile_mtime_seconds{file="${file}"}`);
  });
});
