/**
 * Synchronous koffi binding to libvirt's C API. Loaded only inside a worker thread (see worker.ts):
 * every call blocks its thread, and libvirt's thread-local last error is read right after the failing
 * call on that same thread.
 */
import koffi from 'koffi';
import { BINDING_ERR, VIR_ERR, type LibvirtErrorData } from './errors.js';
import {
  DOMAIN_STATES,
  type DomainInfo,
  type DomainStateName,
  type DomainStats,
  type JobStats,
  type MigrateParams,
  type NodeInfo,
  type NodeMemoryStats,
  type StoragePoolInfo,
  type TypedValue,
} from './types.js';

/** Thrown inside the worker; the worker posts its data to the calling thread. */
export class FfiError extends Error {
  constructor(readonly data: LibvirtErrorData) {
    super(data.message);
  }
}

type Ptr = bigint | null;

const lib = koffi.load('libvirt.so.0');
const libc = koffi.load('libc.so.6');

koffi.opaque('virConnect');
koffi.opaque('virDomain');
koffi.opaque('virStoragePool');

const NodeInfoT = koffi.struct('virNodeInfo', {
  model: koffi.array('char', 32, 'String'),
  memory: 'ulong',
  cpus: 'uint',
  mhz: 'int',
  nodes: 'uint',
  sockets: 'uint',
  cores: 'uint',
  threads: 'uint',
});
const DomainInfoT = koffi.struct('virDomainInfo', {
  state: 'uchar',
  maxMem: 'ulong',
  memory: 'ulong',
  nrVirtCpu: 'ushort',
  cpuTime: 'ulonglong',
});
// virTypedParameter: field[80], int type, then a union of 8 bytes at offset 88 (sizeof 96).
const TypedParamT = koffi.struct('virTypedParameter', {
  field: koffi.array('char', 80, 'String'),
  type: 'int',
  value: koffi.union('virTypedParameterValue', {
    i: 'int',
    ui: 'uint',
    l: 'int64',
    ul: 'uint64',
    d: 'double',
    b: 'char',
    s: 'char *',
  }),
});
const NodeMemoryStatsT = koffi.struct('virNodeMemoryStats', {
  field: koffi.array('char', 80, 'String'),
  value: 'ulonglong',
});
const StatsRecordT = koffi.struct('virDomainStatsRecord', {
  dom: 'virDomain *',
  params: 'void *',
  nparams: 'int',
});
const StoragePoolInfoT = koffi.struct('virStoragePoolInfo', {
  state: 'int',
  capacity: 'ulonglong',
  allocation: 'ulonglong',
  available: 'ulonglong',
});
// Only the head of virError is read: code, domain, message.
const ErrorHeadT = koffi.struct('virErrorHead', { code: 'int', domain: 'int', message: 'const char *' });

