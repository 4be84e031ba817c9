import type { HostState } from '../model/cluster.js';
import { gib } from './consolidate.js';
import type { Decision, HostOutcome } from './plan.js';
import type { PackState } from './squeeze/state.js';

/** Fit and usage percentages of every host at one moment. */
export interface HostFigures {
  readonly fit: Float64Array;
  readonly memPct: Float64Array;
  readonly cpuPct: Float64Array;
  /** Observed CPU load as a share of cores x cap, percent (usage-aware only, else 0). */
  readonly loadPct: Float64Array;
}

/** Fit (0 when not on) and allocated share of the limit, percent, for every host of the state. */
export function hostFigures(state: PackState): HostFigures {
  const n = state.hosts.length;
  const fig = {
    fit: new Float64Array(n),
    memPct: new Float64Array(n),
    cpuPct: new Float64Array(n),
    loadPct: new Float64Array(n),
  };
  const cap = state.policy.usage?.cpuCap;
  for (let h = 0; h < n; h++) {
    fig.fit[h] = state.on[h] === 1 ? state.fit(h) : 0;
    if (cap !== undefined) {
      const limit = state.hosts[h]!.capacity.cpu * cap;
      fig.loadPct[h] = pct(limit - state.freeLoad[h]!, limit);
    }
    fig.memPct[h] = pct(state.limitMem[h]! - state.freeMem[h]!, state.limitMem[h]!);
    fig.cpuPct[h] = pct(state.limitCpu[h]! - state.freeCpu[h]!, state.limitCpu[h]!);
  }
  return fig;
}

function pct(used: number, limit: number): number {
  return limit > 0 ? Math.round((used / limit) * 1000) / 10 : 0;
}

/** Everything the per-host "why" needs to know about what the planner did. */
export interface ExplainInput {
  readonly decision: Decision;
  readonly decisionReason: string;
  readonly before: HostFigures;
  readonly after: HostFigures;
  readonly powerOn: ReadonlySet<number>;
  readonly powerOff: ReadonlySet<number>;
  /** Why a candidate for power-off was kept. */
  readonly kept: ReadonlyMap<number, string>;
  /** Why a standby host was not woken. */
  readonly notWoken: ReadonlyMap<number, string>;
  /** Hosts left short of room because their VMs cannot move. */
  readonly stuck: ReadonlySet<number>;
  /** The rule that stopped the squeeze, if any. */
  readonly limitedBy?: string;
}

/** One HostOutcome per host, in cluster order, each with a one-line why or why not. */
export function explainHosts(state: PackState, input: ExplainInput): HostOutcome[] {
  const flows = vmFlows(state);
  return state.hosts.map((h, i) => {
    const stateAfter: HostState = input.powerOn.has(i) ? 'on' : input.powerOff.has(i) ? 'standby' : h.state;
    return {
      id: h.id,
      stateBefore: h.state,
      stateAfter,
      fitBefore: input.before.fit[i]!,
      fitAfter: input.after.fit[i]!,
      memPctBefore: input.before.memPct[i]!,
      memPctAfter: input.after.memPct[i]!,
      cpuPctBefore: input.before.cpuPct[i]!,
      cpuPctAfter: input.after.cpuPct[i]!,
      why: whyLine(state, i, input, flows) + loadNote(state, i, input),
    };
  });
}

interface Flows {
  readonly outCount: Int32Array;
  readonly outMiB: Float64Array;
  readonly inCount: Int32Array;
  readonly inMiB: Float64Array;
}

function vmFlows(state: PackState): Flows {
  const n = state.hosts.length;
  const f = {
    outCount: new Int32Array(n),
    outMiB: new Float64Array(n),
    inCount: new Int32Array(n),
    inMiB: new Float64Array(n),
  };
  for (let v = 0; v < state.vms.length; v++) {
    const from = state.origHost[v]!;
    const to = state.vmHost[v]!;
    if (from === to) continue;
    f.outCount[from]! += 1;
    f.outMiB[from]! += state.dMem[v]!;
    f.inCount[to]! += 1;
    f.inMiB[to]! += state.dMem[v]!;
  }
  return f;
}

/** Usage-aware plans report the observed CPU load besides the allocation figures. */
function loadNote(state: PackState, i: number, input: ExplainInput): string {
  if (state.policy.usage === undefined || state.hosts[i]!.state !== 'on') return '';
  const before = input.before.loadPct[i]!;
  const after = input.after.loadPct[i]!;
  return `; CPU load ${before}% -> ${after}% of the usage cap`;
}

function whyLine(state: PackState, i: number, input: ExplainInput, flows: Flows): string {
  const h = state.hosts[i]!;
  const moved = (n: number, mib: number) => `${n} VM${n === 1 ? '' : 's'} (${gib(mib)})`;
  const incoming = flows.inCount[i]! > 0 ? `; receives ${moved(flows.inCount[i]!, flows.inMiB[i]!)}` : '';
  const receives =
    incoming + (flows.outCount[i]! > 0 ? `; ${moved(flows.outCount[i]!, flows.outMiB[i]!)} moved off` : '');
  if (h.state === 'unknown') return 'unknown: not reachable; never emptied, filled or powered off';
  if (h.state === 'off') return 'off: not managed by virt-squeeze (not standby)';
  if (input.powerOn.has(i)) return `woken: ${input.decisionReason}${receives}`;
  if (h.state === 'standby') return input.notWoken.get(i) ?? 'standby: not needed';
  if (input.powerOff.has(i)) {
    const what =
      flows.outCount[i]! > 0 ? `${moved(flows.outCount[i]!, flows.outMiB[i]!)} moved` : 'no VMs to move';
    const watts = h.idleWatts !== undefined ? `, idle ${h.idleWatts} W saved` : '';
    return `emptied: ${what}${watts}`;
  }
  if (h.exclude) return 'excluded by config: never emptied, filled or powered off';
  if (h.drain) {
    const out = flows.outCount[i]!;
    const left = state.residentsOf(i).length;
    const stays = left > 0 ? `; ${left} VM(s) stay (pinned or no room)` : '';
    return `draining: ${out > 0 ? `${moved(out, flows.outMiB[i]!)} moved off` : 'nothing moved'}${stays}; left on for maintenance`;
  }
  if (input.stuck.has(i)) return `short of room: its VMs are pinned and cannot move${receives}`;
  if (h.keepOn) return `kept on: never powered off (keep-on host)${receives}`;
  const kept = input.kept.get(i);
  if (kept !== undefined) return `kept: ${kept}${receives}`;
  if (flows.outCount[i]! > 0)
    return `rebalanced: ${moved(flows.outCount[i]!, flows.outMiB[i]!)} moved off${incoming}`;
  if (flows.inCount[i]! > 0) return `kept: receives ${moved(flows.inCount[i]!, flows.inMiB[i]!)}`;
  if (input.decision === 'squeeze') return `kept: ${input.limitedBy ?? 'not needed to empty'}`;
  return input.decision === 'none' ? 'kept: no squeeze due' : 'kept: online';
}
