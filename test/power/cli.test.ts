import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { main } from '../../src/main.js';
import { openStateStore } from '../../src/state/index.js';
import { startBmc, type SimBmc } from './fixtures/ipmi-sim.js';

const repoRoot = resolve(import.meta.dirname, '../..');
const demo = join(repoRoot, 'config/demo-cluster.json');
let dir: string;
let statePath: string;
let configPath: string;
let bmc08: SimBmc;
let bmc13: SimBmc;

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const io: Io = { out: (t) => void (out += t), err: (t) => void (err += t) };
  const code = await main(argv, io);
  return { code, out, err };
}

function ipmi(b: SimBmc): string {
  return `{ address: ${b.address}, port: ${b.port}, username: ${b.username}, password_file: ${b.passwordFile}, timeout: 2s, retries: 1 }`;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vs-cli-'));
  statePath = join(dir, 'state', 'state.db');
  [bmc08, bmc13] = await Promise.all([startBmc(), startBmc({ poweredOn: true })]);
  configPath = join(dir, 'config.yaml');
  writeFileSync(
    configPath,
    [
      `cluster_file: ${demo}`,
      `state: { path: ${statePath} }`,
      'power: { stagger: 0, poll_interval: 200ms, off_timeout: 5s, wake_timeout: 5s }',
      'hosts:',
      `  - { id: kvm08, power: { off: [ipmi-soft], ipmi: ${ipmi(bmc08)} } }`,
      `  - { id: kvm13, power: { off: [ipmi-soft], ipmi: ${ipmi(bmc13)} } }`,
      '',
    ].join('\n'),
  );
});
afterAll(async () => {
  await Promise.all([bmc08?.stop(), bmc13?.stop()]);
  rmSync(dir, { recursive: true, force: true });
});

describe('virt-squeeze status', () => {
  it('shows the demo cluster: hosts, states, VMs, free standard instances, savings (creates no state file)', async () => {
    const r = await cli('status', '--config', join(repoRoot, 'config/example.yaml'), '--format', 'json');
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    expect(s.hosts).toHaveLength(14);
    expect(
      s.hosts.filter((h: { state: string }) => h.state === 'standby').map((h: { id: string }) => h.id),
    ).toEqual(['kvm08', 'kvm14']);
    expect(s.hosts.find((h: { id: string }) => h.id === 'kvm08').freeStandard).toBeUndefined();
    expect(s.freeStandardTotal).toBeGreaterThan(0);
    expect(s.metric.mode).toBe('average');
    // 96.6 W (kvm08) + 52.3 W (kvm14) idle: what the two standby hosts save.
    expect(s.standbySavings.watts).toBeCloseTo(148.9);
  });

  it('reads the power state from the BMC where a host has a power section', async () => {
    const r = await cli('status', '--config', configPath);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^kvm08\s+standby\s+off\s+0/m);
    expect(r.out).toMatch(/^kvm13\s+on\s+on\s+5/m);
    expect(r.out).toMatch(/^kvm01\s+on\s+-\s+10/m);
    expect(existsSync(statePath)).toBe(false);
  });
});

