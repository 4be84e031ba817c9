/**
 * Fallback backend: the same LibvirtConnection over `virsh` subprocesses, for hosts reachable where no
 * libvirt client library can be loaded (or for debugging). Asynchronous by nature; every call is a new
 * `virsh -c URI` process (about 50 ms locally), so the koffi binding stays the default.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ConnectOptions, Connector } from './connection.js';
import { BINDING_ERR, LibvirtError, VIR_ERR } from './errors.js';
import {
  DOMAIN_STATES,
  MIGRATE,
  STATS,
  type DomainInfo,
  type DomainStateName,
  type DomainStats,
  type JobStats,
  type LibvirtConnection,
  type MigrateParams,
  type NodeInfo,
  type NodeMemoryStats,
  type StoragePoolInfo,
  type TypedValue,
} from './types.js';

const GROUP_FLAGS: ReadonlyArray<[number, string]> = [
  [STATS.STATE, '--state'],
  [STATS.CPU_TOTAL, '--cpu-total'],
  [STATS.BALLOON, '--balloon'],
  [STATS.VCPU, '--vcpu'],
  [STATS.INTERFACE, '--interface'],
  [STATS.BLOCK, '--block'],
  [STATS.PERF, '--perf'],
  [STATS.IOTHREAD, '--iothread'],
  [STATS.MEMORY, '--memory'],
  [STATS.DIRTYRATE, '--dirtyrate'],
  [STATS.VM, '--vm'],
];

/** `virsh domstate` prints "shut off" and "pmsuspended"; the C API's names differ slightly. */
const STATE_WORDS: Readonly<Record<string, DomainStateName>> = {
  'no state': 'nostate',
  running: 'running',
  idle: 'blocked',
  paused: 'paused',
  'in shutdown': 'shutdown',
  'shut off': 'shutoff',
  crashed: 'crashed',
  pmsuspended: 'pmsuspended',
};

function parseValue(v: string): TypedValue {
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v;
}

/** `Key:   value` lines (virsh nodeinfo, dominfo, nodememstats with LC_ALL=C) into a record. */
export function parseColonTable(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i).trim()] = line.slice(i + 1).trim();
  }
  return out;
}

/** `virsh domstats --raw`: `Domain: 'name'` headers followed by `  key=value` lines. */
export function parseDomstats(text: string): DomainStats[] {
  const out: Array<{ name: string; stats: Record<string, TypedValue> }> = [];
  for (const line of text.split('\n')) {
    const header = /^Domain: '(.*)'$/.exec(line.trim());
    if (header) {
      out.push({ name: header[1]!, stats: {} });
      continue;
    }
    const eq = line.indexOf('=');
    const current = out.at(-1);
    if (eq > 0 && current) current.stats[line.slice(0, eq).trim()] = parseValue(line.slice(eq + 1).trim());
  }
  return out;
}

function intField(t: Record<string, string>, key: string): number {
  const m = /^-?\d+/.exec(t[key] ?? '');
  if (!m)
    throw new LibvirtError({ code: BINDING_ERR.GARBAGE, domain: 0, message: `no "${key}"`, fn: 'virsh' }, '');
  return Number(m[0]);
}

/** A LibvirtConnection over `virsh` subprocesses (LC_ALL=C, quiet). */
export class VirshConnection implements LibvirtConnection {
  closed = false;

