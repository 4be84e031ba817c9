import type { Ratios, Resources } from './resources.js';

/** How free capacity is judged against the thresholds. */
export type ThresholdMode = 'average' | 'per_host';

/**
 * Everything the pure planner needs from the configuration, already normalised
 * (units resolved, defaults filled, cross-field rules checked).
 */
export interface Policy {
  /** The standard instance: the unit of all thresholds. */
  readonly standard: Resources;
  readonly overcommit: Ratios;
  readonly thresholds: {
    /** Below this, expand. In standard instances per online host (average) or a probe factor (per_host). */
    readonly minimal: number;
    /** Above this, squeeze, but never below it afterwards. */
    readonly target: number;
    readonly mode: ThresholdMode;
  };
  readonly safety: {
    readonly minOnlineHosts: number;
    /** The cluster must still re-host the VMs of its this-many largest hosts after a squeeze. */
    readonly failoverReserveHosts: number;
    readonly maxPowerOffPerRun: number;
    readonly maxPowerOnPerRun: number;
  };
  readonly migration: {
    /** Migrations running at once in a wave, cluster-wide. */
    readonly maxParallel: number;
    /** Migrations touching one host (incoming plus outgoing) in a wave. */
    readonly maxPerHost: number;
    /** Bandwidth per migration, MiB/s. */
    readonly bandwidthMiBps: number;
    /** Allowed stop-and-copy downtime, ms. */
    readonly maxDowntimeMs: number;
    /** Leave out VMs whose estimated migration is longer ("avoid long moves"); undefined = no limit. */
    readonly maxMigrationSeconds?: number;
    /** Time budget for the whole plan's makespan; undefined = no limit. */
    readonly planBudgetSeconds?: number;
  };
  /** Anti-affinity groups are honoured. */
  readonly antiAffinity: boolean;
  /** Usage-aware CPU packing: observed load must stay under `cpuCap` x cores on every host. */
  readonly usage?: { readonly cpuCap: number };
}
