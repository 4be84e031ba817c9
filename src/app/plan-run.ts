import { loadPlacementFile } from '../inventory/placement-file.js';
import { plan as makePlan } from '../planner/index.js';
import type { Plan } from '../planner/plan.js';
import { planToPlacement, type PlacementPlan } from '../planner/sequence/index.js';
import { renderHtml } from '../report/html.js';
import { toPlanJson } from '../report/json.js';
import { renderText } from '../report/text.js';
import type { RunContext } from './context.js';
import { UnreachableError } from '../errors.js';

export type ReportFormat = 'text' | 'json' | 'html';

export interface PlanRunOptions {
  readonly format: ReportFormat;
  /** Plan the waves to this placement file instead of deciding a squeeze/expand. */
  readonly targetPlacementPath?: string;
  readonly allHosts?: boolean;
}

/**
 * Plans (never acts) and renders the report. The wall time of planning lands in `summary.planMs`.
 * `failure` is set when a target placement cannot be reached (or the search could not decide): the
 * report is still printed, then the caller throws it so the exit code says so.
 */
export async function planRun(
  ctx: RunContext,
  opts: PlanRunOptions,
): Promise<{ plan: Plan; rendered: string; failure?: UnreachableError }> {
  const placement = opts.targetPlacementPath ? await loadPlacementFile(opts.targetPlacementPath) : undefined;
  const started = performance.now();
  const raw: Plan | PlacementPlan = placement
    ? planToPlacement(ctx.cluster, placement, ctx.policy)
    : makePlan(ctx.cluster, ctx.policy);
  const plan = finish(raw, ctx, performance.now() - started);
  const rendered = render(plan, ctx, opts);
  if (!isPlacementPlan(raw) || raw.sequencing === 'ok') return { plan, rendered };
  const verdict =
    raw.sequencing === 'unreachable'
      ? 'target placement is unreachable'
      : 'could not decide within the search budget (unknown)';
  return { plan, rendered, failure: new UnreachableError(`${verdict}: ${raw.explanation ?? ''}`.trim()) };
}

function isPlacementPlan(p: Plan | PlacementPlan): p is PlacementPlan {
  return 'sequencing' in p;
}

/** Adds what only the caller knows: the measured plan time and the warnings gathered while reading. */
export function finish(plan: Plan, ctx: RunContext, planMs: number): Plan {
  return {
    ...plan,
    warnings: [...ctx.warnings, ...plan.warnings],
    summary: { ...plan.summary, planMs: Math.round(planMs) },
  };
}

export function render(plan: Plan, ctx: RunContext, opts: PlanRunOptions): string {
  switch (opts.format) {
    case 'json':
      return JSON.stringify(toPlanJson(plan), null, 2) + '\n';
    case 'html':
      return renderHtml(plan);
    default:
      return renderText(plan, { cluster: ctx.cluster.source, allHosts: opts.allHosts });
  }
}
