import type { Migrator } from '../migration/types.js';
import type { Migration, Plan } from '../planner/plan.js';
import type { JournalEntry } from '../state/types.js';

/** Result of one power action; `quarantined` when a wake failed and the host was tagged wake-failed. */
export interface PowerActionResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly quarantined?: boolean;
}

/** The power side the executor needs: verified wake and checked power-off (fresh look first) of one host. */
export interface PowerActions {
  wake(hostId: string, signal: AbortSignal): Promise<PowerActionResult>;
  powerOff(hostId: string, signal: AbortSignal): Promise<PowerActionResult>;
}

export interface ExecutorDeps {
  readonly migrator: Migrator;
  readonly power: PowerActions;
  /**
   * Durable journal of the migrations: intent before each starts, outcome after it ends (DESIGN.md 5.4).
   * Power actions journal themselves (power/sequences.ts), with the host's fresh look inside.
   */
  readonly journal: (entry: Omit<JournalEntry, 'runId' | 'atMs'>) => void;
  /** Per-migration timeout from its estimate. */
  readonly migrationTimeoutMs: (m: Migration) => number;
  readonly signal?: AbortSignal;
}

export type ActionKind = 'power_on' | 'migrate' | 'power_off';

/** Outcome of one action of the plan, for reports and metrics. */
export interface ActionOutcome {
  readonly kind: ActionKind;
  readonly target: string;
  readonly ok: boolean;
  readonly durationMs: number;
  readonly error?: string;
}

/** What an execution did. `stoppedAt` names the step where it stopped after a failure. */
export interface ExecutionResult {
  readonly outcomes: readonly ActionOutcome[];
  readonly completed: boolean;
  readonly stoppedAt?: string;
  /** A host failed to wake and was quarantined: the caller re-plans from fresh state. */
  readonly replan: boolean;
}

/**
 * Carries out a plan in its contract order: verified power-ons, then waves (migrations of a wave in
 * parallel), then checked power-offs. Stops at the first failed step (DESIGN.md 5.3): a failed
 * migration leaves its VM on the source, the rest of its wave finishes, nothing later starts, and the
 * next run re-plans from fresh state. Never throws for an action's failure; returns what happened.
 */
export async function executePlan(plan: Plan, deps: ExecutorDeps): Promise<ExecutionResult> {
  const signal = deps.signal ?? new AbortController().signal;
  const outcomes: ActionOutcome[] = [];
  const stop = (stoppedAt: string, replan = false): ExecutionResult => ({
    outcomes,
    completed: false,
    stoppedAt,
    replan,
  });

  for (const host of plan.powerOn) {
    if (signal.aborted) return stop(`power_on ${host}: aborted`);
    const r = await timed('power_on', host, () => deps.power.wake(host, signal));
    outcomes.push(r.outcome);
    if (!r.outcome.ok) return stop(`power_on ${host}`, r.quarantined);
  }

  for (const [i, wave] of plan.waves.entries()) {
    if (signal.aborted) return stop(`wave ${i + 1}: aborted`);
    const results = await Promise.all(wave.map((m) => migrateOne(m, deps, signal)));
    outcomes.push(...results);
    if (results.some((r) => !r.ok)) return stop(`wave ${i + 1}`);
  }

  for (const host of plan.powerOff) {
    if (signal.aborted) return stop(`power_off ${host}: aborted`);
    const r = await timed('power_off', host, () => deps.power.powerOff(host, signal));
    outcomes.push(r.outcome);
    if (!r.outcome.ok) return stop(`power_off ${host}`);
  }
  return { outcomes, completed: true, replan: false };
}

async function migrateOne(m: Migration, deps: ExecutorDeps, signal: AbortSignal): Promise<ActionOutcome> {
  const detail = `${m.from} -> ${m.to}`;
  deps.journal({ action: 'migrate', target: m.vm, phase: 'intent', detail });
  const started = Date.now();
  let outcome: ActionOutcome;
  try {
    const r = await deps.migrator.migrate(m, { timeoutMs: deps.migrationTimeoutMs(m), signal });
    outcome = { kind: 'migrate', target: m.vm, ok: r.ok, durationMs: r.durationMs, error: r.error };
  } catch (err) {
    outcome = {
      kind: 'migrate',
      target: m.vm,
      ok: false,
      durationMs: Date.now() - started,
      error: oneLine(err),
    };
  }
  deps.journal({
    action: 'migrate',
    target: m.vm,
    phase: outcome.ok ? 'done' : 'failed',
    detail: outcome.ok ? detail : `${detail}: ${outcome.error ?? 'failed'}`,
  });
  return outcome;
}

async function timed(
  kind: 'power_on' | 'power_off',
  host: string,
  act: () => Promise<PowerActionResult>,
): Promise<{ outcome: ActionOutcome; quarantined: boolean }> {
  const started = Date.now();
  let r: PowerActionResult;
  try {
    r = await act();
  } catch (err) {
    r = { ok: false, error: oneLine(err) };
  }
  const outcome: ActionOutcome = {
    kind,
    target: host,
    ok: r.ok,
    durationMs: Date.now() - started,
    error: r.error,
  };
  return { outcome, quarantined: r.quarantined === true };
}

function oneLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}
