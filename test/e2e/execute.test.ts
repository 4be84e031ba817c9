/**
 * End-to-end of execute mode: `virt-squeeze run` (the built CLI, as a child process) acting on two real
 * libvirtd hosts (two-hosts.ts: network namespaces, small diskless TCG guests), with a real state store.
 *
 * Power goes through the `command` driver: a site script (power-script.sh) that records every call and
 * keeps each host's power state in a file, which `status` answers from. Its `off` does NOT cut anything:
 * the host's libvirtd keeps running, the script only hides the host's control socket (renames it), so
 * libvirt cannot reach the host, as after a real power-off; `on` puts the socket back. This proves the
 * orchestration (plan, migrate, fresh look, power-off, tags, journal, wake and its verification,
 * quarantine, crash recovery), not a real power cut.
 *
 * Scenario, in order (each step starts from the state the previous one left):
 *  1. squeeze: one guest per host, both nearly empty: one guest migrates, its host is powered off and
 *     tagged standby, migration and power-off are journaled intent-then-done;
 *  2. a second run does nothing (the standby host is seen as standby);
 *  3. expand (thresholds raised): the standby host is woken through the script, verified, untagged;
 *  4. squeeze again, then a wake that never comes up: quarantined (wake-failed), exit 3, never picked again;
 *  5. a run SIGKILLed in the middle of a power-off is finished by the next run: killed before the host
 *     went off, the intent is closed as failed and the host stays untagged; killed after, the host is
 *     found off and tagged standby (no half-tagged host, no forgotten powered-off host).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KoffiConnection } from '../../src/libvirt/connection.js';
import { openStateStore } from '../../src/state/index.js';
import type { HostTag, JournalEntry } from '../../src/state/types.js';
import { cliCommand, repoRoot, runCli, type CliResult } from '../cli-process.js';
import {
  downTwoHosts,
  guestXml,
  isAlive,
  sleep,
  stopPid,
  upTwoHosts,
  type TestHost,
  type TwoHosts,
} from './two-hosts.js';

const suiteStart = Date.now();
let env: TwoHosts | undefined;
let work = '';
let emptied: TestHost | undefined;
/** The run step 5 kills (SIGKILL by PID). */
let killedRun: ChildProcess | undefined;

/** Guest names of this suite (distinct from libvirt.test.ts's, though each suite has its own daemons). */
const GUEST = { a: 'sq-a', b: 'sq-b' } as const;

interface Thresholds {
  readonly minimal: number;
  readonly target: number;
}
/*
 * The standard instance has as many vCPUs as a host has CPUs, so with CPU overcommit 4 an empty host
 * takes 4 standard instances and a host holding one or two of the 1-vCPU guests 3, on any machine.
 */
/** Both hosts hold one guest (3 free each): above target, squeeze to one host (3 free, not below target). */
const SQUEEZE: Thresholds = { minimal: 1, target: 2 };
/** One host on with 3 free, below minimal: wake the standby host. */
const EXPAND: Thresholds = { minimal: 5, target: 6 };
/** vCPUs of the standard instance: the hosts' CPU count (read from libvirt). */
let standardVcpus = 0;

function hosts(): TwoHosts {
  if (env === undefined) throw new Error('two-host environment not up');
  return env;
}

const configPath = (): string => path.join(work, 'config.yaml');
const statePath = (): string => path.join(work, 'state.db');
const callsPath = (): string => path.join(work, 'power-calls.log');
const powerFile = (id: string, what: 'power' | 'mode'): string => path.join(work, `${id}.${what}`);

function writeConfig(t: Thresholds): void {
  const { a, b } = hosts();
  const script = path.join(work, 'power-script.sh');
  const host = (h: TestHost) => `
  - id: ${h.id}
    uri: "${h.uri}"
    power:
      command: { path: "${script}", timeout: 60s }`;
  fs.writeFileSync(
    configPath(),
    `mode: execute
standard_instance: { vcpus: ${standardVcpus}, memory: 64MiB, disk: 0 }
thresholds: { mode: average, minimal: ${t.minimal}, target: ${t.target} }
overcommit: { cpu: 4, memory: 1, disk: 1 }
safety: { min_online_hosts: 1, failover_reserve_hosts: 0 }
migration: { bandwidth: 1000MiB/s, max_downtime: 300ms }
power: { stagger: 0s, poll_interval: 200ms, off_timeout: 10s, wake_timeout: 8s }
state: { path: "${statePath()}" }
report: { metrics_file: "${path.join(work, 'metrics.prom')}" }
hosts:${host(a)}${host(b)}
`,
  );
}

