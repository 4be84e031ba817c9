import { ConfigError } from '../errors.js';
import type { Cluster, Host } from '../model/cluster.js';
import type { Policy, ThresholdMode } from '../model/policy.js';
import type { SourceHints } from '../inventory/types.js';
import { BUILTIN_DEFAULTS } from './defaults.js';
import { type Config, type HostConfig, configSchema } from './schema.js';

/** One run's overrides from `plan` flags: `--minimal N --target N --threshold-mode M --failover-reserve N`. */
export interface PolicyOverrides {
  minimal?: number;
  target?: number;
  mode?: ThresholdMode;
  failoverReserveHosts?: number;
}

const THRESHOLD_MODES: readonly ThresholdMode[] = ['average', 'per_host'];

/** The flag each override comes from, for messages. */
const FLAG = {
  minimal: '--minimal',
  target: '--target',
  mode: '--threshold-mode',
  failoverReserveHosts: '--failover-reserve',
} as const;

/**
 * The planner's policy. Precedence, per field: `overrides` (plan flags) > `config` > `hints` (the
 * cluster file's own policy, e.g. Ganeti's ipolicy) > BUILTIN_DEFAULTS. Threshold numbers from the
 * hints or the defaults belong to a mode: they apply only when the resolved mode is theirs.
 * Throws ConfigError for an invalid override (naming the flag) or an explicit minimal > target.
 */
export function resolvePolicy(
  config: Config | undefined,
  hints: SourceHints,
  overrides: PolicyOverrides,
): Policy {
  validateOverrides(overrides);
  const cfg = config ?? configSchema.parse({});
  return {
    standard: resolveStandard(cfg, hints),
    overcommit: {
      cpu: cfg.overcommit.cpu ?? hints.overcommit?.cpu ?? BUILTIN_DEFAULTS.overcommit.cpu,
      mem: cfg.overcommit.memory ?? hints.overcommit?.mem ?? BUILTIN_DEFAULTS.overcommit.mem,
      disk: cfg.overcommit.disk ?? hints.overcommit?.disk ?? BUILTIN_DEFAULTS.overcommit.disk,
    },
    thresholds: resolveThresholds(cfg, hints, overrides),
    safety: resolveSafety(cfg, hints, overrides),
    migration: {
      maxParallel: cfg.migration.max_parallel,
      maxPerHost: cfg.migration.max_per_host,
      bandwidthMiBps: cfg.migration.bandwidth,
      maxDowntimeMs: cfg.migration.max_downtime,
      ...(cfg.migration.max_migration_time !== undefined && {
        maxMigrationSeconds: cfg.migration.max_migration_time / 1000,
      }),
      ...(cfg.migration.plan_time_budget !== undefined && {
        planBudgetSeconds: cfg.migration.plan_time_budget / 1000,
      }),
    },
    antiAffinity: cfg.anti_affinity ?? hints.antiAffinity ?? BUILTIN_DEFAULTS.antiAffinity,
    ...(cfg.usage?.enabled && { usage: { cpuCap: cfg.usage.cpu_cap } }),
  };
}

function resolveStandard(cfg: Config, hints: SourceHints): Policy['standard'] {
  const s = cfg.standard_instance;
  if (s) return { cpu: s.vcpus, memMiB: s.memory, diskGiB: s.disk };
  return hints.standard ?? BUILTIN_DEFAULTS.standard;
}

type ThresholdKey = 'minimal' | 'target';

/**
 * Thresholds per key: flag > config > the file's (when of the resolved mode) > default for the mode.
 * A flag or config value is explicit; when it crosses a value that is not (e.g. `--target 1` against
 * the default minimal 2, as hsqueeze allows), the other side follows it. Two explicit values that
 * cross are an error.
 */