const c = {
  initialize: lib.func('int virInitialize()'),
  setErrorFunc: lib.func('void virSetErrorFunc(void *userData, void *handler)'),
  eventRegisterDefaultImpl: lib.func('int virEventRegisterDefaultImpl()'),
  eventRunDefaultImpl: lib.func('int virEventRunDefaultImpl()'),
  eventAddTimeout: lib.func('int virEventAddTimeout(int timeoutMs, void *cb, void *opaque, void *ff)'),
  getLastError: lib.func('virErrorHead *virGetLastError()'),
  resetLastError: lib.func('void virResetLastError()'),
  open: lib.func('virConnect *virConnectOpen(const char *name)'),
  close: lib.func('int virConnectClose(virConnect *conn)'),
  setKeepAlive: lib.func('int virConnectSetKeepAlive(virConnect *conn, int interval, uint count)'),
  getHostname: lib.func('void *virConnectGetHostname(virConnect *conn)'),
  nodeGetInfo: lib.func('int virNodeGetInfo(virConnect *conn, _Out_ virNodeInfo *info)'),
  nodeGetMemoryStats: lib.func(
    'int virNodeGetMemoryStats(virConnect *conn, int cell, void *params, _Inout_ int *nparams, uint flags)',
  ),
  listAllDomains: lib.func(
    'int virConnectListAllDomains(virConnect *conn, _Out_ void **domains, uint flags)',
  ),
  getAllDomainStats: lib.func(
    'int virConnectGetAllDomainStats(virConnect *conn, uint stats, _Out_ void **records, uint flags)',
  ),
  statsRecordListFree: lib.func('void virDomainStatsRecordListFree(void *records)'),
  listAllStoragePools: lib.func(
    'int virConnectListAllStoragePools(virConnect *conn, _Out_ void **pools, uint flags)',
  ),
  poolGetInfo: lib.func('int virStoragePoolGetInfo(virStoragePool *pool, _Out_ virStoragePoolInfo *info)'),
  poolGetName: lib.func('const char *virStoragePoolGetName(virStoragePool *pool)'),
  poolFree: lib.func('int virStoragePoolFree(virStoragePool *pool)'),
  lookupByName: lib.func('virDomain *virDomainLookupByName(virConnect *conn, const char *name)'),
  domainFree: lib.func('int virDomainFree(virDomain *dom)'),
  domainGetName: lib.func('const char *virDomainGetName(virDomain *dom)'),
  domainGetUuidString: lib.func('int virDomainGetUUIDString(virDomain *dom, char *buf)'),
  domainGetInfo: lib.func('int virDomainGetInfo(virDomain *dom, _Out_ virDomainInfo *info)'),
  domainIsPersistent: lib.func('int virDomainIsPersistent(virDomain *dom)'),
  startDirtyRateCalc: lib.func('int virDomainStartDirtyRateCalc(virDomain *dom, int seconds, uint flags)'),
  migrateToUri3: lib.func(
    'int virDomainMigrateToURI3(virDomain *dom, const char *dconnuri, void *params, uint nparams, uint flags)',
  ),
  setMaxDowntime: lib.func(
    'int virDomainMigrateSetMaxDowntime(virDomain *dom, ulonglong downtimeMs, uint flags)',
  ),
  getMaxDowntime: lib.func(
    'int virDomainMigrateGetMaxDowntime(virDomain *dom, _Out_ ulonglong *downtimeMs, uint flags)',
  ),
  getJobStats: lib.func(
    'int virDomainGetJobStats(virDomain *dom, _Out_ int *type, _Out_ void **params, _Out_ int *nparams, uint flags)',
  ),
  abortJob: lib.func('int virDomainAbortJob(virDomain *dom)'),
  defineXml: lib.func('virDomain *virDomainDefineXML(virConnect *conn, const char *xml)'),
  create: lib.func('int virDomainCreate(virDomain *dom)'),
  destroy: lib.func('int virDomainDestroy(virDomain *dom)'),
  undefine: lib.func('int virDomainUndefine(virDomain *dom)'),
  paramsAddULLong: lib.func(
    'int virTypedParamsAddULLong(_Inout_ void **params, _Inout_ int *nparams, _Inout_ int *maxparams, const char *name, ulonglong value)',
  ),
  paramsAddString: lib.func(
    'int virTypedParamsAddString(_Inout_ void **params, _Inout_ int *nparams, _Inout_ int *maxparams, const char *name, const char *value)',
  ),
  paramsFree: lib.func('void virTypedParamsFree(void *params, int nparams)'),
  free: libc.func('void free(void *ptr)'),
  dlsym: libc.func('void *dlsym(void *handle, const char *name)'),
};

let initialised = false;

/**
 * Once per thread: initialise libvirt, silence its default stderr printer with a NATIVE no-op handler
 * (`free(NULL)`; a JS callback would die with its worker and crash the next error anywhere), and register
 * the default event implementation so that connections can use keepalive.
 */
function initialise(): void {
  if (initialised) return;
  if (c.initialize() < 0) throw lastError('virInitialize');
  c.setErrorFunc(null, c.dlsym(null, 'free'));
  if (c.eventRegisterDefaultImpl() < 0) throw lastError('virEventRegisterDefaultImpl');
  initialised = true;
}

/**
 * Runs libvirt's event loop on this thread until `stop()` says so. It dispatches keepalive timers, so a
 * peer that stops answering fails the calls in progress on other threads. A 250 ms timer (with a native
 * no-op, `getpid`, as its callback: extra arguments are harmless in the SysV ABI) makes every iteration
 * return, so the thread can stop, and never holds up process exit for long.
 */
export function runEventLoop(stop: () => boolean): void {
  initialise();
  if (c.eventAddTimeout(250, c.dlsym(null, 'getpid'), null, null) < 0) throw lastError('virEventAddTimeout');
  while (!stop()) {
    if (c.eventRunDefaultImpl() < 0) throw lastError('virEventRunDefaultImpl');
  }
}

