import type { Policy, ThresholdMode } from '../model/policy.js';

/**
 * Built-in defaults for the policy fields a cluster file may also carry (standard instance,
 * overcommit, thresholds, safety, anti-affinity). They apply last: `plan` flags, then the config,
 * then the cluster file's own policy, then these.
 */
export const BUILTIN_DEFAULTS = {
  /** 2 vCPU, 4 GiB; disk 0 = not counted (shared storage is the norm for live migration). */
  standard: { cpu: 2, memMiB: 4096, diskGiB: 0 },
  /** Nova-like: 4 vCPUs per hardware thread, no memory or disk overcommit. */
  overcommit: { cpu: 4, mem: 1, disk: 1 },
  mode: 'average' as ThresholdMode,
  /** Per mode, because the numbers mean different things (instances per host vs a probe factor). */
  thresholds: {
    average: { minimal: 2, target: 4 },
    /** Ganeti hsqueeze's --minimal-resources / --target-resources defaults. */
    per_host: { minimal: 2, target: 2 },
  },
  safety: {
    minOnlineHosts: 2,
    failoverReserveHosts: 1,
    /** Power-offs are the risky action: a few per run; the next run continues. */
    maxPowerOffPerRun: 4,
    /** Waking answers a shortage: not limited by default. */
    maxPowerOnPerRun: Number.POSITIVE_INFINITY,
  },
  antiAffinity: true,
} as const satisfies {
  standard: Policy['standard'];
  overcommit: Policy['overcommit'];
  safety: Policy['safety'];
  antiAffinity: boolean;
  mode: ThresholdMode;
  thresholds: Record<ThresholdMode, { minimal: number; target: number }>;
};

/** Defaults for the sections only the config sets. */
export const CONFIG_DEFAULTS = {
  migration: { maxParallel: 4, maxPerHost: 2, bandwidth: '1000MiB/s', maxDowntime: '300ms' },
  usage: { cpuCap: '80%', percentile: 95, lookback: '24h' },
} as const;

/**
 * A Ganeti cluster's own decision defaults, for its inventory's SourceHints: hsqueeze's thresholds
 * (2.0 / 2.0, per_host), no failover reserve beyond Ganeti's own checks, no per-run power limits,
 * and one node may be left (hsqueeze never powers off the master).
 */
export const GANETI_DEFAULT_HINTS = {
  thresholds: { mode: 'per_host', minimal: 2, target: 2 },
  safety: {
    minOnlineHosts: 1,
    failoverReserveHosts: 0,
    maxPowerOffPerRun: Number.POSITIVE_INFINITY,
    maxPowerOnPerRun: Number.POSITIVE_INFINITY,
  },
} as const satisfies { thresholds: Policy['thresholds']; safety: Policy['safety'] };
