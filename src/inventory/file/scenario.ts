import { z } from 'zod';
import { InputError } from '../../errors.js';
import type { Cluster, Host, HostState, Vm } from '../../model/cluster.js';
import { ZERO } from '../../model/resources.js';
import type { InventoryResult, SourceHints } from '../types.js';
import { parseKeptJson, readJsonSkipping } from './json-read.js';

/**
 * `squeeze-scenario/v1` cluster files (../shared/bench-data/FORMAT.md plus DESIGN.md 4.1's extra
 * fields). The top level is checked with zod; the hot arrays (up to 460 k VMs) by hand, because a
 * zod parse per VM object costs more than the whole JSON.parse. Events are left out while reading
 * (the planner plans one snapshot) and only counted in a warning.
 */

export const SCENARIO_FORMAT = 'squeeze-scenario/v1';

/** Usage-aware loading: observed load from each VM's trace. Off (undefined) by default. */
export interface UsageOptions {
  /** Percentile (0 < p <= 100, nearest rank) of the trace samples, e.g. 95. */
  readonly percentile: number;
  /** Look-back window: the last N samples of the trace (the trace is read as history up to now); default all. */
  readonly lookbackSamples?: number;
  /** Look-back window as a duration (the config's `usage.lookback`), converted with the file's sample period. */
  readonly lookbackMs?: number;
}

export interface ScenarioOptions {
  readonly usage?: UsageOptions;
}

const policySchema = z
  .object({
    cpu_overcommit: z.number().positive().optional(),
    mem_overcommit: z.number().positive().optional(),
    disk_overcommit: z.number().positive().optional(),
    cpu_usage_cap: z.number().positive().optional(),
    anti_affinity_groups: z.boolean().optional(),
  })
  .loose();

const topSchema = z
  .object({
    format: z.literal(SCENARIO_FORMAT),
    name: z.string().optional(),
    policy: policySchema.optional(),
    hosts: z.array(z.unknown()),
    vms: z.array(z.unknown()),
    traces: z.record(z.string(), z.unknown()).optional(),
    events: z.array(z.unknown()).optional(),
    sample_period_s: z.number().positive().optional(),
  })
  .loose();

/** Usage series in per-mille of the VM's allocation. */
interface Trace {
  readonly cpu: readonly number[];
  readonly mem?: readonly number[];
}

/** Reads a scenario from a byte stream (already gunzipped), leaving the events out. */
export async function loadScenario(
  chunks: AsyncIterable<Buffer>,
  file: string,
  opts: ScenarioOptions = {},
): Promise<InventoryResult> {
  const kept = await readJsonSkipping(chunks, new Set(['events']));
  const events = kept.skipped.reduce((n, r) => n + (r.key === 'events' ? r.elements : 0), 0);
  const result = scenarioFromJson(parseKeptJson(kept, file), file, opts);
  if (events === 0) return result;
  return {
    ...result,
    warnings: [
      ...result.warnings,
      `${file}: ${events} create/delete events ignored (the planner plans one snapshot)`,
    ],
  };
}

/** Maps a parsed scenario object to the model; every defect is an InputError naming file and JSON path. */
export function scenarioFromJson(json: unknown, file: string, opts: ScenarioOptions = {}): InventoryResult {
  const top = topSchema.safeParse(json);
  if (!top.success) {
    const issue = top.error.issues[0]!;
    throw new InputError(`${file}: ${jsonPath(issue.path)}: ${issue.message}`);
  }
  const doc = top.data;
  const hosts = doc.hosts.map((raw, i) => parseHost(raw, `hosts[${i}]`, file));
  const hostById = uniqueIndex(hosts, 'hosts', file);
  const traces = parseTraces(doc.traces ?? {}, file);
  const usage = opts.usage
    ? usageCache(traces, withSampleWindow(opts.usage, doc.sample_period_s), file)
    : undefined;
  const vms = doc.vms.map((raw, i) => parseVm(raw, `vms[${i}]`, file, hostById, traces, usage));
  uniqueIndex(vms, 'vms', file);
  const cluster: Cluster = { hosts, vms, source: `file:${baseName(file)}` };
  return { cluster, hints: hintsOf(doc.policy), warnings: [] };
}

function hintsOf(policy: z.infer<typeof policySchema> | undefined): SourceHints {
  if (!policy) return {};
  const overcommit = {
    ...(policy.cpu_overcommit !== undefined && { cpu: policy.cpu_overcommit }),
    ...(policy.mem_overcommit !== undefined && { mem: policy.mem_overcommit }),
    ...(policy.disk_overcommit !== undefined && { disk: policy.disk_overcommit }),
  };
  return {
    overcommit,
    ...(policy.anti_affinity_groups !== undefined && { antiAffinity: policy.anti_affinity_groups }),
  };
}