  private constructor(
    readonly uri: string,
    private readonly callTimeoutMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Checks the URI answers (`virsh uri`), like opening a connection would. */
  static async open(uri: string, opts: ConnectOptions = {}): Promise<VirshConnection> {
    const c = new VirshConnection(uri, opts.callTimeoutMs ?? 60_000, opts.signal);
    await c.virsh(['uri'], opts.openTimeoutMs ?? 30_000);
    return c;
  }

  /** Runs `virsh -q -c URI args...`; a failure becomes a LibvirtError carrying virsh's `error:` lines. */
  private virsh(args: readonly string[], timeoutMs = this.callTimeoutMs): Promise<string> {
    const fn = `virsh ${args[0] ?? ''}`;
    if (this.closed) {
      return Promise.reject(
        new LibvirtError({ code: BINDING_ERR.CLOSED, domain: 0, message: 'connection closed', fn }, this.uri),
      );
    }
    return new Promise((resolve, reject) => {
      execFile(
        'virsh',
        ['-q', '-c', this.uri, ...args],
        {
          env: { ...process.env, LC_ALL: 'C' },
          maxBuffer: 64 * 1024 * 1024,
          ...(Number.isFinite(timeoutMs) && { timeout: timeoutMs }),
          ...(this.signal !== undefined && { signal: this.signal }),
        },
        (err, stdout, stderr) => {
          if (!err) return resolve(stdout);
          const timedOut = err.killed === true && !this.signal?.aborted;
          const message = timedOut
            ? `no answer within ${timeoutMs} ms`
            : stderr
                .replace(/^error: /gm, '')
                .trim()
                .split('\n')
                .join('; ') || err.message;
          reject(
            new LibvirtError(
              { code: timedOut ? BINDING_ERR.TIMEOUT : errorCode(message), domain: 0, message, fn },
              this.uri,
            ),
          );
        },
      );
    });
  }

  async nodeInfo(): Promise<NodeInfo> {
    const t = parseColonTable(await this.virsh(['nodeinfo']));
    return {
      model: t['CPU model'] ?? '',
      memoryKiB: intField(t, 'Memory size'),
      cpus: intField(t, 'CPU(s)'),
      mhz: intField(t, 'CPU frequency'),
      nodes: intField(t, 'NUMA cell(s)'),
      sockets: intField(t, 'CPU socket(s)'),
      cores: intField(t, 'Core(s) per socket'),
      threads: intField(t, 'Thread(s) per core'),
    };
  }

  async nodeMemoryStats(): Promise<NodeMemoryStats | null> {
    try {
      const t = parseColonTable(await this.virsh(['nodememstats']));
      return Object.fromEntries(Object.keys(t).map((k) => [k, intField(t, k)]));
    } catch (e) {
      if (e instanceof LibvirtError && e.code === VIR_ERR.NO_SUPPORT) return null;
      throw e;
    }
  }

  async hostname(): Promise<string> {
    return (await this.virsh(['hostname'])).trim();
  }

  async storagePools(): Promise<StoragePoolInfo[]> {
    const names = (await this.virsh(['pool-list', '--name'])).split('\n').filter((n) => n.trim() !== '');
    const out: StoragePoolInfo[] = [];
    for (const name of names.map((n) => n.trim())) {
      const t = parseColonTable(await this.virsh(['pool-info', '--bytes', name]));
      out.push({
        name,
        capacityBytes: intField(t, 'Capacity'),
        allocationBytes: intField(t, 'Allocation'),
        availableBytes: intField(t, 'Available'),
      });
    }
    return out;
  }

  async listDomains(): Promise<DomainInfo[]> {
    const names = (await this.virsh(['list', '--all', '--name'])).split('\n').filter((n) => n.trim() !== '');
    const stats = new Map(
      (await this.allDomainStats(STATS.CPU_TOTAL)).map((s) => [s.name, s.stats['cpu.time']] as const),
    );
    const out: DomainInfo[] = [];
    for (const name of names.map((n) => n.trim())) {
      const t = parseColonTable(await this.virsh(['dominfo', name]));
      const cpuTime = stats.get(name);
      out.push({
        name,
        uuid: t['UUID'] ?? '',
        state: stateWord(t['State'] ?? ''),
        maxMemKiB: intField(t, 'Max memory'),
        memKiB: intField(t, 'Used memory'),
        vcpus: intField(t, 'CPU(s)'),
        // dominfo prints CPU time in 0.1 s steps; domstats has ns where the driver reports it.
        cpuTimeNs:
          typeof cpuTime === 'number' ? cpuTime : Math.round(Number.parseFloat(t['CPU time'] ?? '0') * 1e9),
        persistent: t['Persistent'] === 'yes',
      });
    }
    return out;
  }

  async allDomainStats(groups: number): Promise<DomainStats[]> {
    const flags = GROUP_FLAGS.filter(([bit]) => (groups & bit) !== 0).map(([, flag]) => flag);
    return parseDomstats(await this.virsh(['domstats', '--raw', ...flags]));
  }

  async domainState(name: string): Promise<DomainStateName | null> {
    try {
      return stateWord((await this.virsh(['domstate', name])).trim());
    } catch (e) {
      if (e instanceof LibvirtError && e.code === VIR_ERR.NO_DOMAIN) return null;
      throw e;
    }
  }

  async startDirtyRateCalc(name: string, seconds: number): Promise<void> {
    await this.virsh(['domdirtyrate-calc', name, '--seconds', String(seconds)]);
  }

  async migrateToUri3(name: string, destUri: string, params: MigrateParams, flags: number): Promise<void> {
    const args = ['migrate', ...migrateFlags(flags)];
    if (params.bandwidthMiBps !== undefined)
      args.push('--bandwidth', String(Math.round(params.bandwidthMiBps)));
    if (params.migrateUri !== undefined) args.push('--migrateuri', params.migrateUri);
    if (params.listenAddress !== undefined) args.push('--listen-address', params.listenAddress);
    await this.virsh([...args, name, destUri], Number.POSITIVE_INFINITY);
  }

  async setMaxDowntime(name: string, downtimeMs: number): Promise<void> {
    await this.virsh(['migrate-setmaxdowntime', name, String(Math.round(downtimeMs))]);
  }

  async getMaxDowntime(name: string): Promise<number> {
    return Number.parseInt(await this.virsh(['migrate-getmaxdowntime', name]), 10);
  }

  async jobStats(name: string): Promise<JobStats> {
    const text = await this.virsh(['domjobinfo', name, '--rawstats']);
    const type = /Job type:\s*(\w+)/.exec(text)?.[1] ?? 'None';
    const stats: Record<string, TypedValue> = {};
    for (const line of text.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) stats[line.slice(0, eq).trim()] = parseValue(line.slice(eq + 1).trim());
    }
    return { type: type === 'None' ? 0 : Number(stats['type'] ?? 2), stats };
  }