function resolveThresholds(
  cfg: Config,
  hints: SourceHints,
  overrides: PolicyOverrides,
): Policy['thresholds'] {
  const mode = overrides.mode ?? cfg.thresholds.mode ?? hints.thresholds?.mode ?? BUILTIN_DEFAULTS.mode;
  const hinted = hints.thresholds && (hints.thresholds.mode ?? mode) === mode ? hints.thresholds : {};
  const pick = (key: ThresholdKey): { value: number; from: string; explicit: boolean } => {
    const o = overrides[key];
    if (o !== undefined) return { value: o, from: FLAG[key], explicit: true };
    const c = cfg.thresholds[key];
    if (c !== undefined) return { value: c, from: `thresholds.${key} (config)`, explicit: true };
    const h = hinted[key];
    if (h !== undefined) return { value: h, from: `the cluster file's ${key}`, explicit: false };
    return {
      value: BUILTIN_DEFAULTS.thresholds[mode][key],
      from: `the default ${key} for ${mode}`,
      explicit: false,
    };
  };
  const minimal = pick('minimal');
  const target = pick('target');
  if (minimal.value <= target.value) return { minimal: minimal.value, target: target.value, mode };
  if (minimal.explicit && !target.explicit) return { minimal: minimal.value, target: minimal.value, mode };
  if (target.explicit && !minimal.explicit) return { minimal: target.value, target: target.value, mode };
  throw new ConfigError(
    `${minimal.from} ${minimal.value} is above ${target.from} ${target.value}: expected minimal <= target`,
  );
}

function resolveSafety(cfg: Config, hints: SourceHints, overrides: PolicyOverrides): Policy['safety'] {
  const s = cfg.safety;
  const h = hints.safety ?? {};
  const d = BUILTIN_DEFAULTS.safety;
  return {
    minOnlineHosts: s.min_online_hosts ?? h.minOnlineHosts ?? d.minOnlineHosts,
    failoverReserveHosts:
      overrides.failoverReserveHosts ??
      s.failover_reserve_hosts ??
      h.failoverReserveHosts ??
      d.failoverReserveHosts,
    maxPowerOffPerRun: s.max_power_off_per_run ?? h.maxPowerOffPerRun ?? d.maxPowerOffPerRun,
    maxPowerOnPerRun: s.max_power_on_per_run ?? h.maxPowerOnPerRun ?? d.maxPowerOnPerRun,
  };
}

function validateOverrides(o: PolicyOverrides): void {
  for (const key of ['minimal', 'target'] as const) {
    const v = o[key];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0))
      throw new ConfigError(`${FLAG[key]}: expected a number >= 0, got ${String(v)}`);
  }
  if (o.mode !== undefined && !THRESHOLD_MODES.includes(o.mode))
    throw new ConfigError(`${FLAG.mode}: expected average or per_host, got ${JSON.stringify(o.mode)}`);
  const r = o.failoverReserveHosts;
  if (r !== undefined && !(Number.isInteger(r) && r >= 0))
    throw new ConfigError(`${FLAG.failoverReserveHosts}: expected a whole number >= 0, got ${String(r)}`);
}

/**
 * The config's per-host settings (exclude, drain, idle_w, max_w) laid over a cluster's hosts, for a
 * cluster file planned with a config. Fields the config leaves unset keep the file's value. Config
 * hosts the cluster does not have give a warning each.
 */
export function applyHostOverrides(
  cluster: Cluster,
  hosts: readonly HostConfig[],
): { cluster: Cluster; warnings: string[] } {
  if (hosts.length === 0) return { cluster, warnings: [] };
  const byId = new Map(hosts.map((h) => [h.id, h]));
  const known = new Set(cluster.hosts.map((h) => h.id));
  const warnings = hosts
    .filter((h) => !known.has(h.id))
    .map((h) => `hosts: "${h.id}" is not in the cluster (${cluster.source}); its settings are ignored`);
  const patched = cluster.hosts.map((h) => {
    const c = byId.get(h.id);
    return c ? overrideHost(h, c) : h;
  });
  return { cluster: { ...cluster, hosts: patched }, warnings };
}

function overrideHost(host: Host, c: HostConfig): Host {
  return {
    ...host,
    ...(c.exclude !== undefined && { exclude: c.exclude }),
    ...(c.drain !== undefined && { drain: c.drain }),
    ...(c.idle_w !== undefined && { idleWatts: c.idle_w }),
    ...(c.max_w !== undefined && { maxWatts: c.max_w }),
  };
}
