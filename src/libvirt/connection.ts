/**
 * Main-thread side of the koffi binding: one worker thread per connection, calls as promises with a
 * time limit. The worker is referenced only while a call is pending, so an idle connection never keeps
 * the process alive.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { BINDING_ERR, LibvirtError, type LibvirtErrorData } from './errors.js';
import { checkReachable } from './preflight.js';
import type { WorkerInit, WorkerMethod, WorkerReply, WorkerRequest } from './protocol.js';
import type {
  DomainInfo,
  DomainStateName,
  DomainStats,
  JobStats,
  LibvirtConnection,
  MigrateParams,
  NodeInfo,
  NodeMemoryStats,
  StoragePoolInfo,
} from './types.js';

export interface ConnectOptions {
  /** Time limit for opening the connection, ms. */
  readonly openTimeoutMs?: number;
  /** Time limit for each call except a migration (which its caller bounds with abortJob), ms. */
  readonly callTimeoutMs?: number;
  /** Keepalive ping interval, s (0 = off); a peer silent for interval x (count + 1) fails the call in progress. */
  readonly keepAliveIntervalS?: number;
  readonly keepAliveCount?: number;
  /** Aborting drops the connection: pending calls reject at once (a thread stuck in libvirt is let go). */
  readonly signal?: AbortSignal;
}

const DEFAULTS = {
  openTimeoutMs: 30_000,
  callTimeoutMs: 60_000,
  keepAliveIntervalS: 5,
  keepAliveCount: 3,
};

/**
 * Starts the worker script: the compiled .js in production. Under tsx/vitest (source .ts) the worker and
 * its imports are bundled once per process with esbuild (tsx's own compiler) into a plain .mjs next to
 * node_modules, because registering tsx inside every new thread costs 300-800 ms per connection.
 */
function startWorker(entry: 'worker' | 'event-worker', workerData: unknown): Worker {
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL(`./${entry}.js`, import.meta.url), { workerData });
  let file = devWorkerFiles.get(entry);
  if (file === undefined) {
    file = bundleDevWorker(entry);
    devWorkerFiles.set(entry, file);
  }
  return new Worker(file, { workerData });
}

const devWorkerFiles = new Map<string, string>();

/** The thread running libvirt's event loop (keepalive), started with the first connection; never holds the process. */
let eventLoop: Worker | undefined;

function ensureEventLoop(): void {
  if (eventLoop !== undefined) return;
  eventLoop = startWorker('event-worker', new SharedArrayBuffer(4));
  eventLoop.unref();
  eventLoop.on('error', () => {
    // Without it keepalive stops working; calls are still bounded by their time limits. Retry next open.
    eventLoop = undefined;
  });
}

