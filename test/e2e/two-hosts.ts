/**
 * Two real libvirtd "hosts" on one machine, for the e2e suite and the benchmark (root only).
 *
 * Each host is a libvirtd in its own network namespace (veth pair 10.77.0.1 <-> 10.77.0.2) and private
 * mount namespace (its own /etc/libvirt, /run/libvirt, /var/lib/libvirt, /var/log/libvirt,
 * /var/cache/libvirt under a temp dir), with a distinct host UUID (mandatory for migration). The test
 * controls each daemon through its UNIX socket; the daemons talk to each other over TCP on the veth.
 * Guests are small diskless TCG domains. Everything is torn down by PID (QEMUs from their pid files,
 * then the daemons), then the namespaces are deleted. Recipe: ../shared/recipes/libvirt.md section 7.
 */
import { execFile, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { KoffiConnection } from '../../src/libvirt/connection.js';

const run = promisify(execFile);

export interface TestHost {
  readonly id: string;
  /** Control URI from the root namespace (the daemon's UNIX socket). */
  readonly uri: string;
  /** URI the other daemon uses to reach this one (p2p migration destination). */
  readonly peerUri: string;
  readonly address: string;
  readonly netns: string;
  readonly dir: string;
  /** PID of libvirtd. */
  pid: number;
}

export interface TwoHosts {
  readonly base: string;
  readonly a: TestHost;
  readonly b: TestHost;
  /** A multiboot payload that rewrites one byte of every page of 2..26 MiB forever (a dirty guest). */
  readonly dirtierKernel: string;
}

/** Per environment: removes its last-resort cleanup handlers (after a normal teardown). */
const exitHooks = new Map<TwoHosts, () => void>();

const CAPS_CACHE = '/var/tmp/virt-squeeze-e2e/qemu-capabilities';

/** Domain XML of a small diskless TCG guest; with `kernel`, it boots that multiboot payload instead of idling in SeaBIOS. */
export function guestXml(name: string, opts: { memMiB?: number; kernel?: string } = {}): string {
  const kernel = opts.kernel === undefined ? '' : `<kernel>${opts.kernel}</kernel>`;
  return `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${opts.memMiB ?? 64}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>${kernel}</os>
  <cpu mode='custom' match='exact' check='none'><model fallback='allow'>qemu64</model></cpu>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff><on_reboot>restart</on_reboot><on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <video><model type='none'/></video>
    <memballoon model='virtio'><stats period='2'/></memballoon>
  </devices>
</domain>`;
}

const DIRTIER_ASM = `
  .section .text
  .globl _start
  .align 4
multiboot_header:
  .long 0x1BADB002
  .long 0
  .long -0x1BADB002
_start:
  cli
outer:
  mov $0x200000, %eax
inner:
  incb (%eax)
  add $4096, %eax
  cmp $0x1A00000, %eax
  jb inner
  jmp outer
`;

function buildDirtier(dir: string): string {
  const src = path.join(dir, 'dirtier.s');
  const obj = path.join(dir, 'dirtier.o');
  const elf = path.join(dir, 'dirtier.elf');
  fs.writeFileSync(src, DIRTIER_ASM);
  execFileSync('as', ['--32', '-o', obj, src]);
  execFileSync('ld', ['-m', 'elf_i386', '-Ttext', '0x100000', '-e', '_start', '-o', elf, obj]);
  return elf;
}

function libvirtdConf(h: { address: string; index: number }): string {
  return [
    'listen_tls = 0',
    'listen_tcp = 1',
    `listen_addr = "${h.address}"`,
    'auth_tcp = "none"',
    'auth_unix_rw = "none"',
    'auth_unix_ro = "none"',
    `host_uuid = "00000000-0000-4000-8000-00000000000${h.index}"`,
    'log_outputs = "3:file:/var/log/libvirt/libvirtd.log"',
    '',
  ].join('\n');
}

function qemuConf(address: string): string {
  // Cgroups off: both daemons share one cgroup tree and would create the same paths during a migration.
  return [
    'user = "root"',
    'group = "root"',
    'dynamic_ownership = 0',
    'remember_owner = 0',
    'security_driver = "none"',
    'cgroup_controllers = [ ]',
    'namespaces = [ ]',
    'stdio_handler = "file"',
    `migration_address = "${address}"`,
    `migration_host = "${address}"`,
    '',
  ].join('\n');
}

const MOUNTS = [
  ['etc', '/etc/libvirt'],
  ['run', '/run/libvirt'],
  ['lib', '/var/lib/libvirt'],
  ['log', '/var/log/libvirt'],
  ['cache', '/var/cache/libvirt'],
] as const;

function prepareHostDir(dir: string, address: string, index: number): void {
  for (const [sub] of MOUNTS) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  fs.writeFileSync(path.join(dir, 'etc/libvirtd.conf'), libvirtdConf({ address, index }));
  fs.writeFileSync(path.join(dir, 'etc/qemu.conf'), qemuConf(address));
  if (fs.existsSync(CAPS_CACHE)) {
    fs.cpSync(CAPS_CACHE, path.join(dir, 'cache/qemu/capabilities'), { recursive: true });
  }
}

function startDaemon(dir: string, netns: string): number {
  const binds = MOUNTS.map(
    ([sub, target]) => `mkdir -p ${target} && mount --bind ${path.join(dir, sub)} ${target}`,
  ).join(' && ');
  const script = `${binds} && exec libvirtd --listen -f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid`;
  const log = fs.openSync(path.join(dir, 'daemon.out'), 'a');
  // ip netns exec, unshare (no --fork) and exec keep the PID: child.pid is libvirtd's own.
  const child = spawn(
    'ip',
    ['netns', 'exec', netns, 'unshare', '--mount', '--propagation', 'private', 'sh', '-c', script],
    {
      detached: true,
      stdio: ['ignore', log, log],
    },
  );
  fs.closeSync(log);
  child.unref();
  if (child.pid === undefined) throw new Error(`cannot start libvirtd in ${netns}`);
  return child.pid;
}

/** Polls until the daemon answers on its socket (the first start probes QEMU for ~8 s). */
async function waitReady(h: TestHost, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    if (!isAlive(h.pid))
      throw new Error(`libvirtd of ${h.id} exited: ${tail(path.join(h.dir, 'daemon.out'))}`);
    try {
      const c = await KoffiConnection.open(h.uri, { openTimeoutMs: 10_000 });
      await c.nodeInfo();
      await c.close();
      return;
    } catch (e) {
      last = e;
      await sleep(200);
    }
  }
  throw new Error(`libvirtd of ${h.id} not ready after ${timeoutMs} ms: ${String(last)}`);
}

