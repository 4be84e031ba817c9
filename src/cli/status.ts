import { existsSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { loadContext, type RunContext } from '../app/context.js';
import type { HostConfig } from '../config/schema.js';
import { InputError } from '../errors.js';
import { libvirtProbe as liveProbe, liveReader } from '../app/live.js';
import { applyStoreTags } from '../app/store-tags.js';
import type { LibvirtHostProbe } from '../inventory/libvirt/index.js';
import { Occupancy } from '../model/capacity.js';
import type { Cluster, Host } from '../model/cluster.js';
import { clusterMetric, fitPerHost, metricHosts } from '../model/metric.js';
import { estimateSavings } from '../power/energy.js';
import { createHostPower } from '../power/registry.js';
import { powerDefaultsSchema, powerTiming } from '../power/schema.js';
import type { PowerTiming } from '../power/sequences.js';
import type { HostPower, PowerState } from '../power/types.js';
import { DEFAULT_STATE_PATH, openStateStore, type HostTag, type SqliteStateStore } from '../state/index.js';
import type { Io } from './io.js';
import { addSourceOptions } from './plan.js';

/** Deadline of one libvirt look or BMC status read from the CLI. */
const CLI_LOOK_TIMEOUT_MS = 20_000;

/** What the status and host commands work on: the cluster, the policy, and each host's power control. */
export interface PowerEnv {
  readonly run: RunContext;
  readonly statePath: string;
  readonly timing: PowerTiming;
  /** Host ids from the cluster and the config's `hosts:`. */
  readonly hostIds: readonly string[];
  hostConfig(hostId: string): HostConfig | undefined;
  powerFor(hostId: string): HostPower | undefined;
}

/** Reads the config and the cluster (file, or live libvirt over the hosts' URIs). */
export async function loadPowerEnv(flags: { config?: string; cluster?: string }): Promise<PowerEnv> {
  const run = await loadContext(
    { configPath: flags.config, clusterPath: flags.cluster },
    liveReader({ perHostTimeoutMs: CLI_LOOK_TIMEOUT_MS, sampleIntervalMs: 0 }),
  );
  const hosts = run.config?.config.hosts ?? [];
  const byId = new Map(hosts.map((h) => [h.id, h]));
  const powers = new Map<string, HostPower>();
  for (const h of hosts) if (h.power) powers.set(h.id, createHostPower(h.id, h.power));
  const ids = [...new Set([...run.cluster.hosts.map((h) => h.id), ...hosts.map((h) => h.id)])];
  return {
    run,
    statePath: run.config?.config.state.path ?? DEFAULT_STATE_PATH,
    timing: powerTiming(run.config?.config.power ?? powerDefaultsSchema.parse({})),
    hostIds: ids,
    hostConfig: (id) => byId.get(id),
    powerFor: (id) => powers.get(id),
  };
}

/** A libvirt probe over the configured URIs (live clusters). */
export function libvirtProbe(run: RunContext): LibvirtHostProbe {
  return liveProbe(run.config, CLI_LOOK_TIMEOUT_MS);
}

/** Throws InputError unless the host is in the cluster or the config. */
export function requireHost(env: PowerEnv, hostId: string): void {
  if (!env.hostIds.includes(hostId))
    throw new InputError(`unknown host "${hostId}" (known: ${env.hostIds.join(', ') || 'none'})`);
}

/** The store for reading: undefined when it does not exist yet (nothing was ever tagged), so `status` creates nothing. */
export function openStoreIfPresent(path: string): SqliteStateStore | undefined {
  return existsSync(path) ? openStateStore(path, { readonly: true }) : undefined;
}

/** One host's line of `status`. */
export interface HostStatus {
  readonly id: string;
  /** The cluster's view: on, standby, off, unknown. */
  readonly state: Host['state'] | 'absent';
  /** The BMC's (or site command's) answer when the host has a power section. */
  readonly power?: PowerState | `error: ${string}`;
  readonly vms: number;
  /** Standard instances it can still take (online hosts only). */
  readonly freeStandard?: number;
  readonly exclude: boolean;
  readonly tags: readonly HostTag[];
}

export interface ClusterStatus {
  readonly source: string;
  readonly statePath: string;
  readonly stateExists: boolean;
  readonly hosts: readonly HostStatus[];
  readonly metric: {
    readonly mode: string;
    readonly value: number;
    readonly minimal: number;
    readonly target: number;
  };
  readonly freeStandardTotal: number;
  readonly standbySavings: { readonly watts: number; readonly kWhPerDay: number };
  readonly warnings: readonly string[];
  readonly lock?: {
    readonly runId: string;
    readonly pid: number;
    readonly hostname: string;
    readonly sinceMs: number;
  };
}

async function powerState(p: HostPower | undefined): Promise<HostStatus['power']> {
  if (!p || !p.hasStatus) return undefined;
  try {
    return await p.status(AbortSignal.timeout(CLI_LOOK_TIMEOUT_MS));
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

/** Gathers `status`: cluster state, BMC power states, tags, free standard instances, savings. */
export async function clusterStatus(env: PowerEnv): Promise<ClusterStatus> {
  const store = openStoreIfPresent(env.statePath);
  try {
    const { cluster, warnings } = applyStoreTags(
      env.run.cluster,
      store?.tags() ?? [],
      store?.hostCapacities(),
      env.run.warnings,
    );
    const { policy } = env.run;
    const occ = new Occupancy(cluster, policy);
    const online = metricHosts(cluster.hosts);
    const fits = fitPerHost(occ, online);
    const vmCount = countVms(cluster);
    const powers = await Promise.all(env.hostIds.map((id) => powerState(env.powerFor(id))));
    const hosts = env.hostIds.map((id, i): HostStatus => {
      const h = cluster.hosts.find((x) => x.id === id);
      const tags = store?.tags(id) ?? [];
      const power = powers[i];
      return {
        id,
        state: h?.state ?? 'absent',
        ...(power !== undefined ? { power } : {}),
        vms: vmCount.get(id) ?? 0,
        ...(fits.has(id) ? { freeStandard: fits.get(id)! } : {}),
        exclude: Boolean(h?.exclude) || tags.some((t) => t.tag === 'exclude'),
        tags,
      };
    });
    const down = cluster.hosts.filter(
      (h) => h.state === 'standby' || hosts.find((s) => s.id === h.id)?.power === 'off',
    );
    const savings = estimateSavings(
      down.map((h) => ({ id: h.id, idleWatts: h.idleWatts, maxWatts: h.maxWatts })),
    );
    const lock = store?.lockHolder();
    return {
      source: cluster.source,
      statePath: env.statePath,
      stateExists: store !== undefined,
      hosts,
      metric: {
        mode: policy.thresholds.mode,
        value: clusterMetric(occ, online),
        minimal: policy.thresholds.minimal,
        target: policy.thresholds.target,
      },
      freeStandardTotal: [...fits.values()].reduce((a, b) => a + b, 0),
      standbySavings: { watts: savings.watts, kWhPerDay: savings.kWhPerDay },
      warnings,
      ...(lock ? { lock } : {}),
    };
  } finally {
    store?.close();
  }
}

function countVms(cluster: Cluster): Map<string, number> {
  const n = new Map<string, number>();
  for (const vm of cluster.vms) if (vm.host !== null) n.set(vm.host, (n.get(vm.host) ?? 0) + 1);
  return n;
}

function tagText(t: HostTag): string {
  return `${t.tag} (${t.by}, ${new Date(t.atMs).toISOString().slice(0, 16)}Z: ${t.why})`;
}

/** The text table of `status`. */
export function renderStatus(s: ClusterStatus): string {
  const rows = s.hosts.map((h) => [
    h.id,
    h.state,
    h.power === undefined ? '-' : h.power.startsWith('error') ? 'error' : h.power,
    String(h.vms),
    h.freeStandard === undefined ? '-' : String(h.freeStandard),
    [...(h.exclude ? ['excluded'] : []), ...h.tags.filter((t) => t.tag !== 'exclude').map(tagText)].join(
      '; ',
    ),
  ]);
  const head = ['HOST', 'STATE', 'POWER', 'VMS', 'FREE_STD', 'TAGS'];
  const widths = head.map((title, i) => Math.max(title.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const errors = s.hosts.filter((h) => h.power?.startsWith('error')).map((h) => `  ${h.id}: ${h.power}`);
  const m = s.metric;
  return [
    `cluster: ${s.source}`,
    line(head),
    ...rows.map(line),
    '',
    `free standard instances: ${s.freeStandardTotal} in all; metric (${m.mode}) ${round(m.value)} (minimal ${m.minimal}, target ${m.target})`,
    `powered down: saves ~${round(s.standbySavings.watts)} W, ${round(s.standbySavings.kWhPerDay)} kWh/day`,
    `state: ${s.statePath}${s.stateExists ? '' : ' (not created yet)'}; run lock: ${s.lock ? `held by run ${s.lock.runId} (pid ${s.lock.pid} on ${s.lock.hostname})` : 'free'}`,
    ...(errors.length ? ['power read errors:', ...errors] : []),
    ...s.warnings.map((w) => `warning: ${w}`),
    '',
  ].join('\n');
}

function round(n: number): string {
  return String(Math.round(n * 10) / 10);
}

export function registerStatus(program: Command, io: Io): void {
  const cmd = program
    .command('status')
    .description('Hosts, power state (from the BMC where configured), tags, free standard instances')
    .addOption(new Option('-f, --format <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (flags: { config?: string; cluster?: string; format: 'text' | 'json' }) => {
      const status = await clusterStatus(await loadPowerEnv(flags));
      io.out(flags.format === 'json' ? `${JSON.stringify(status, null, 2)}\n` : renderStatus(status));
    });
  addSourceOptions(cmd);
}