function bundleDevWorker(entry: string): string {
  const require = createRequire(import.meta.url);
  const esbuild = require('esbuild') as typeof import('esbuild');
  // Inside node_modules so that the external `koffi` resolves from the bundle.
  const dir = path.join(path.dirname(path.dirname(require.resolve('koffi'))), '.cache', 'virt-squeeze');
  fs.mkdirSync(dir, { recursive: true });
  const out = esbuild.buildSync({
    entryPoints: [fileURLToPath(new URL(`./${entry}.ts`, import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    external: ['koffi'],
    write: false,
    logLevel: 'silent',
  });
  // Named by content, written under a temporary name and renamed: concurrent test processes never clash.
  const code = out.outputFiles[0]!.contents;
  const file = path.join(
    dir,
    `libvirt-worker-${createHash('sha256').update(code).digest('hex').slice(0, 16)}.mjs`,
  );
  if (!fs.existsSync(file)) {
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, code);
    fs.renameSync(tmp, file);
  }
  return file;
}

interface Pending {
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout | undefined;
}

/** A libvirt connection served by its own worker thread (koffi, synchronous libvirt calls). */
export class KoffiConnection implements LibvirtConnection {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dead: LibvirtErrorData | undefined;

  private constructor(
    readonly uri: string,
    private readonly worker: Worker,
    private readonly callTimeoutMs: number,
  ) {
    worker.on('message', (r: WorkerReply) => this.settle(r));
    worker.on('error', (e) =>
      this.fail({ code: BINDING_ERR.CLOSED, domain: 0, message: e.message, fn: 'worker' }),
    );
    worker.on('exit', () =>
      this.fail({ code: BINDING_ERR.CLOSED, domain: 0, message: 'connection closed', fn: 'worker' }),
    );
  }

  get closed(): boolean {
    return this.dead !== undefined;
  }

  /** Opens `uri` in a new worker thread; rejects with LibvirtError (libvirt's code and message) on failure. */
  static async open(uri: string, opts: ConnectOptions = {}): Promise<KoffiConnection> {
    const o = { ...DEFAULTS, ...opts };
    const init: WorkerInit = {
      uri,
      keepAliveIntervalS: o.keepAliveIntervalS,
      keepAliveCount: o.keepAliveCount,
    };
    await checkReachable(uri, o.openTimeoutMs, opts.signal);
    ensureEventLoop();
    const worker = startWorker('worker', init);
    const conn = new KoffiConnection(uri, worker, o.callTimeoutMs);
    const signal = opts.signal;
    if (signal !== undefined) {
      const onAbort = (): void =>
        conn.fail({ code: BINDING_ERR.CLOSED, domain: 0, message: 'aborted by caller', fn: 'connection' });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      worker.once('exit', () => signal.removeEventListener('abort', onAbort));
    }
    // Request id 0 is the open the worker performs at start.
    await conn.expect(0, 'virConnectOpen', o.openTimeoutMs);
    return conn;
  }

  private expect(id: number, fn: string, timeoutMs: number): Promise<unknown> {
    if (this.dead !== undefined) return Promise.reject(new LibvirtError(this.dead, this.uri));
    this.worker.ref();
    return new Promise((resolve, reject) => {
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => this.timeout(id, fn, timeoutMs), timeoutMs)
        : undefined;
      this.pending.set(id, { resolve, reject, timer });
    });
  }

  private call(
    method: WorkerMethod,
    args: readonly unknown[],
    timeoutMs = this.callTimeoutMs,
  ): Promise<unknown> {
    const id = this.nextId++;
    const p = this.expect(id, method, timeoutMs);
    if (this.dead === undefined) this.worker.postMessage({ id, method, args } satisfies WorkerRequest);
    return p;
  }

  private settle(r: WorkerReply): void {
    const p = this.pending.get(r.id);
    if (p === undefined) return;
    this.pending.delete(r.id);
    if (p.timer !== undefined) clearTimeout(p.timer);
    if (this.pending.size === 0) this.worker.unref();
    if (r.ok) p.resolve(r.value);
    else p.reject(new LibvirtError(r.error, this.uri));
  }

  /** A call that does not answer in time means a stuck peer: drop the whole connection. */
  private timeout(id: number, fn: string, timeoutMs: number): void {
    const message = `no answer within ${timeoutMs} ms`;
    const p = this.pending.get(id);
    this.pending.delete(id);
    p?.reject(new LibvirtError({ code: BINDING_ERR.TIMEOUT, domain: 0, message, fn }, this.uri));
    this.fail({
      code: BINDING_ERR.CLOSED,
      domain: 0,
      message: `connection dropped after: ${fn}: ${message}`,
      fn,
    });
  }

  private fail(data: LibvirtErrorData): void {
    if (this.dead === undefined) this.dead = data;
    for (const [id, p] of this.pending) {
      if (p.timer !== undefined) clearTimeout(p.timer);
      p.reject(new LibvirtError({ ...this.dead, fn: this.dead.fn }, this.uri));
      this.pending.delete(id);
    }
    // A thread stuck in a native call cannot stop until the call returns: let it go without holding the process.
    this.worker.unref();
    void this.worker.terminate();
  }

  nodeInfo(): Promise<NodeInfo> {
    return this.call('nodeInfo', []) as Promise<NodeInfo>;
  }
  nodeMemoryStats(): Promise<NodeMemoryStats | null> {
    return this.call('nodeMemoryStats', []) as Promise<NodeMemoryStats | null>;
  }
  hostname(): Promise<string> {
    return this.call('hostname', []) as Promise<string>;
  }
  storagePools(): Promise<StoragePoolInfo[]> {
    return this.call('storagePools', []) as Promise<StoragePoolInfo[]>;
  }
  listDomains(): Promise<DomainInfo[]> {
    return this.call('listDomains', []) as Promise<DomainInfo[]>;
  }
  allDomainStats(groups: number): Promise<DomainStats[]> {
    return this.call('allDomainStats', [groups]) as Promise<DomainStats[]>;
  }
  domainState(name: string): Promise<DomainStateName | null> {
    return this.call('domainState', [name]) as Promise<DomainStateName | null>;
  }
  async startDirtyRateCalc(name: string, seconds: number): Promise<void> {
    await this.call('startDirtyRateCalc', [name, seconds]);
  }
  async migrateToUri3(name: string, destUri: string, params: MigrateParams, flags: number): Promise<void> {
    // Unbounded here: the migrator bounds it with virDomainAbortJob from another connection.
    await this.call('migrateToUri3', [name, destUri, params, flags], Number.POSITIVE_INFINITY);
  }
  async setMaxDowntime(name: string, downtimeMs: number): Promise<void> {
    await this.call('setMaxDowntime', [name, downtimeMs]);
  }
  getMaxDowntime(name: string): Promise<number> {
    return this.call('getMaxDowntime', [name]) as Promise<number>;
  }
  jobStats(name: string): Promise<JobStats> {
    return this.call('jobStats', [name]) as Promise<JobStats>;
  }
  async abortJob(name: string): Promise<void> {
    await this.call('abortJob', [name]);
  }
  defineXml(xml: string): Promise<string> {
    return this.call('defineXml', [xml]) as Promise<string>;
  }
  async start(name: string): Promise<void> {
    await this.call('start', [name]);
  }
  async destroy(name: string): Promise<void> {
    await this.call('destroy', [name]);
  }
  async undefine(name: string): Promise<void> {
    await this.call('undefine', [name]);
  }

  /** Closes the libvirt connection and ends the worker. Safe to call twice. */
  async close(): Promise<void> {
    if (this.dead !== undefined) return;
    try {
      await this.call('close', [], this.callTimeoutMs);
    } finally {
      this.fail({ code: BINDING_ERR.CLOSED, domain: 0, message: 'connection closed', fn: 'close' });
    }
  }
}

/** Opens a libvirt connection: the koffi binding by default, the virsh backend as a fallback. */
export type Connector = (uri: string, opts: ConnectOptions) => Promise<LibvirtConnection>;

/** The default connector: one worker thread per connection over the koffi binding. */
export const koffiConnector: Connector = (uri, opts) => KoffiConnection.open(uri, opts);
