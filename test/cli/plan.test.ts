import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadContext } from '../../src/app/context.js';
import { planRun } from '../../src/app/plan-run.js';
import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/main.js';
import { checkPlan } from '../../src/planner/check-plan.js';
import { runCli } from '../cli-process.js';

const repo = path.resolve(import.meta.dirname, '../..');
const shared = path.resolve(repo, '../shared');
const example = path.join(repo, 'config/example.yaml');

function capture(): Io & { stdout: string; stderr: string } {
  const io = {
    stdout: '',
    stderr: '',
    out: (t: string) => void (io.stdout += t),
    err: (t: string) => void (io.stderr += t),
  };
  return io;
}

async function cli(...argv: string[]) {
  const io = capture();
  const code = await main(argv, io);
  return { code, stdout: io.stdout, stderr: io.stderr };
}

const tmp = mkdtempSync(path.join(tmpdir(), 'vs-cli-'));
function file(name: string, text: string): string {
  const f = path.join(tmp, name);
  writeFileSync(f, text);
  return f;
}

describe('virt-squeeze plan', () => {
  it('prints a squeeze for the embedded demo cluster (the README command)', async () => {
    const r = await cli('plan', '--config', example);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Decision:\s+SQUEEZE/);
    expect(r.stdout).toMatch(/power off, last/);
    expect(r.stderr).toBe('');
  });

  it('prints the DESIGN 4.2 JSON contract', async () => {
    const r = await cli('plan', '--config', example, '--format', 'json');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.format).toBe('virt-squeeze-plan/v1');
    expect(json.decision).toBe('squeeze');
    expect(Object.keys(json)).toEqual(
      expect.arrayContaining(['reason', 'metric', 'power_on', 'waves', 'power_off', 'hosts', 'summary']),
    );
    expect(json.power_off.length).toBeGreaterThan(0);
    expect(json.summary.migrations).toBe(json.waves.flat().length);
  });

  it('applies threshold flags over the config for one run', async () => {
    const r = await cli(
      'plan',
      '--config',
      example,
      '--format',
      'json',
      '--minimal',
      '1000',
      '--target',
      '2000',
    );
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.decision).toBe('expand');
    expect(json.metric).toMatchObject({ minimal: 1000, target: 2000 });
  });

  it.each([
    ['a non-numeric flag', ['--minimal', 'x'], /--minimal expects a number/],
    ['a missing config file', ['--config', '/nonexistent/config.yaml'], /\/nonexistent\/config\.yaml/],
    ['an unknown threshold mode', ['--threshold-mode', 'median'], /median/],
  ])('exits 2 with one clear line for %s', async (_name, args, message) => {
    const r = await cli('plan', ...(args.includes('--config') ? [] : ['--config', example]), ...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('exits 2 naming the file and line for a bad config', async () => {
    const bad = file(
      'bad.yaml',
      'cluster_file: ' +
        path.join(repo, 'config/demo-cluster.json') +
        '\nthresholds:\n  minimal: 5\n  target: 1\n',
    );
    const r = await cli('plan', '--config', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(bad);
    expect(r.stderr).toMatch(/thresholds/);
  });

  it('exits 2 naming the file and JSON path for a bad cluster file', async () => {
    const bad = file(
      'bad-cluster.json',
      JSON.stringify({
        format: 'squeeze-scenario/v1',
        hosts: [{ id: 'h1', cpu_cores: 'many', mem_mib: 1024, disk_gib: 10 }],
        vms: [],
      }),
    );
    const r = await cli('plan', '--cluster', bad);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('bad-cluster.json');
    expect(r.stderr).toMatch(/hosts\[0\]\.cpu_cores/);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('exits 2 for malformed JSON and for an unreadable Ganeti file', async () => {
    const broken = await cli(
      'plan',
      '--cluster',
      file('broken.json', '{"format": "squeeze-scenario/v1", "hosts": [\n'),
    );
    expect(broken.code).toBe(2);
    expect(broken.stderr).toContain('broken.json');
    const ganeti = await cli('plan', '--cluster', `ganeti:${file('g.data', 'only one section\n')}`);
    expect(ganeti.code).toBe(2);
    expect(ganeti.stderr).toContain('g.data');
  });

  it('plans live libvirt hosts from the config (libvirt test driver)', async () => {
    const cfg = file('live.yaml', 'hosts:\n  - { id: test, uri: "test:///default" }\n');
    const r = await cli('plan', '--config', cfg, '--format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.hosts.map((h: { id: string }) => h.id)).toEqual(['test']);
    expect(json.hosts[0].state_before).toBe('on');
  }, 60_000);

  it('packs by observed load when the config enables usage (percentile over the look-back window)', async () => {
    const scenario = path.join(shared, 'bench-data/scenarios/bitbrains-h100.json.gz');
    const cfg = (usage: string) => file(`usage-${usage.length}.yaml`, `cluster_file: ${scenario}\n${usage}`);
    const plain = await loadContext({ configPath: cfg('') });
    const day = await loadContext({
      configPath: cfg('usage: { cpu_cap: 80%, percentile: 95, lookback: 24h }\n'),
    });
    const hour = await loadContext({
      configPath: cfg('usage: { cpu_cap: 80%, percentile: 95, lookback: 1h }\n'),
    });
    expect(plain.policy.usage).toBeUndefined();
    expect(plain.cluster.vms.every((v) => v.cpuLoadCores === undefined)).toBe(true);
    expect(day.policy.usage).toEqual({ cpuCap: 0.8 });
    const loads = (c: typeof day) => c.cluster.vms.map((v) => v.cpuLoadCores!);
    expect(loads(day).every((x) => x >= 0)).toBe(true);
    expect(loads(hour)).not.toEqual(loads(day)); // 12 samples, not 288
    const { plan } = await planRun(day, { format: 'json' });
    expect(checkPlan(day.cluster, plan, day.policy)).toEqual([]);
  }, 60_000);

  it('exits 3 with an explanation when a target placement is unreachable', async () => {
    // Two full hosts that should swap their only VMs: a deadlock with no room anywhere.
    const cluster = file(
      'swap.json',
      JSON.stringify({
        format: 'squeeze-scenario/v1',
        policy: { cpu_overcommit: 1, mem_overcommit: 1, disk_overcommit: 1 },
        hosts: [
          { id: 'a', cpu_cores: 4, mem_mib: 4096, disk_gib: 100 },
          { id: 'b', cpu_cores: 4, mem_mib: 4096, disk_gib: 100 },
        ],
        vms: [
          { id: 'x', vcpus: 1, mem_mib: 3072, disk_gib: 10, host: 'a' },
          { id: 'y', vcpus: 1, mem_mib: 3072, disk_gib: 10, host: 'b' },
        ],
      }),
    );
    const target = file(
      'target.json',
      JSON.stringify({ format: 'virt-squeeze-placement/v1', placement: { x: 'b', y: 'a' }, power_off: [] }),
    );
    const r = await cli('plan', '--cluster', cluster, '--target-placement', target);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/unreachable/);
  });
});

describe('the CLI as a process', () => {
  it('answers --version and maps errors to exit codes', async () => {
    const version = await runCli(['--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
    const bad = await runCli(['plan', '--cluster', '/nonexistent.json']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/^virt-squeeze: .*nonexistent\.json/);
  });

  it.each(['bitbrains-h100', 'planetlab-h100', 'azure-h100', 'roadef-b01'])(
    'plans %s as JSON, and the plan passes checkPlan',
    async (name) => {
      const scenario = path.join(shared, 'bench-data/scenarios', `${name}.json.gz`);
      const { code, stdout } = await runCli(['plan', '--cluster', scenario, '--format', 'json']);
      expect(code).toBe(0);
      expect(JSON.parse(stdout).format).toBe('virt-squeeze-plan/v1');
      const ctx = await loadContext({ clusterPath: scenario });
      const { plan } = await planRun(ctx, { format: 'json' });
      expect(checkPlan(ctx.cluster, plan, ctx.policy)).toEqual([]);
    },
    120_000,
  );
});