/** The power script: records `VERB HOST` per call; state and mode files per host (see power-script.sh). */
function installPowerScript(): void {
  const { a, b } = hosts();
  const script = path.join(work, 'power-script.sh');
  fs.copyFileSync(path.join(import.meta.dirname, 'power-script.sh'), script);
  fs.chmodSync(script, 0o755);
  for (const h of [a, b]) {
    fs.writeFileSync(powerFile(h.id, 'power'), 'on\n');
    fs.writeFileSync(powerFile(h.id, 'mode'), 'normal\n');
    fs.writeFileSync(path.join(work, `${h.id}.socket`), path.join(h.dir, 'run/libvirt-sock') + '\n');
  }
  fs.writeFileSync(callsPath(), '');
}

/** The script's calls so far, `VERB HOST` each. */
function powerCalls(): string[] {
  return fs.readFileSync(callsPath(), 'utf8').split('\n').filter(Boolean);
}

/** The script's calls other than `status`. */
function powerActions(): string[] {
  return powerCalls().filter((c) => !c.startsWith('status '));
}

function storeView(): { tags: HostTag[]; journal: JournalEntry[] } {
  const store = openStateStore(statePath(), { readonly: true });
  try {
    return { tags: store.tags(), journal: store.journalEntries() };
  } finally {
    store.close();
  }
}

function tagsOf(host: string): string[] {
  return storeView()
    .tags.filter((t) => t.host === host)
    .map((t) => t.tag)
    .sort();
}

/** Where each of our guests runs now (host ids of running domains), from both daemons. */
async function guestPlaces(): Promise<Record<string, string[]>> {
  const places: Record<string, string[]> = {};
  for (const h of [hosts().a, hosts().b]) {
    const sock = path.join(h.dir, 'run/libvirt-sock');
    if (!fs.existsSync(sock)) continue; // "powered off": the script hid the socket
    const c = await KoffiConnection.open(h.uri);
    try {
      for (const d of await c.listDomains()) if (d.state === 'running') (places[d.name] ??= []).push(h.id);
    } finally {
      await c.close();
    }
  }
  return places;
}

