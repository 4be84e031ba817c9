import type { HostState } from '../model/cluster.js';
import type { Decision, HostOutcome, Migration, Plan } from '../planner/plan.js';

/** The plan JSON format id (DESIGN.md 4.2). */
export const PLAN_FORMAT = 'virt-squeeze-plan/v1';

/** Hours in a day: the kWh/day figure assumes the saving holds around the clock. */
const HOURS_PER_DAY = 24;

/** One migration in the plan JSON. */
export interface MigrationJson {
  vm: string;
  from: string;
  to: string;
  mem_mib: number;
  est_seconds: number;
  /** Present when the planner judged pre-copy convergence. */
  converges?: boolean;
}

/** One host's outcome in the plan JSON. */
export interface HostJson {
  id: string;
  state_before: HostState;
  state_after: HostState;
  fit_before: number;
  fit_after: number;
  mem_pct_before: number;
  mem_pct_after: number;
  cpu_pct_before: number;
  cpu_pct_after: number;
  why: string;
}

/** `virt-squeeze plan --format json`: DESIGN.md 4.2 plus `left_out`, `warnings` and per-host percentages. */
export interface PlanJson {
  format: typeof PLAN_FORMAT;
  decision: Decision;
  reason: string;
  metric: { mode: string; before: number; after: number; minimal: number; target: number };
  power_on: string[];
  waves: MigrationJson[][];
  power_off: string[];
  hosts: HostJson[];
  left_out: Array<{ kind: 'vm' | 'host'; id: string; reason: string }>;
  warnings: string[];
  summary: {
    migrations: number;
    migrated_mem_mib: number;
    waves: number;
    est_makespan_seconds: number;
    hosts_on_before: number;
    hosts_on_after: number;
    est_power_saved_w: number;
    est_energy_saved_kwh_per_day: number;
    plan_ms: number;
  };
}

/** Energy saved per day, kWh, if the power saving holds for 24 hours. */
export function kwhPerDay(watts: number): number {
  return (watts * HOURS_PER_DAY) / 1000;
}

function migrationJson(m: Migration): MigrationJson {
  const out: MigrationJson = {
    vm: m.vm,
    from: m.from,
    to: m.to,
    mem_mib: m.memMiB,
    est_seconds: m.estSeconds,
  };
  if (m.converges !== undefined) out.converges = m.converges;
  return out;
}

function hostJson(h: HostOutcome): HostJson {
  return {
    id: h.id,
    state_before: h.stateBefore,
    state_after: h.stateAfter,
    fit_before: h.fitBefore,
    fit_after: h.fitAfter,
    mem_pct_before: h.memPctBefore,
    mem_pct_after: h.memPctAfter,
    cpu_pct_before: h.cpuPctBefore,
    cpu_pct_after: h.cpuPctAfter,
    why: h.why,
  };
}

/** The plan in the snake_case JSON contract (DESIGN.md 4.2). Pure: same plan, same JSON. */
export function toPlanJson(plan: Plan): PlanJson {
  const s = plan.summary;
  return {
    format: PLAN_FORMAT,
    decision: plan.decision,
    reason: plan.reason,
    metric: { ...plan.metric },
    power_on: [...plan.powerOn],
    waves: plan.waves.map((wave) => wave.map(migrationJson)),
    power_off: [...plan.powerOff],
    hosts: plan.hosts.map(hostJson),
    left_out: plan.leftOut.map((l) => ({ kind: l.kind, id: l.id, reason: l.reason })),
    warnings: [...plan.warnings],
    summary: {
      migrations: s.migrations,
      migrated_mem_mib: s.migratedMemMiB,
      waves: s.waves,
      est_makespan_seconds: s.estMakespanSeconds,
      hosts_on_before: s.hostsOnBefore,
      hosts_on_after: s.hostsOnAfter,
      est_power_saved_w: s.estPowerSavedWatts,
      est_energy_saved_kwh_per_day: kwhPerDay(s.estPowerSavedWatts),
      plan_ms: s.planMs,
    },
  };
}