// ---- hand-checked fields (hot path) ----

class Fields {
  constructor(
    private readonly obj: Record<string, unknown>,
    private readonly path: string,
    private readonly file: string,
  ) {}

  value(key: string): unknown {
    return this.obj[key];
  }

  fail(key: string, expected: string): never {
    const got = this.obj[key];
    const shown = got === undefined ? 'nothing' : JSON.stringify(got);
    throw new InputError(`${this.file}: ${this.path}.${key}: expected ${expected}, got ${shown}`);
  }

  string(key: string): string {
    const v = this.obj[key];
    if (typeof v !== 'string' || v === '') this.fail(key, 'a non-empty string');
    return v as string;
  }

  optString(key: string): string | undefined {
    return this.obj[key] === undefined ? undefined : this.string(key);
  }

  number(key: string, rule: 'positive' | 'non-negative', integer: boolean): number {
    const v = this.obj[key];
    const ok =
      typeof v === 'number' &&
      Number.isFinite(v) &&
      (rule === 'positive' ? v > 0 : v >= 0) &&
      (!integer || Number.isInteger(v));
    if (!ok) this.fail(key, `a ${rule} ${integer ? 'integer' : 'number'}`);
    return v as number;
  }

  optNumber(key: string): number | undefined {
    return this.obj[key] === undefined ? undefined : this.number(key, 'non-negative', false);
  }

  bool(key: string): boolean {
    const v = this.obj[key];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') this.fail(key, 'true or false');
    return v as boolean;
  }
}

function fieldsOf(raw: unknown, path: string, file: string): Fields {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new InputError(`${file}: ${path}: expected an object, got ${JSON.stringify(raw)}`);
  }
  return new Fields(raw as Record<string, unknown>, path, file);
}

const HOST_STATES: readonly HostState[] = ['on', 'standby', 'off'];

function parseHost(raw: unknown, path: string, file: string): Host {
  const f = fieldsOf(raw, path, file);
  const state = (f.optString('state') ?? 'on') as HostState;
  if (!HOST_STATES.includes(state)) f.fail('state', '"on", "standby" or "off"');
  const idleWatts = f.optNumber('idle_w');
  const maxWatts = f.optNumber('max_w');
  if ((idleWatts === undefined) !== (maxWatts === undefined)) {
    f.fail(idleWatts === undefined ? 'idle_w' : 'max_w', 'idle_w and max_w together');
  }
  if (idleWatts !== undefined && maxWatts !== undefined && idleWatts > maxWatts) {
    f.fail('max_w', `a number >= idle_w (${idleWatts})`);
  }
  const rack = f.optString('rack');
  const powerDomain = f.optString('power_domain');
  const model = f.optString('model');
  return {
    id: f.string('id'),
    capacity: {
      cpu: f.number('cpu_cores', 'positive', false),
      memMiB: f.number('mem_mib', 'positive', true),
      diskGiB: f.number('disk_gib', 'non-negative', true),
    },
    reserved: ZERO,
    state,
    exclude: f.bool('exclude'),
    keepOn: false,
    drain: f.bool('drain'),
    ...(idleWatts !== undefined && { idleWatts, maxWatts }),
    ...(rack !== undefined && { rack }),
    ...(powerDomain !== undefined && { powerDomain }),
    tags: model === undefined ? [] : [`model:${model}`],
  };
}

interface UsageFigures {
  readonly cpuPerMille: number;
  readonly memPerMille?: number;
}

function parseVm(
  raw: unknown,
  path: string,
  file: string,
  hostById: ReadonlyMap<string, Host>,
  traces: ReadonlyMap<string, Trace>,
  usage: ((traceId: string) => UsageFigures) | undefined,
): Vm {
  const f = fieldsOf(raw, path, file);
  const id = f.string('id');
  const demand = {
    cpu: f.number('vcpus', 'positive', false),
    memMiB: f.number('mem_mib', 'positive', true),
    diskGiB: f.number('disk_gib', 'non-negative', true),
  };
  const hostId = hostOf(f, path, file, hostById);
  const traceId = f.optString('trace');
  if (traceId !== undefined && !traces.has(traceId)) f.fail('trace', 'the id of an entry of "traces"');
  const group = f.optString('group');
  const figures = traceId !== undefined && usage ? usage(traceId) : undefined;
  return {
    id,
    demand,
    host: hostId,
    pinned: f.bool('pinned'),
    ...(group !== undefined && { group }),
    ...(figures && { cpuLoadCores: (demand.cpu * figures.cpuPerMille) / 1000 }),
    ...(figures?.memPerMille !== undefined && {
      memUsedMiB: Math.ceil((demand.memMiB * figures.memPerMille) / 1000),
    }),
  };
}