function tail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').slice(-2000);
  } catch {
    return '';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** True while the process exists and is not a zombie (kill -0 succeeds on zombies). */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/** SIGTERM, wait (zombie-aware), SIGKILL after `graceMs`; only if its command line still matches (no reused PID). */
export async function stopPid(pid: number, expect: string, graceMs = 5000): Promise<void> {
  if (!isAlive(pid) || !cmdline(pid).includes(expect)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  while (isAlive(pid)) await sleep(50);
}

function qemuPids(h: TestHost): number[] {
  const dir = path.join(h.dir, 'run/qemu');
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.pid'))
    .map((f) => Number(fs.readFileSync(path.join(dir, f), 'utf8').trim()))
    .filter((pid) => Number.isInteger(pid) && pid > 1);
}

function ensureQemuUser(): void {
  // A privileged libvirtd aborts at start without this user, even with user = "root" in qemu.conf.
  try {
    execFileSync('id', ['libvirt-qemu'], { stdio: 'ignore' });
  } catch {
    execFileSync('useradd', ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', 'libvirt-qemu']);
  }
}

async function setUpNetwork(prefix: string, a: TestHost, b: TestHost): Promise<void> {
  await run('ip', ['netns', 'add', a.netns]);
  await run('ip', ['netns', 'add', b.netns]);
  await run('ip', [
    'link',
    'add',
    `${prefix}a0`,
    'netns',
    a.netns,
    'type',
    'veth',
    'peer',
    'name',
    `${prefix}b0`,
    'netns',
    b.netns,
  ]);
  for (const [h, dev] of [
    [a, `${prefix}a0`],
    [b, `${prefix}b0`],
  ] as const) {
    await run('ip', ['-n', h.netns, 'addr', 'add', `${h.address}/24`, 'dev', dev]);
    await run('ip', ['-n', h.netns, 'link', 'set', dev, 'up']);
    await run('ip', ['-n', h.netns, 'link', 'set', 'lo', 'up']);
  }
}

/**
 * Brings both hosts up. On failure everything started so far is torn down before the error is thrown.
 * Namespace names carry this process's PID, so leftovers of a killed run never collide.
 */
export async function upTwoHosts(): Promise<TwoHosts> {
  ensureQemuUser();
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'vsq-'));
  const prefix = `vsq${process.pid % 100000}`;
  const mk = (id: 'a' | 'b', index: number): TestHost => {
    const dir = path.join(base, id);
    const address = `10.77.0.${index}`;
    return {
      id,
      dir,
      address,
      netns: `${prefix}${id}`,
      uri: `qemu+unix:///system?socket=${dir}/run/libvirt-sock`,
      peerUri: `qemu+tcp://${address}/system`,
      pid: 0,
    };
  };
  const env: TwoHosts = { base, a: mk('a', 1), b: mk('b', 2), dirtierKernel: buildDirtier(base) };
  try {
    await setUpNetwork(prefix, env.a, env.b);
    for (const [h, index] of [
      [env.a, 1],
      [env.b, 2],
    ] as const) {
      prepareHostDir(h.dir, h.address, index);
      h.pid = startDaemon(h.dir, h.netns);
    }
    await Promise.all([waitReady(env.a, 90_000), waitReady(env.b, 90_000)]);
    saveCapsCache(env.a);
    const onExit = (): void => killTwoHostsSync(env);
    // Also when the test process is interrupted or terminated (no 'exit' event then): clean up, then exit.
    const onSignal = (signal: NodeJS.Signals): void => {
      killTwoHostsSync(env);
      process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.once('exit', onExit);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    exitHooks.set(env, () => {
      process.removeListener('exit', onExit);
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
    });
    return env;
  } catch (e) {
    await downTwoHosts(env);
    throw e;
  }
}

/** Keeps QEMU's probed capabilities for the next run: the first daemon start spends ~8 s probing. */
function saveCapsCache(h: TestHost): void {
  const src = path.join(h.dir, 'cache/qemu/capabilities');
  if (!fs.existsSync(src) || fs.existsSync(CAPS_CACHE)) return;
  fs.mkdirSync(path.dirname(CAPS_CACHE), { recursive: true });
  fs.cpSync(src, CAPS_CACHE, { recursive: true });
}

/** Tears everything down by PID (QEMUs, then daemons), deletes the namespaces and the temp dir. Idempotent. */
export async function downTwoHosts(env: TwoHosts): Promise<void> {
  exitHooks.get(env)?.();
  exitHooks.delete(env);
  for (const h of [env.a, env.b]) {
    for (const pid of qemuPids(h)) await stopPid(pid, 'qemu-system');
  }
  await Promise.all([env.a, env.b].map((h) => (h.pid > 0 ? stopPid(h.pid, 'libvirtd') : Promise.resolve())));
  for (const h of [env.a, env.b]) {
    await run('ip', ['netns', 'del', h.netns]).catch(() => undefined);
  }
  fs.rmSync(env.base, { recursive: true, force: true });
}

/**
 * Last-resort teardown when the process exits without afterAll (a crash, an interrupted run): SIGKILL
 * the QEMUs and daemons by PID (if their command line still matches) and delete the namespaces.
 */
export function killTwoHostsSync(env: TwoHosts): void {
  for (const h of [env.a, env.b]) {
    for (const pid of qemuPids(h)) if (cmdline(pid).includes('qemu-system')) process.kill(pid, 'SIGKILL');
    if (h.pid > 0 && cmdline(h.pid).includes('libvirtd')) process.kill(h.pid, 'SIGKILL');
  }
  for (const h of [env.a, env.b]) {
    try {
      execFileSync('ip', ['netns', 'del', h.netns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  fs.rmSync(env.base, { recursive: true, force: true });
}

/** Both hosts as the migrator sees them: control URI, and the URI the other daemon uses (p2p). */
export function migrationHosts(env: TwoHosts): Array<{ id: string; uri: string; peerUri: string }> {
  return [env.a, env.b].map((h) => ({ id: h.id, uri: h.uri, peerUri: h.peerUri }));
}

/** Runs `fn` while a 10 ms timer ticks: the largest extra delay of a tick (event-loop lag), ms, and the tick count. */
export async function withTimerLag<T>(
  fn: () => Promise<T>,
): Promise<{ result: T; lagMs: number; ticks: number }> {
  let last = performance.now();
  let lagMs = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    lagMs = Math.max(lagMs, now - last - 10);
    last = now;
    ticks++;
  }, 10);
  try {
    return { result: await fn(), lagMs, ticks };
  } finally {
    clearInterval(timer);
  }
}
