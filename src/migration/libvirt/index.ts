/**
 * One live migration through libvirt: peer-to-peer (the source daemon connects to the destination),
 * persistent at the destination, undefined at the source, with bandwidth and max-downtime limits and
 * optional auto-converge. Progress comes from job stats polled on a second connection; at its time limit
 * (or when the caller aborts) the job is aborted with virDomainAbortJob and the VM keeps running on its
 * source. Success is reported only after checking: running on the destination, gone from the source.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { koffiConnector, type Connector } from '../../libvirt/connection.js';
import { ConnectionPool } from '../../libvirt/pool.js';
import { LibvirtError, redactUri } from '../../libvirt/errors.js';
import { MIGRATE, type LibvirtConnection, type MigrateParams } from '../../libvirt/types.js';
import type { Migration } from '../../planner/plan.js';
import type { MigrationOutcome, MigrationProgress, Migrator } from '../types.js';

/** Where to reach one host for migrations. */
export interface LibvirtMigrationHost {
  readonly id: string;
  /** URI virt-squeeze uses to control the host. */
  readonly uri: string;
  /**
   * URI the SOURCE daemon uses to reach this host as a destination (p2p); default `uri`. Differs when
   * virt-squeeze reaches the daemons another way than they reach each other (e.g. a local socket).
   */
  readonly peerUri?: string;
  /** QEMU's migration stream target at this host as a destination (`tcp://10.0.0.2`), when not the default. */
  readonly migrateUri?: string;
}

export interface LibvirtMigratorOptions {
  readonly hosts: readonly LibvirtMigrationHost[];
  /** Per migration, MiB/s; 0 = unlimited. */
  readonly bandwidthMiBps: number;
  /** Allowed stop-and-copy downtime, ms. */
  readonly maxDowntimeMs: number;
  /** Let QEMU throttle the guest's vCPUs when pre-copy does not converge. */
  readonly autoConverge?: boolean;
  /** Job-stats polling interval, ms. Default 500. */
  readonly pollIntervalMs?: number;
  /** Time limit of each control call (lookups, job stats, abort), ms. Default 30 000. */
  readonly callTimeoutMs?: number;
  /** How connections are opened (default: the koffi binding); ignored when `pool` is given. */
  readonly connect?: Connector;
  /** Connections reused across migrations; default: a pool of this migrator's own (see close()). */
  readonly pool?: ConnectionPool;
  readonly now?: () => number;
}

const MIB = 1024 * 1024;

type Settled = { ok: true } | { ok: false; error: unknown };

/** Live migrations through libvirt's C API (koffi binding by default). */
export class LibvirtMigrator implements Migrator {
  private readonly pool: ConnectionPool;
  private readonly ownPool: boolean;
  private readonly now: () => number;

  constructor(private readonly opts: LibvirtMigratorOptions) {
    const t = opts.callTimeoutMs ?? 30_000;
    this.ownPool = opts.pool === undefined;
    this.pool =
      opts.pool ?? new ConnectionPool(opts.connect ?? koffiConnector, { openTimeoutMs: t, callTimeoutMs: t });
    this.now = opts.now ?? Date.now;
  }

  /** Closes the idle connections of the migrator's own pool (a pool passed in is the caller's to close). */
  async close(): Promise<void> {
    if (this.ownPool) await this.pool.close();
  }

  async migrate(
    m: Migration,
    run: { timeoutMs: number; signal?: AbortSignal; onProgress?: (p: MigrationProgress) => void },
  ): Promise<MigrationOutcome> {
    const startMs = this.now();
    const fail = (error: string): MigrationOutcome => ({
      vm: m.vm,
      ok: false,
      durationMs: this.now() - startMs,
      error,
    });
    const from = this.host(m.from);
    const to = this.host(m.to);
    if (from === undefined || to === undefined)
      return fail(`no libvirt URI for host ${from ? m.to : m.from}`);
    // Acquired together (at most one start-up latency): a monitor and a mover on the source (the mover's
    // thread blocks in the migration), and the destination, which must be visible before anything moves.
    const results = await Promise.allSettled(
      [from.uri, from.uri, to.uri].map((uri) => this.pool.acquire(uri)),
    );
    const opened = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      const failed = results.find((r) => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      const [monitor, mover, dest] = opened as [LibvirtConnection, LibvirtConnection, LibvirtConnection];
      const state = await monitor.domainState(m.vm);
      if (state !== 'running' && state !== 'paused') {
        return fail(`${m.vm} is ${state ?? 'not defined'} on ${m.from}, not running: not migrated`);
      }
      const end = await this.drive(m, monitor, mover, to, startMs, run);
      return await this.verify(m, monitor, dest, end, startMs);
    } catch (e) {
      return fail(describe(e));
    } finally {
      for (const c of opened) this.pool.release(c);
    }
  }