function hostOf(f: Fields, path: string, file: string, hostById: ReadonlyMap<string, Host>): string | null {
  const raw = f.value('host');
  if (raw === null) return null;
  if (raw === undefined) f.fail('host', 'a host id or null');
  const hostId = f.string('host');
  const host = hostById.get(hostId);
  if (!host) f.fail('host', 'the id of a host in "hosts"');
  if (host!.state !== 'on') {
    throw new InputError(`${file}: ${path}.host: VM runs on host "${hostId}", which is ${host!.state}`);
  }
  return hostId;
}

function parseTraces(raw: Record<string, unknown>, file: string): Map<string, Trace> {
  const traces = new Map<string, Trace>();
  for (const [id, value] of Object.entries(raw)) {
    const path = `traces[${JSON.stringify(id)}]`;
    const f = fieldsOf(value, path, file);
    const cpu = series(f, 'cpu', file, path);
    const mem = f.value('mem') === undefined ? undefined : series(f, 'mem', file, path);
    traces.set(id, mem ? { cpu, mem } : { cpu });
  }
  return traces;
}

/** A trace series: an array of non-negative integers (checked by hand: 3 M samples in the big files). */
function series(f: Fields, key: string, file: string, path: string): number[] {
  const xs = f.value(key);
  if (!Array.isArray(xs)) f.fail(key, 'an array of per-mille integers');
  const arr = xs as unknown[];
  for (let i = 0; i < arr.length; i++) {
    const x = arr[i];
    if (typeof x !== 'number' || !Number.isInteger(x) || x < 0) {
      throw new InputError(
        `${file}: ${path}.${key}[${i}]: expected a non-negative integer, got ${JSON.stringify(x)}`,
      );
    }
  }
  return arr as number[];
}

/** A duration look-back becomes a sample count (the format's default period is 300 s). */
function withSampleWindow(opts: UsageOptions, samplePeriodS = 300): UsageOptions {
  if (opts.lookbackMs === undefined || opts.lookbackSamples !== undefined) return opts;
  return { ...opts, lookbackSamples: Math.max(1, Math.ceil(opts.lookbackMs / (samplePeriodS * 1000))) };
}

/** Per-trace percentile figures, computed once per trace (many VMs share a trace). */
function usageCache(
  traces: ReadonlyMap<string, Trace>,
  opts: UsageOptions,
  file: string,
): (traceId: string) => UsageFigures {
  if (!(opts.percentile > 0 && opts.percentile <= 100)) {
    throw new InputError(`${file}: usage percentile must be in (0, 100], got ${opts.percentile}`);
  }
  const cache = new Map<string, UsageFigures>();
  return (traceId) => {
    let figures = cache.get(traceId);
    if (!figures) {
      const t = traces.get(traceId)!;
      const mem = t.mem && percentile(window(t.mem, opts.lookbackSamples), opts.percentile);
      figures = {
        cpuPerMille: percentile(window(t.cpu, opts.lookbackSamples), opts.percentile),
        ...(mem !== undefined && { memPerMille: mem }),
      };
      cache.set(traceId, figures);
    }
    return figures;
  };
}

function window(samples: readonly number[], lookback: number | undefined): readonly number[] {
  return lookback === undefined || lookback >= samples.length ? samples : samples.slice(-lookback);
}

/** Nearest-rank percentile; an empty series counts as full use (no data = allocation). */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 1000;
  const sorted = Float64Array.from(samples).sort();
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function uniqueIndex<T extends { id: string }>(
  items: readonly T[],
  what: string,
  file: string,
): Map<string, T> {
  const byId = new Map<string, T>();
  items.forEach((item, i) => {
    if (byId.has(item.id)) {
      const first = items.findIndex((x) => x.id === item.id);
      throw new InputError(`${file}: ${what}[${i}].id: duplicate id "${item.id}" (also ${what}[${first}])`);
    }
    byId.set(item.id, item);
  });
  return byId;
}

function jsonPath(path: readonly PropertyKey[], continued = false): string {
  let out = '';
  for (const p of path)
    out += typeof p === 'number' ? `[${p}]` : out === '' && !continued ? String(p) : `.${String(p)}`;
  return out === '' ? '(top level)' : out;
}

function baseName(file: string): string {
  return file.slice(file.lastIndexOf('/') + 1);
}