/** libvirt's last error on this thread, as plain data (then reset, so stale errors never leak into later calls). */
function lastError(fn: string): FfiError {
  const p = c.getLastError() as Ptr;
  if (isNull(p)) {
    return new FfiError({ code: VIR_ERR.OPERATION_FAILED, domain: 0, message: 'unknown libvirt error', fn });
  }
  const head = koffi.decode(p, ErrorHeadT) as { code: number; domain: number; message: string | null };
  const data = { code: head.code, domain: head.domain, message: head.message ?? 'unknown libvirt error', fn };
  c.resetLastError();
  return new FfiError(data);
}

function isNull(p: Ptr): boolean {
  return p === null || p === 0n;
}

function check(rc: number, fn: string): number {
  if (rc < 0) throw lastError(fn);
  return rc;
}

/** Decodes an array of typed parameters into a record (booleans as 0/1, 64-bit integers as Number). */
function decodeParams(p: Ptr, n: number): Record<string, TypedValue> {
  const out: Record<string, TypedValue> = {};
  if (isNull(p) || n <= 0) return out;
  const params = koffi.decode(p, TypedParamT, n) as Array<{
    field: string;
    type: number;
    value: Record<string, unknown>;
  }>;
  for (const tp of params) out[tp.field] = typedValue(tp.type, tp.value);
  return out;
}

// virTypedParameterType: 1 int, 2 uint, 3 llong, 4 ullong, 5 double, 6 boolean, 7 string.
function typedValue(type: number, v: Record<string, unknown>): TypedValue {
  switch (type) {
    case 1:
      return Number(v['i']);
    case 2:
      return Number(v['ui']);
    case 3:
      return Number(v['l']);
    case 4:
      return Number(v['ul']);
    case 5:
      return Number(v['d']);
    case 6:
      return Number(v['b']) === 0 ? 0 : 1;
    case 7:
      return String(v['s'] ?? '');
    default:
      throw new FfiError({
        code: BINDING_ERR.GARBAGE,
        domain: 0,
        message: `unknown typed-parameter type ${type}`,
        fn: 'decodeParams',
      });
  }
}

function stateName(state: number): DomainStateName {
  const name = DOMAIN_STATES[state];
  if (name === undefined) {
    throw new FfiError({
      code: BINDING_ERR.GARBAGE,
      domain: 0,
      message: `unknown domain state ${state}`,
      fn: 'state',
    });
  }
  return name;
}

/** One open libvirt connection, used from the thread that opened it only. */
export class FfiConnection {
  private conn: Ptr;

  private constructor(conn: Ptr) {
    this.conn = conn;
  }

  /** Opens `uri`; with `keepAliveIntervalS` > 0 the remote side is pinged so a dead peer fails calls in progress. */
  static open(uri: string, keepAliveIntervalS: number, keepAliveCount: number): FfiConnection {
    initialise();
    const conn = c.open(uri) as Ptr;
    if (isNull(conn)) throw lastError('virConnectOpen');
    const self = new FfiConnection(conn);
    if (keepAliveIntervalS > 0 && c.setKeepAlive(conn, keepAliveIntervalS, keepAliveCount) < 0) {
      const err = lastError('virConnectSetKeepAlive');
      // Local drivers (test:///, qemu:/// without a daemon) have no keepalive: not an error.
      if (err.data.code !== VIR_ERR.NO_SUPPORT) {
        self.close();
        throw err;
      }
    }
    return self;
  }

  private get handle(): Ptr {
    if (isNull(this.conn)) {
      throw new FfiError({
        code: BINDING_ERR.CLOSED,
        domain: 0,
        message: 'connection closed',
        fn: 'connection',
      });
    }
    return this.conn;
  }

  close(): void {
    if (isNull(this.conn)) return;
    c.close(this.conn);
    this.conn = null;
  }

  hostname(): string {
    const p = c.getHostname(this.handle) as Ptr;
    if (isNull(p)) throw lastError('virConnectGetHostname');
    try {
      return koffi.decode.string(p);
    } finally {
      c.free(p);
    }
  }

