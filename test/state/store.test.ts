import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LockHeldError } from '../../src/errors.js';
import { MIGRATIONS } from '../../src/state/migrations.js';
import { openStateStore, type SqliteStateStore } from '../../src/state/index.js';

const here = resolve(import.meta.dirname);
let dir: string;
let path: string;
const children: ChildProcess[] = [];
const stores: SqliteStateStore[] = [];

function open(): SqliteStateStore {
  const s = openStateStore(path);
  stores.push(s);
  return s;
}

/** Starts a child that takes the lock and resolves once it holds it. */
async function lockInChild(runId: string): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'fixtures/lock-holder.ts'), path, runId],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((ok, fail) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && ok());
    child.on('exit', (code) => fail(new Error(`lock holder exited ${code}: ${err}`)));
  });
  return child;
}

async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await gone;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vs-state-'));
  path = join(dir, 'sub', 'state.db');
});
afterEach(async () => {
  for (const s of stores.splice(0)) s.close();
  for (const c of children.splice(0)) await kill9(c);
  rmSync(dir, { recursive: true, force: true });
});

describe('SQLite state store', () => {
  it('creates its directory and files private (0600) and migrates to the latest schema', () => {
    const s = open();
    s.addTag({ host: 'a', tag: 'standby', by: 'test', atMs: 1, why: 'x' });
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'sub')).mode & 0o077).toBe(0);
    expect(existsSync(`${path}-wal`)).toBe(true);
    expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    expect(s.schemaVersion()).toBe(MIGRATIONS.length);
  });

  it('keeps the last read capacity of each host across reopen, also in a store made by schema 1', () => {
    path = join(dir, 'v1.db');
    const old = new Database(path);
    old.exec(MIGRATIONS[0]!);
    old.pragma('user_version = 1');
    old.close();
    const a = open();
    a.saveHostCapacities(new Map([['h1', { cpu: 8, memMiB: 1024, diskGiB: 0 }]]), 10);
    a.saveHostCapacities(new Map([['h1', { cpu: 16, memMiB: 2048, diskGiB: 5 }]]), 20);
    a.saveHostCapacities(new Map([['h2', { cpu: 4, memMiB: 512, diskGiB: 0 }]]), 30);
    const b = open();
    expect(b.schemaVersion()).toBe(MIGRATIONS.length);
    expect(b.hostCapacities()).toEqual(
      new Map([
        ['h1', { cpu: 16, memMiB: 2048, diskGiB: 5 }],
        ['h2', { cpu: 4, memMiB: 512, diskGiB: 0 }],
      ]),
    );
  });

  it('keeps tags, journal, power history and usage samples across reopen', () => {
    const a = open();
    a.addTag({ host: 'h1', tag: 'standby', by: 'run r1', atMs: 10, why: 'squeezed' });
    a.addTag({ host: 'h1', tag: 'standby', by: 'alice', atMs: 20, why: 'maintenance' });
    a.addTag({ host: 'h2', tag: 'wake-failed', by: 'run r1', atMs: 30, why: 'BMC never said on' });
    a.journal({ runId: 'r1', atMs: 1, action: 'power-off', target: 'h1', phase: 'intent' });
    a.journal({ runId: 'r1', atMs: 2, action: 'power-off', target: 'h1', phase: 'done', detail: 'ssh' });
    a.journal({ runId: 'r1', atMs: 3, action: 'wake', target: 'h2', phase: 'intent' });
    a.recordPower({ host: 'h1', atMs: 5, kind: 'off', detail: 'ssh', watts: 88 });
    a.recordPower({ host: 'h1', atMs: 9, kind: 'on', detail: 'ipmi' });
    a.saveUsageSamples([{ host: 'h1', vm: 'v1', atMs: 100, cpuTimeNs: 5e9 }]);
    a.saveUsageSamples([{ host: 'h1', vm: 'v1', atMs: 50, cpuTimeNs: 1e9 }]); // older: ignored
    a.close();

    const b = open();
    expect(b.tags('h1')).toEqual([{ host: 'h1', tag: 'standby', by: 'alice', atMs: 20, why: 'maintenance' }]);
    expect(b.tags().map((t) => `${t.host}:${t.tag}`)).toEqual(['h1:standby', 'h2:wake-failed']);
    expect(b.journalEntries('r1').map((e) => e.phase)).toEqual(['intent', 'done', 'intent']);
    expect(b.unfinishedActions()).toEqual([
      { runId: 'r1', atMs: 3, action: 'wake', target: 'h2', phase: 'intent' },
    ]);
    expect(b.powerHistory('h1').map((e) => e.kind)).toEqual(['on', 'off']);
    expect(b.powerHistory('h1')[1]!.watts).toBe(88);
    expect(b.usageSamples('h1')).toEqual([{ host: 'h1', vm: 'v1', atMs: 100, cpuTimeNs: 5e9 }]);
    expect(b.removeTag('h2', 'wake-failed')).toBe(true);
    expect(b.removeTag('h2', 'wake-failed')).toBe(false);
    expect(b.schemaVersion()).toBe(MIGRATIONS.length);
  });

  it('keeps what a process committed before it was killed with SIGKILL', async () => {
    const child = await lockInChild('run-killed');
    await kill9(child);
    expect(open().tags('h-child')).toHaveLength(1);
  });

  it('refuses a second run while another process holds the lock, and takes over a dead holder', async () => {
    const child = await lockInChild('run-a');
    const s = open();
    expect(() => s.acquireLock('run-b')).toThrow(LockHeldError);
    expect(() => s.acquireLock('run-b')).toThrow(/run run-a, pid \d+/);
    expect(s.lockHolder()?.runId).toBe('run-a');
    await kill9(child);
    const lock = s.acquireLock('run-b');
    expect(s.lockHolder()?.runId).toBe('run-b');
    lock.release();
    expect(s.lockHolder()).toBeUndefined();
  });

  it('refuses a second lock in the same process until the first is released', () => {
    const s = open();
    const first = s.acquireLock('r1');
    expect(() => open().acquireLock('r2')).toThrow(LockHeldError);
    first.release();
    open().acquireLock('r2').release();
  });
});