  async abortJob(name: string): Promise<void> {
    await this.virsh(['domjobabort', name]);
  }

  async defineXml(xml: string): Promise<string> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vsq-virsh-'));
    try {
      const file = path.join(dir, 'domain.xml');
      await fs.writeFile(file, xml, { mode: 0o600 });
      const out = await this.virsh(['define', file]);
      return /Domain '?(.+?)'? defined/.exec(out)?.[1] ?? '';
    } finally {
      await fs.rm(dir, { recursive: true, force: true });
    }
  }

  async start(name: string): Promise<void> {
    await this.virsh(['start', name]);
  }
  async destroy(name: string): Promise<void> {
    await this.virsh(['destroy', name]);
  }
  async undefine(name: string): Promise<void> {
    await this.virsh(['undefine', name]);
  }
  async close(): Promise<void> {
    this.closed = true;
  }
}

function stateWord(word: string): DomainStateName {
  const s = STATE_WORDS[word] ?? DOMAIN_STATES.find((x) => x === word);
  if (s === undefined) {
    throw new LibvirtError(
      { code: BINDING_ERR.GARBAGE, domain: 0, message: `unknown state "${word}"`, fn: 'virsh' },
      '',
    );
  }
  return s;
}

function migrateFlags(flags: number): string[] {
  const map: ReadonlyArray<[number, string]> = [
    [MIGRATE.LIVE, '--live'],
    [MIGRATE.PEER2PEER, '--p2p'],
    [MIGRATE.TUNNELLED, '--tunnelled'],
    [MIGRATE.PERSIST_DEST, '--persistent'],
    [MIGRATE.UNDEFINE_SOURCE, '--undefinesource'],
    [MIGRATE.ABORT_ON_ERROR, '--abort-on-error'],
    [MIGRATE.AUTO_CONVERGE, '--auto-converge'],
  ];
  return map.filter(([bit]) => (flags & bit) !== 0).map(([, flag]) => flag);
}

/** virsh prints no error codes: recover the two this project reacts to from the message. */
function errorCode(message: string): number {
  if (/Domain not found|failed to get domain/i.test(message)) return VIR_ERR.NO_DOMAIN;
  if (/not supported/i.test(message)) return VIR_ERR.NO_SUPPORT;
  return VIR_ERR.OPERATION_FAILED;
}

/** The virsh fallback as a Connector for LibvirtInventory, LibvirtHostProbe and LibvirtMigrator. */
export const virshConnector: Connector = (uri, opts) => VirshConnection.open(uri, opts);
