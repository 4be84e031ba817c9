import type { HostState } from '../model/cluster.js';
import type { ThresholdMode } from '../model/policy.js';

/** What a run decided. */
export type Decision = 'squeeze' | 'expand' | 'none';

/** One live migration. */
export interface Migration {
  readonly vm: string;
  readonly from: string;
  readonly to: string;
  /** Memory the migration copies, MiB. */
  readonly memMiB: number;
  /** Estimated duration, seconds. */
  readonly estSeconds: number;
  /** False when pre-copy is not expected to converge within the allowed downtime. */
  readonly converges?: boolean;
}

/** Migrations that run at the same time; waves run one after another. */
export type Wave = readonly Migration[];

/** Per-host outcome with the one-line why (or why not) the report shows. */
export interface HostOutcome {
  readonly id: string;
  readonly stateBefore: HostState;
  readonly stateAfter: HostState;
  /** Standard instances the host can accept before / after the plan (0 when not online). */
  readonly fitBefore: number;
  readonly fitAfter: number;
  /** Allocated share of the host's limit (after overcommit), percent, before / after the plan. */
  readonly memPctBefore: number;
  readonly memPctAfter: number;
  readonly cpuPctBefore: number;
  readonly cpuPctAfter: number;
  readonly why: string;
}

/** A VM or host the planner would have moved or switched but left out, and which limit stopped it. */
export interface LeftOut {
  readonly kind: 'vm' | 'host';
  readonly id: string;
  readonly reason: string;
}

/**
 * A plan: power-ons (booted and verified first), then waves one after another, then power-offs.
 * Produced by the pure planner; checked by {@link checkPlan}; rendered by report/.
 */
export interface Plan {
  readonly decision: Decision;
  readonly reason: string;
  readonly metric: {
    readonly mode: ThresholdMode;
    readonly before: number;
    readonly after: number;
    readonly minimal: number;
    readonly target: number;
  };
  readonly powerOn: readonly string[];
  readonly waves: readonly Wave[];
  readonly powerOff: readonly string[];
  readonly hosts: readonly HostOutcome[];
  readonly leftOut: readonly LeftOut[];
  readonly warnings: readonly string[];
  readonly summary: {
    readonly migrations: number;
    readonly migratedMemMiB: number;
    readonly waves: number;
    readonly estMakespanSeconds: number;
    readonly hostsOnBefore: number;
    readonly hostsOnAfter: number;
    readonly estPowerSavedWatts: number;
    readonly planMs: number;
  };
}