  nodeInfo(): NodeInfo {
    const info: Record<string, unknown> = {};
    check(c.nodeGetInfo(this.handle, info), 'virNodeGetInfo');
    return {
      model: String(info['model']),
      memoryKiB: Number(info['memory']),
      cpus: Number(info['cpus']),
      mhz: Number(info['mhz']),
      nodes: Number(info['nodes']),
      sockets: Number(info['sockets']),
      cores: Number(info['cores']),
      threads: Number(info['threads']),
    };
  }

  nodeMemoryStats(): NodeMemoryStats | null {
    const ALL_CELLS = -1;
    const n = [0];
    if (c.nodeGetMemoryStats(this.handle, ALL_CELLS, null, n, 0) < 0) {
      const err = lastError('virNodeGetMemoryStats');
      if (err.data.code === VIR_ERR.NO_SUPPORT) return null;
      throw err;
    }
    const count = n[0] ?? 0;
    if (count <= 0) return {};
    const buf = Buffer.alloc(NodeMemoryStatsT.size * count);
    check(c.nodeGetMemoryStats(this.handle, ALL_CELLS, buf, n, 0), 'virNodeGetMemoryStats');
    const rows = koffi.decode(buf, NodeMemoryStatsT, n[0] ?? 0) as Array<{
      field: string;
      value: number | bigint;
    }>;
    return Object.fromEntries(rows.map((r) => [r.field, Number(r.value)]));
  }

  storagePools(): StoragePoolInfo[] {
    const ACTIVE = 2;
    const out: [Ptr] = [null];
    const n = check(c.listAllStoragePools(this.handle, out, ACTIVE), 'virConnectListAllStoragePools');
    const arr = out[0];
    if (isNull(arr)) return [];
    const pools = n > 0 ? (koffi.decode(arr, 'virStoragePool *', n) as Ptr[]) : [];
    try {
      return pools.map((pool) => {
        const info: Record<string, unknown> = {};
        check(c.poolGetInfo(pool, info), 'virStoragePoolGetInfo');
        return {
          name: String(c.poolGetName(pool)),
          capacityBytes: Number(info['capacity']),
          allocationBytes: Number(info['allocation']),
          availableBytes: Number(info['available']),
        };
      });
    } finally {
      for (const pool of pools) c.poolFree(pool);
      c.free(arr);
    }
  }

  listDomains(): DomainInfo[] {
    const out: [Ptr] = [null];
    const n = check(c.listAllDomains(this.handle, out, 0), 'virConnectListAllDomains');
    const arr = out[0];
    if (isNull(arr) || n === 0) {
      if (!isNull(arr)) c.free(arr);
      return [];
    }
    const doms = koffi.decode(arr, 'virDomain *', n) as Ptr[];
    try {
      return doms.map((d) => this.describe(d));
    } finally {
      for (const d of doms) c.domainFree(d);
      c.free(arr);
    }
  }

  private describe(dom: Ptr): DomainInfo {
    const info: Record<string, unknown> = {};
    check(c.domainGetInfo(dom, info), 'virDomainGetInfo');
    const uuid = Buffer.alloc(37);
    check(c.domainGetUuidString(dom, uuid), 'virDomainGetUUIDString');
    const persistent = check(c.domainIsPersistent(dom), 'virDomainIsPersistent') === 1;
    return {
      name: String(c.domainGetName(dom)),
      uuid: uuid.toString('latin1', 0, 36),
      state: stateName(Number(info['state'])),
      maxMemKiB: Number(info['maxMem']),
      memKiB: Number(info['memory']),
      vcpus: Number(info['nrVirtCpu']),
      cpuTimeNs: Number(info['cpuTime']),
      persistent,
    };
  }

  allDomainStats(groups: number): DomainStats[] {
    const out: [Ptr] = [null];
    const n = check(c.getAllDomainStats(this.handle, groups, out, 0), 'virConnectGetAllDomainStats');
    const list = out[0];
    if (isNull(list)) return [];
    try {
      const recPtrs = koffi.decode(list, 'void *', n) as Ptr[];
      return recPtrs.map((rp) => {
        const rec = koffi.decode(rp, StatsRecordT) as { dom: Ptr; params: Ptr; nparams: number };
        return { name: String(c.domainGetName(rec.dom)), stats: decodeParams(rec.params, rec.nparams) };
      });
    } finally {
      c.statsRecordListFree(list);
    }
  }

