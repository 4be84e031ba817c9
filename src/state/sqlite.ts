import Database from 'better-sqlite3';
import { chmodSync, closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { BackendError, LockHeldError } from '../errors.js';
import type { Resources } from '../model/resources.js';
import { MIGRATIONS } from './migrations.js';
import type {
  HostTag,
  JournalEntry,
  LockHolder,
  PowerEvent,
  PowerEventKind,
  RunLock,
  StateStore,
  UsageSample,
} from './types.js';

export { DEFAULT_STATE_PATH } from './schema.js';

export interface OpenStateOptions {
  /** Clock for lock timestamps, ms since the epoch. */
  readonly nowMs?: () => number;
  /** Open without creating or migrating (for `status` on a machine that never ran). Default false. */
  readonly readonly?: boolean;
}

/**
 * Opens (creating and migrating when needed) the SQLite state file. The file and its journal are
 * mode 0600 (they hold who did what, and the lock): SQLite gives its -wal/-shm files the
 * database's own mode, so creating the database 0600 first covers them.
 */
export function openStateStore(path: string, opts: OpenStateOptions = {}): SqliteStateStore {
  if (!opts.readonly) createPrivateFile(path);
  let db: Database.Database;
  try {
    db = new Database(path, { readonly: opts.readonly ?? false, fileMustExist: opts.readonly ?? false });
  } catch (err) {
    throw new BackendError(`state store ${path}: ${(err as Error).message}`, { cause: err });
  }
  db.pragma('busy_timeout = 10000');
  if (!opts.readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    migrate(db, path);
  }
  return new SqliteStateStore(db, path, opts.nowMs ?? Date.now);
}

function createPrivateFile(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
  } catch (err) {
    throw new BackendError(`state store ${path}: ${(err as Error).message}`, { cause: err });
  }
}