describe('virt-squeeze host', () => {
  it('--dry-run prints the plan of action and changes nothing', async () => {
    const before = [bmc08.calls().length, bmc13.calls().length];
    const w = await cli('host', 'wake', 'kvm08', '--dry-run', '--config', configPath);
    expect(w.code).toBe(0);
    expect(w.out).toContain('would wake kvm08 by ipmi');
    expect(w.out).toContain('BMC says on, then libvirt reports capacity');
    const s = await cli('host', 'standby', 'kvm13', '--dry-run', '--config', configPath);
    expect(s.out).toContain('finds 5 domain(s): the power-off would be refused');
    const t = await cli('host', 'exclude', 'kvm01', '--dry-run', '--config', configPath);
    expect(t.out).toBe('dry run: would add tag exclude to kvm01. Nothing changed.\n');
    expect([bmc08.calls().length, bmc13.calls().length]).toEqual(before);
    expect(existsSync(statePath)).toBe(false);
  });

  it('wakes a standby host through its BMC, then puts it back to standby', async () => {
    const w = await cli('host', 'wake', 'kvm08', '--config', configPath);
    expect(w).toEqual(expect.objectContaining({ code: 0 }));
    expect(w.out).toMatch(/^kvm08: woken by ipmi and verified in/);
    expect(bmc08.power()).toBe('1');
    const s = await cli('host', 'standby', 'kvm08', '--why', 'maintenance window', '--config', configPath);
    expect(s.code).toBe(0);
    expect(s.out).toBe('kvm08: powered off by ipmi-soft, confirmed off, tagged standby\n');
    expect(bmc08.power()).toBe('0');
    const store = openStateStore(statePath);
    try {
      expect(store.tags('kvm08')).toEqual([
        expect.objectContaining({ tag: 'standby', why: 'maintenance window' }),
      ]);
      expect(store.tags('kvm08')[0]!.by).toMatch(/^admin /);
      expect(store.powerHistory('kvm08').map((e) => e.kind)).toEqual(['off', 'on']);
      expect(store.unfinishedActions()).toEqual([]);
    } finally {
      store.close();
    }
    const status = await cli('status', '--config', configPath);
    expect(status.out).toMatch(/^kvm08\s+standby\s+off\s+0\s+-\s+standby \(admin .*: maintenance window\)/m);
  });

  it('refuses to power off a host that still holds domains (exit 3), BMC untouched', async () => {
    const before = bmc13.calls().length;
    const r = await cli('host', 'standby', 'kvm13', '--config', configPath);
    expect(r.code).toBe(3);
    expect(r.err).toContain('host kvm13: power-off refused: fresh look: host still holds 5 domain(s)');
    expect(bmc13.calls().slice(before)).toEqual([]);
    expect(bmc13.power()).toBe('1');
  });

  it('a quarantined host is not woken until an admin clears the tag', async () => {
    expect(
      (await cli('host', 'tag', 'kvm08', 'wake-failed', '--why', 'test', '--config', configPath)).code,
    ).toBe(0);
    const refused = await cli('host', 'wake', 'kvm08', '--config', configPath);
    expect(refused.code).toBe(2);
    expect(refused.err).toContain(
      'quarantined (wake-failed): clear it first with `virt-squeeze host untag kvm08 wake-failed`',
    );
    expect(bmc08.power()).toBe('0');
    expect((await cli('host', 'untag', 'kvm08', 'wake-failed', '--config', configPath)).out).toBe(
      'kvm08: tag wake-failed removed\n',
    );
    expect((await cli('host', 'wake', 'kvm08', '--config', configPath)).code).toBe(0);
    expect(bmc08.power()).toBe('1');
  });

  it('exclude and include tag the host in the store', async () => {
    expect(
      (await cli('host', 'exclude', 'kvm02', '--why', 'licence server', '--config', configPath)).code,
    ).toBe(0);
    expect((await cli('status', '--config', configPath)).out).toMatch(
      /^kvm02\s+on\s+-\s+9\s+\d+\s+excluded/m,
    );
    expect((await cli('host', 'include', 'kvm02', '--config', configPath)).out).toBe(
      'kvm02: tag exclude removed\n',
    );
  });

  it('status merges store tags into the snapshot like a run does, and warns about contradictions', async () => {
    await cli('host', 'tag', 'kvm03', 'standby', '--config', configPath);
    const r = await cli('status', '--config', configPath);
    expect(r.out).toContain('warning: host kvm03 is tagged standby but answers: treated as on');
    await cli('host', 'untag', 'kvm03', 'standby', '--config', configPath);
  });

  it('refuses to go below min_online_hosts', async () => {
    const strict = join(dir, 'strict.yaml');
    writeFileSync(
      strict,
      `cluster_file: ${demo}\nstate: { path: ${statePath} }\nsafety: { min_online_hosts: 12 }\n`,
    );
    const r = await cli('host', 'standby', 'kvm01', '--config', strict);
    expect(r.code).toBe(3);
    expect(r.err).toContain(
      'host kvm01: power-off refused: would leave 11 host(s) online, fewer than min_online_hosts 12',
    );
    expect((await cli('host', 'standby', 'kvm01', '--dry-run', '--config', strict)).out).toContain(
      'would refuse',
    );
  });

  it('rejects an unknown host (exit 2)', async () => {
    const r = await cli('host', 'tag', 'kvm99', 'x', '--config', configPath);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/unknown host "kvm99" \(known: kvm01, /);
  });

  it('exits 4 while another run holds the lock', async () => {
    const holder: ChildProcess = spawn(
      process.execPath,
      ['--import', 'tsx', join(repoRoot, 'test/state/fixtures/lock-holder.ts'), statePath, 'run-elsewhere'],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    try {
      await new Promise<void>((ok, fail) => {
        holder.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && ok());
        holder.on('exit', () => fail(new Error('lock holder exited')));
      });
      const r = await cli('host', 'standby', 'kvm08', '--config', configPath);
      expect(r.code).toBe(4);
      expect(r.err).toMatch(/another run holds the lock: run run-elsewhere/);
      expect((await cli('status', '--config', configPath)).out).toContain(
        'run lock: held by run run-elsewhere',
      );
    } finally {
      const gone = new Promise((r) => holder.once('exit', r));
      holder.kill('SIGKILL');
      await gone;
    }
  });
});