  /** Runs `fn` on the named domain and frees the handle after (libvirt error 42 when there is no such domain). */
  private withDomain<T>(name: string, fn: (dom: Ptr) => T): T {
    const dom = c.lookupByName(this.handle, name) as Ptr;
    if (isNull(dom)) throw lastError('virDomainLookupByName');
    try {
      return fn(dom);
    } finally {
      c.domainFree(dom);
    }
  }

  domainState(name: string): DomainStateName | null {
    try {
      return this.withDomain(name, (d) => this.describe(d).state);
    } catch (e) {
      if (e instanceof FfiError && e.data.code === VIR_ERR.NO_DOMAIN) return null;
      throw e;
    }
  }

  startDirtyRateCalc(name: string, seconds: number): void {
    // flags 0 = page sampling: the only mode safe on TCG guests.
    this.withDomain(name, (d) => check(c.startDirtyRateCalc(d, seconds, 0), 'virDomainStartDirtyRateCalc'));
  }

  migrateToUri3(name: string, destUri: string, params: MigrateParams, flags: number): void {
    const p: [Ptr] = [null];
    const n = [0];
    const max = [0];
    try {
      if (params.bandwidthMiBps !== undefined && params.bandwidthMiBps > 0) {
        check(c.paramsAddULLong(p, n, max, 'bandwidth', BigInt(Math.round(params.bandwidthMiBps))), 'params');
      }
      if (params.migrateUri !== undefined)
        check(c.paramsAddString(p, n, max, 'migrate_uri', params.migrateUri), 'params');
      if (params.listenAddress !== undefined) {
        check(c.paramsAddString(p, n, max, 'listen_address', params.listenAddress), 'params');
      }
      this.withDomain(name, (d) =>
        check(c.migrateToUri3(d, destUri, p[0], n[0] ?? 0, flags), 'virDomainMigrateToURI3'),
      );
    } finally {
      if (!isNull(p[0])) c.paramsFree(p[0], n[0] ?? 0);
    }
  }

  setMaxDowntime(name: string, downtimeMs: number): void {
    this.withDomain(name, (d) =>
      check(c.setMaxDowntime(d, BigInt(Math.round(downtimeMs)), 0), 'virDomainMigrateSetMaxDowntime'),
    );
  }

  getMaxDowntime(name: string): number {
    return this.withDomain(name, (d) => {
      const out = [0n];
      check(c.getMaxDowntime(d, out, 0), 'virDomainMigrateGetMaxDowntime');
      return Number(out[0]);
    });
  }

  jobStats(name: string): JobStats {
    return this.withDomain(name, (d) => {
      const type = [0];
      const params: [Ptr] = [null];
      const n = [0];
      check(c.getJobStats(d, type, params, n, 0), 'virDomainGetJobStats');
      try {
        return { type: type[0] ?? 0, stats: decodeParams(params[0], n[0] ?? 0) };
      } finally {
        if (!isNull(params[0])) c.paramsFree(params[0], n[0] ?? 0);
      }
    });
  }

  abortJob(name: string): void {
    this.withDomain(name, (d) => check(c.abortJob(d), 'virDomainAbortJob'));
  }

  defineXml(xml: string): string {
    const dom = c.defineXml(this.handle, xml) as Ptr;
    if (isNull(dom)) throw lastError('virDomainDefineXML');
    try {
      return String(c.domainGetName(dom));
    } finally {
      c.domainFree(dom);
    }
  }

  start(name: string): void {
    this.withDomain(name, (d) => check(c.create(d), 'virDomainCreate'));
  }

  destroy(name: string): void {
    this.withDomain(name, (d) => check(c.destroy(d), 'virDomainDestroy'));
  }

  undefine(name: string): void {
    this.withDomain(name, (d) => check(c.undefine(d), 'virDomainUndefine'));
  }
}

/** The struct layouts declared above, for the contract test that checks them against libvirt's ABI. */
export const STRUCT_LAYOUTS = {
  virNodeInfo: NodeInfoT,
  virDomainInfo: DomainInfoT,
  virTypedParameter: TypedParamT,
  virNodeMemoryStats: NodeMemoryStatsT,
  virDomainStatsRecord: StatsRecordT,
  virStoragePoolInfo: StoragePoolInfoT,
} as const;