function migrate(db: Database.Database, path: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length)
    throw new BackendError(
      `state store ${path}: schema version ${version} is newer than this virt-squeeze knows (${MIGRATIONS.length})`,
    );
  for (let v = version; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

interface TagRow {
  host: string;
  tag: string;
  by: string;
  at_ms: number;
  why: string;
}
interface JournalRow {
  run_id: string;
  at_ms: number;
  action: string;
  target: string;
  phase: JournalEntry['phase'];
  detail: string | null;
}
interface PowerRow {
  host: string;
  at_ms: number;
  kind: PowerEventKind;
  detail: string;
  watts: number | null;
}
interface LockRow {
  run_id: string;
  pid: number;
  pid_start: string;
  hostname: string;
  since_ms: number;
}

/** The embedded StateStore: one SQLite file. */
export class SqliteStateStore implements StateStore {
  constructor(
    private readonly db: Database.Database,
    readonly path: string,
    private readonly nowMs: () => number,
  ) {}

  /** Applied schema version. */
  schemaVersion(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  tags(host?: string): HostTag[] {
    const rows = (
      host === undefined
        ? this.db.prepare('SELECT * FROM host_tag ORDER BY host, tag').all()
        : this.db.prepare('SELECT * FROM host_tag WHERE host = ? ORDER BY tag').all(host)
    ) as TagRow[];
    return rows.map((r) => ({ host: r.host, tag: r.tag, by: r.by, atMs: r.at_ms, why: r.why }));
  }

  addTag(t: HostTag): void {
    this.db
      .prepare(
        `INSERT INTO host_tag (host, tag, by, at_ms, why) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (host, tag) DO UPDATE SET by = excluded.by, at_ms = excluded.at_ms, why = excluded.why`,
      )
      .run(t.host, t.tag, t.by, t.atMs, t.why);
  }

  removeTag(host: string, tag: string): boolean {
    return this.db.prepare('DELETE FROM host_tag WHERE host = ? AND tag = ?').run(host, tag).changes > 0;
  }

  journal(e: JournalEntry): void {
    this.db
      .prepare('INSERT INTO journal (run_id, at_ms, action, target, phase, detail) VALUES (?, ?, ?, ?, ?, ?)')
      .run(e.runId, e.atMs, e.action, e.target, e.phase, e.detail ?? null);
  }

  journalEntries(runId?: string): JournalEntry[] {
    const rows = (
      runId === undefined
        ? this.db.prepare('SELECT * FROM journal ORDER BY seq').all()
        : this.db.prepare('SELECT * FROM journal WHERE run_id = ? ORDER BY seq').all(runId)
    ) as JournalRow[];
    return rows.map(toJournalEntry);
  }

  unfinishedActions(): JournalEntry[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM journal i WHERE i.phase = 'intent' AND NOT EXISTS (
           SELECT 1 FROM journal o WHERE o.run_id = i.run_id AND o.action = i.action AND o.target = i.target
             AND o.phase <> 'intent' AND o.seq > i.seq)
         ORDER BY i.seq`,
      )
      .all() as JournalRow[];
    return rows.map(toJournalEntry);
  }

  recordPower(e: PowerEvent): void {
    this.db
      .prepare('INSERT INTO power_event (host, at_ms, kind, detail, watts) VALUES (?, ?, ?, ?, ?)')
      .run(e.host, e.atMs, e.kind, e.detail, e.watts ?? null);
  }

  powerHistory(host: string, limit = 100): PowerEvent[] {
    const rows = this.db
      .prepare('SELECT * FROM power_event WHERE host = ? ORDER BY at_ms DESC, seq DESC LIMIT ?')
      .all(host, limit) as PowerRow[];
    return rows.map((r) => ({
      host: r.host,
      atMs: r.at_ms,
      kind: r.kind,
      detail: r.detail,
      ...(r.watts === null ? {} : { watts: r.watts }),
    }));
  }

  usageSamples(host: string): UsageSample[] {
    const rows = this.db
      .prepare('SELECT host, vm, at_ms, cpu_time_ns FROM usage_sample WHERE host = ? ORDER BY vm')
      .all(host) as Array<{ host: string; vm: string; at_ms: number; cpu_time_ns: number }>;
    return rows.map((r) => ({ host: r.host, vm: r.vm, atMs: r.at_ms, cpuTimeNs: r.cpu_time_ns }));
  }

  hostCapacities(): Map<string, Resources> {
    const rows = this.db.prepare('SELECT host, cpu, mem_mib, disk_gib FROM host_capacity').all() as Array<{
      host: string;
      cpu: number;
      mem_mib: number;
      disk_gib: number;
    }>;
    return new Map(rows.map((r) => [r.host, { cpu: r.cpu, memMiB: r.mem_mib, diskGiB: r.disk_gib }]));
  }

  saveHostCapacities(capacities: ReadonlyMap<string, Resources>, atMs: number): void {
    const upsert = this.db.prepare(
      `INSERT INTO host_capacity (host, at_ms, cpu, mem_mib, disk_gib) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (host) DO UPDATE SET at_ms = excluded.at_ms, cpu = excluded.cpu,
         mem_mib = excluded.mem_mib, disk_gib = excluded.disk_gib`,
    );
    this.db.transaction(() => {
      for (const [host, c] of capacities) upsert.run(host, atMs, c.cpu, c.memMiB, c.diskGiB);
    })();
  }

  saveUsageSamples(samples: readonly UsageSample[]): void {
    const upsert = this.db.prepare(
      `INSERT INTO usage_sample (host, vm, at_ms, cpu_time_ns) VALUES (?, ?, ?, ?)
       ON CONFLICT (host, vm) DO UPDATE SET at_ms = excluded.at_ms, cpu_time_ns = excluded.cpu_time_ns
       WHERE excluded.at_ms >= usage_sample.at_ms`,
    );
    this.db.transaction(() => {
      for (const s of samples) upsert.run(s.host, s.vm, s.atMs, Math.round(s.cpuTimeNs));
    })();
  }

  /** The current lock holder, if any (for `status`). */
  lockHolder(): LockHolder | undefined {
    const row = this.db.prepare('SELECT * FROM run_lock WHERE id = 1').get() as LockRow | undefined;
    return row && toHolder(row);
  }

  acquireLock(runId: string): RunLock {
    const me: LockRow = {
      run_id: runId,
      pid: process.pid,
      pid_start: processStart(process.pid) ?? '',
      hostname: hostname(),
      since_ms: this.nowMs(),
    };
    // IMMEDIATE: the check and the insert are one write transaction, so two openers cannot both win.
    this.db
      .transaction(() => {
        const held = this.db.prepare('SELECT * FROM run_lock WHERE id = 1').get() as LockRow | undefined;
        if (held && holderAlive(held))
          throw new LockHeldError(
            `another run holds the lock: run ${held.run_id}, pid ${held.pid} on ${held.hostname} since ${new Date(held.since_ms).toISOString()} (${this.path})`,
          );
        this.db
          .prepare(
            `INSERT OR REPLACE INTO run_lock (id, run_id, pid, pid_start, hostname, since_ms)
             VALUES (1, @run_id, @pid, @pid_start, @hostname, @since_ms)`,
          )
          .run(me);
      })
      .immediate();
    return {
      holder: toHolder(me),
      release: () => {
        this.db.prepare('DELETE FROM run_lock WHERE id = 1 AND run_id = ? AND pid = ?').run(runId, me.pid);
      },
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toJournalEntry(r: JournalRow): JournalEntry {
  return {
    runId: r.run_id,
    atMs: r.at_ms,
    action: r.action,
    target: r.target,
    phase: r.phase,
    ...(r.detail === null ? {} : { detail: r.detail }),
  };
}

function toHolder(r: LockRow): LockHolder {
  return { runId: r.run_id, pid: r.pid, hostname: r.hostname, sinceMs: r.since_ms };
}

/**
 * A lock taken on another machine (a shared state directory) is always honoured; on this machine
 * it is stale when its process is gone or the pid now belongs to a newer process (pid reuse).
 */
function holderAlive(row: LockRow): boolean {
  if (row.hostname !== hostname()) return true;
  const start = processStart(row.pid);
  if (start === undefined) return false;
  return row.pid_start === '' || start === row.pid_start;
}

/** The process's start time in clock ticks since boot (field 22 of /proc/PID/stat), or undefined when it is gone. */
function processStart(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: split after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}