async function run(label: string): Promise<CliResult> {
  const started = Date.now();
  const r = await runCli(['run', '--config', configPath(), '--report'], { timeoutMs: 150_000 });
  console.log(`execute e2e: ${label}: exit ${r.code} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  if (process.env.VSQ_E2E_VERBOSE) console.log(r.stdout, r.stderr);
  return r;
}

/** Fails with the run's output in the message, so a failure in CI says why. */
function expectExit(r: CliResult, code: number): void {
  expect(r.code, `exit code; stdout:\n${r.stdout}\nstderr:\n${r.stderr.slice(-6000)}`).toBe(code);
}

/** A host's state in the report's host table (`--report`). */
function hostState(r: CliResult, id: string): string | undefined {
  return new RegExp(`^\\s*${id}\\s+(on|standby|off|unknown)\\s`, 'm').exec(r.stdout)?.[1];
}

/** Journal entries of one target as `action phase`, in journal order. */
function journalOf(entries: readonly JournalEntry[], target: string): string[] {
  return entries.filter((e) => e.target === target).map((e) => `${e.action} ${e.phase}`);
}

/** A host's power state as its script keeps it. */
function powerState(h: TestHost): string {
  return fs.readFileSync(powerFile(h.id, 'power'), 'utf8').trim();
}

/**
 * Starts `virt-squeeze run` with every host's script in `mode` (a power-off that hangs), SIGKILLs the
 * run by PID while its power-off hangs, stops the hung script by PID, and returns the host concerned.
 */
async function killRunInPowerOff(mode: 'hang-before-off' | 'slow-off'): Promise<TestHost> {
  for (const h of [hosts().a, hosts().b]) fs.writeFileSync(powerFile(h.id, 'mode'), `${mode}\n`);
  const [cmd, ...pre] = await cliCommand();
  const child = spawn(cmd!, [...pre, 'run', '--config', configPath()], { cwd: repoRoot, stdio: 'ignore' });
  killedRun = child;
  const exited = new Promise((resolve) => child.on('exit', resolve));
  const hungFile = path.join(work, 'hung.pid');
  const deadline = Date.now() + 120_000;
  while (!fs.existsSync(hungFile)) {
    expect(isAlive(child.pid!), 'run ended before its power-off hung').toBe(true);
    expect(Date.now(), 'power-off did not start within 120 s').toBeLessThan(deadline);
    await sleep(100);
  }
  const [pid, host] = fs.readFileSync(hungFile, 'utf8').trim().split(' ');
  process.kill(child.pid!, 'SIGKILL');
  await exited;
  await stopPid(Number(pid), 'sleep');
  fs.rmSync(hungFile);
  for (const h of [hosts().a, hosts().b]) fs.writeFileSync(powerFile(h.id, 'mode'), 'normal\n');
  console.log(`execute e2e: run killed in a power-off of ${host} (${mode})`);
  return host === 'a' ? hosts().a : hosts().b;
}

/** The host that is on and the one tagged standby (exactly one each). */
function onAndStandby(): { on: TestHost; standby: TestHost } {
  const { a, b } = hosts();
  const standby = [a, b].filter((h) => tagsOf(h.id).includes('standby'));
  expect(standby.map((h) => h.id)).toHaveLength(1);
  return standby[0] === a ? { on: b, standby: a } : { on: a, standby: b };
}

describe('execute e2e: virt-squeeze run acting on two libvirtd hosts', () => {
  beforeAll(async () => {
    // The runs are child processes: an unexpected error then prints its stack (main.ts).
    process.env.VIRT_SQUEEZE_DEBUG = '1';
    env = await upTwoHosts();
    work = fs.mkdtempSync(path.join(env.base, 'execute-'));
    installPowerScript();
    for (const h of [env.a, env.b]) {
      const c = await KoffiConnection.open(h.uri);
      try {
        const name = GUEST[h.id as 'a' | 'b'];
        await c.defineXml(guestXml(name));
        await c.start(name);
        standardVcpus = (await c.nodeInfo()).cpus;
      } finally {
        await c.close();
      }
    }
    writeConfig(SQUEEZE);
  }, 180_000);

  afterAll(async () => {
    // After a failure in step 5: the killed run's CLI and its hung power script, by PID.
    if (killedRun?.pid !== undefined) await stopPid(killedRun.pid, 'main');
    const hungFile = path.join(work, 'hung.pid');
    if (work !== '' && fs.existsSync(hungFile))
      await stopPid(Number(fs.readFileSync(hungFile, 'utf8').split(' ')[0]), 'sleep');
    if (env !== undefined) await downTwoHosts(env);
    console.log(`execute e2e suite: ${((Date.now() - suiteStart) / 1000).toFixed(1)} s`);
  }, 60_000);

  it('1. a squeeze migrates the guest away, powers its host off through the script, tags and journals it', async () => {
    expect(await guestPlaces()).toEqual({ [GUEST.a]: ['a'], [GUEST.b]: ['b'] });
    const r = await run('squeeze');
    expectExit(r, 0);
    expect(r.stdout).toMatch(/squeeze/i);

    const { on, standby } = onAndStandby();
    emptied = standby;
    expect(powerActions()).toEqual([`off ${standby.id}`]);
    expect(fs.readFileSync(powerFile(standby.id, 'power'), 'utf8').trim()).toBe('off');
    expect(tagsOf(on.id)).toEqual([]);
    // Both guests now run on the host that stayed on (the emptied host is unreachable, as if off).
    const moved = GUEST[standby.id as 'a' | 'b'];
    expect(await guestPlaces()).toEqual({ [GUEST.a]: [on.id], [GUEST.b]: [on.id] });

    const { journal } = storeView();
    expect(journalOf(journal, moved)).toEqual(['migrate intent', 'migrate done']);
    expect(journalOf(journal, standby.id)).toEqual(['power-off intent', 'power-off done']);
    const seq = (target: string, phase: string) =>
      journal.findIndex((e) => e.target === target && e.phase === phase);
    expect(seq(moved, 'done')).toBeLessThan(seq(standby.id, 'intent'));
    expect(new Set(journal.map((e) => e.runId)).size).toBe(1);
    expect(fs.readFileSync(path.join(work, 'metrics.prom'), 'utf8')).toMatch(/virt_squeeze/);
  }, 180_000);

  it('2. a second run right after does nothing more: the standby host is seen as standby', async () => {
    const before = storeView().journal.length;
    const r = await run('steady');
    expectExit(r, 0);
    expect(powerActions()).toEqual([`off ${emptied!.id}`]);
    expect(storeView().journal.length).toBe(before);
    expect(hostState(r, emptied!.id)).toBe('standby');
    expect(tagsOf(emptied!.id)).toEqual(['standby']);
  }, 180_000);

  it('3. an expand wakes the standby host through the script, verifies it and removes the tag', async () => {
    writeConfig(EXPAND);
    const r = await run('expand');
    expectExit(r, 0);
    const id = emptied!.id;
    expect(powerActions()).toEqual([`off ${id}`, `on ${id}`]);
    expect(fs.readFileSync(powerFile(id, 'power'), 'utf8').trim()).toBe('on');
    expect(tagsOf(id)).toEqual([]);
    const wake = storeView().journal.filter((e) => e.target === id && e.action === 'wake');
    expect(wake.map((e) => e.phase)).toEqual(['intent', 'done']);
    // Whatever the planner rebalanced, every migration it journaled succeeded and both guests still run once.
    const migrations = storeView().journal.filter(
      (e) => e.action === 'migrate' && e.runId === wake[0]!.runId,
    );
    expect(migrations.filter((e) => e.phase === 'failed')).toEqual([]);
    const places = await guestPlaces();
    expect(places[GUEST.a]).toHaveLength(1);
    expect(places[GUEST.b]).toHaveLength(1);
  }, 180_000);

  it('4. a wake that never comes up quarantines the host (exit 3), and a later run does not pick it again', async () => {
    writeConfig(SQUEEZE);
    expectExit(await run('squeeze again'), 0);
    const { standby } = onAndStandby();
    fs.writeFileSync(powerFile(standby.id, 'mode'), 'dead\n');
    writeConfig(EXPAND);

    const r = await run('expand, wake never comes up');
    expectExit(r, 3);
    expect(powerActions().at(-1)).toBe(`on ${standby.id}`);
    expect(tagsOf(standby.id)).toEqual(['standby', 'wake-failed']);
    const wake = storeView().journal.filter((e) => e.target === standby.id && e.action === 'wake');
    expect(wake.map((e) => e.phase)).toEqual(['intent', 'done', 'intent', 'failed']);
    expect(wake.at(-1)!.detail).toMatch(/^bmc: not reported on within 8000 ms/);
    // The re-plan after the quarantine has nothing left to wake, yet the run reports the failed wake.
    expect(r.stderr).toMatch(new RegExp(`power_on ${standby.id} failed`));

    const actions = powerActions().length;
    const later = await run('expand, host quarantined');
    expect(powerActions()).toHaveLength(actions);
    expect(tagsOf(standby.id)).toEqual(['standby', 'wake-failed']);
    expectExit(later, 0);
    expect(later.stdout).toMatch(/standby: quarantined after a failed wake/);
  }, 240_000);

  it('5. a run killed in the middle of a power-off is finished by the next run (no half-tagged host)', async () => {
    const { a, b } = hosts();
    // Back to two hosts on: the admin clears the quarantine and the "repaired" host powers on normally.
    const quarantined = [a, b].find((h) => tagsOf(h.id).includes('wake-failed'))!;
    fs.writeFileSync(powerFile(quarantined.id, 'mode'), 'normal\n');
    expectExit(await runCli(['host', 'untag', quarantined.id, 'wake-failed', '--config', configPath()]), 0);
    expectExit(await run('expand after repair'), 0);
    expect(tagsOf(quarantined.id)).toEqual([]);
    writeConfig(SQUEEZE);

    // Killed before the script changed anything: the host is still on and must not be tagged.
    const stillOn = await killRunInPowerOff('hang-before-off');
    expect(powerState(stillOn)).toBe('on');
    expect(tagsOf(stillOn.id)).toEqual([]);
    expect(journalOf(storeView().journal, stillOn.id).at(-1)).toBe('power-off intent');

    // The next run closes that intent as failed (host on: no tag), squeezes again, and is killed right
    // after its script turned the host off: off but not tagged yet.
    const offHost = await killRunInPowerOff('slow-off');
    expect(offHost).toBe(stillOn);
    expect(powerState(offHost)).toBe('off');
    expect(tagsOf(offHost.id)).toEqual([]);
    const entries = storeView().journal.filter((e) => e.target === offHost.id);
    expect(entries.slice(-3).map((e) => `${e.action} ${e.phase}`)).toEqual([
      'power-off intent',
      'power-off failed',
      'power-off intent',
    ]);
    expect(entries.at(-2)!.detail).toMatch(/recovered by run .*: interrupted; host is on: not tagged/);

    // The run after that finds the host off and tags it standby: no forgotten powered-off host.
    const r = await run('after the kill');
    expectExit(r, 0);
    expect(tagsOf(offHost.id)).toEqual(['standby']);
    const last = storeView()
      .journal.filter((e) => e.target === offHost.id)
      .at(-1)!;
    expect(last).toMatchObject({ action: 'power-off', phase: 'done' });
    expect(last.detail).toMatch(/recovered by run .*: host is off: tagged standby/);
    expect(hostState(r, offHost.id)).toBe('standby');
    expect(
      powerActions()
        .filter((c) => c.startsWith('off '))
        .slice(-2),
    ).toEqual([`off ${offHost.id}`, `off ${offHost.id}`]);
  }, 300_000);
});