  private host(id: string): LibvirtMigrationHost | undefined {
    return this.opts.hosts.find((h) => h.id === id);
  }

  private flags(): number {
    const base =
      MIGRATE.LIVE |
      MIGRATE.PEER2PEER |
      MIGRATE.PERSIST_DEST |
      MIGRATE.UNDEFINE_SOURCE |
      MIGRATE.ABORT_ON_ERROR;
    return this.opts.autoConverge ? base | MIGRATE.AUTO_CONVERGE : base;
  }

  /**
   * Starts the migration on `mover` (it blocks that worker) and polls job stats on `monitor` until it ends;
   * at the time limit or on abort it aborts the job and waits for the migration call to return.
   * Returns how it ended and, when virt-squeeze stopped it, why.
   */
  private async drive(
    m: Migration,
    monitor: LibvirtConnection,
    mover: LibvirtConnection,
    to: LibvirtMigrationHost,
    startMs: number,
    run: { timeoutMs: number; signal?: AbortSignal; onProgress?: (p: MigrationProgress) => void },
  ): Promise<{ settled: Settled; stopReason?: string }> {
    const params: MigrateParams = {
      ...(this.opts.bandwidthMiBps > 0 && { bandwidthMiBps: this.opts.bandwidthMiBps }),
      ...(to.migrateUri !== undefined && { migrateUri: to.migrateUri }),
    };
    // Set before the start (kept by QEMU drivers that allow it) and again once the job is active.
    await monitor.setMaxDowntime(m.vm, this.opts.maxDowntimeMs).catch(() => undefined);
    let settled: Settled | undefined;
    const migration = mover.migrateToUri3(m.vm, to.peerUri ?? to.uri, params, this.flags()).then(
      (): Settled => (settled = { ok: true }),
      (error: unknown): Settled => (settled = { ok: false, error }),
    );
    let stopReason: string | undefined;
    let downtimeSet = false;
    const pollMs = this.opts.pollIntervalMs ?? 500;
    while (settled === undefined) {
      await Promise.race([migration, sleep(pollMs)]);
      if (settled !== undefined) break;
      if (stopReason === undefined) stopReason = this.stopReason(startMs, run);
      if (stopReason !== undefined) {
        // "No job is active" until the job starts: keep trying until the migration call returns.
        await monitor.abortJob(m.vm).catch(() => undefined);
        continue;
      }
      const job = await monitor.jobStats(m.vm).catch(() => undefined);
      if (job === undefined || job.type === 0) continue;
      if (!downtimeSet)
        downtimeSet = await monitor.setMaxDowntime(m.vm, this.opts.maxDowntimeMs).then(
          () => true,
          () => false,
        );
      run.onProgress?.(progress(m.vm, job.stats, this.now() - startMs));
    }
    return { settled: await migration, ...(stopReason !== undefined && { stopReason }) };
  }

  private stopReason(startMs: number, run: { timeoutMs: number; signal?: AbortSignal }): string | undefined {
    if (run.signal?.aborted) return 'cancelled';
    if (this.now() - startMs >= run.timeoutMs) return `timed out after ${run.timeoutMs} ms`;
    return undefined;
  }

  /** The outcome as the hosts see it now: ok only when running on the destination and gone from the source. */
  private async verify(
    m: Migration,
    source: LibvirtConnection,
    dest: LibvirtConnection,
    end: { settled: Settled; stopReason?: string },
    startMs: number,
  ): Promise<MigrationOutcome> {
    const [onDest, onSource] = [await dest.domainState(m.vm), await source.domainState(m.vm)];
    const durationMs = this.now() - startMs;
    if (onDest === 'running' && onSource === null) return { vm: m.vm, ok: true, durationMs };
    const why =
      end.stopReason ?? (end.settled.ok ? 'migration reported success' : describe(end.settled.error));
    const where = `now ${onSource ?? 'absent'} on ${m.from}, ${onDest ?? 'absent'} on ${m.to}`;
    const aborted = end.stopReason !== undefined ? '; aborted' : '';
    return { vm: m.vm, ok: false, durationMs, error: `${why}${aborted}; ${m.vm} ${where}` };
  }
}

function progress(
  vm: string,
  stats: Readonly<Record<string, number | string>>,
  elapsedMs: number,
): MigrationProgress {
  const n = (k: string): number => {
    const v = stats[k];
    return typeof v === 'number' ? v : 0;
  };
  return {
    vm,
    dataProcessedMiB: n('data_processed') / MIB,
    dataRemainingMiB: n('data_remaining') / MIB,
    elapsedMs,
  };
}

function describe(e: unknown): string {
  if (e instanceof LibvirtError) return `${e.fn} at ${redactUri(e.uri)}: ${e.libvirtMessage}`;
  return e instanceof Error ? e.message : String(e);
}
