import type { Resources } from '../../model/resources.js';
import type { Blocking } from './index.js';
import { R, type SeqModel, SeqState, memOf } from './model.js';
import { stronglyConnected } from './scc.js';
import { round } from './validate.js';

/** Blocked moves listed in an explanation at most. */
const MAX_LISTED = 8;

interface StuckOutcome {
  readonly status: 'unreachable' | 'unknown';
  readonly at: Int32Array;
  readonly states: number;
}

/**
 * Explains why the target could not be reached from the placement `at`: the deadlocked host cycles
 * of the waits-for graph with their VMs, the largest free memory any other host offers, and how much
 * the smallest blocked VM is missing; plus the proof (states explored) or the exhausted budget.
 */
export function explainStuck(
  m: SeqModel,
  tgt: Int32Array,
  outcome: StuckOutcome,
): { explanation: string; blocking: Blocking } {
  const st = new SeqState(m, outcome.at);
  const blocked: number[] = [];
  for (let v = 0; v < m.vms.length; v++)
    if (outcome.at[v] !== tgt[v] && !st.fits(v, tgt[v]!)) blocked.push(v);
  const adjacency: number[][] = Array.from({ length: m.hosts.length }, () => []);
  for (const v of blocked) adjacency[outcome.at[v]!]!.push(tgt[v]!);
  const cycles = stronglyConnected(m.hosts.length, adjacency).filter((c) => c.length > 1);
  const parts: string[] = [];
  const hosts = new Set<string>();
  const vms = new Set<string>();
  for (const c of cycles) {
    const inC = new Set(c);
    const members = blocked.filter((v) => inC.has(outcome.at[v]!) && inC.has(tgt[v]!));
    const path = cyclePath(c, adjacency).map((h) => m.hosts[h]!.id);
    const shown =
      path.length > MAX_LISTED + 1 ? [...path.slice(0, MAX_LISTED), `... (${path.length - 1} hosts)`] : path;
    parts.push(
      `deadlock: cycle ${shown.join(' -> ')} (${members
        .slice(0, MAX_LISTED)
        .map((v) => describe(m, v, tgt))
        .join(', ')})`,
    );
    c.forEach((h) => hosts.add(m.hosts[h]!.id));
    members.forEach((v) => vms.add(m.vms[v]!.id));
  }
  if (cycles.length === 0 && blocked.length > 0) {
    parts.push(
      `blocked: ${blocked
        .slice(0, MAX_LISTED)
        .map((v) => describe(m, v, tgt))
        .join(', ')}`,
    );
    blocked.forEach((v) => {
      vms.add(m.vms[v]!.id);
      hosts.add(m.hosts[tgt[v]!]!.id);
    });
  }
  const candidates = vms.size > 0 ? blocked.filter((v) => vms.has(m.vms[v]!.id)) : blocked;
  const { missing, slackLine } = missingRoom(m, st, candidates);
  if (slackLine) parts.push(slackLine);
  parts.push(
    outcome.status === 'unreachable'
      ? `exhaustive search explored ${outcome.states} states`
      : `search budget exhausted after ${outcome.states} states: reachability unknown`,
  );
  return {
    explanation: parts.join('; '),
    blocking: { hosts: [...hosts].sort(), vms: [...vms].sort(), missing },
  };
}

function describe(m: SeqModel, v: number, tgt: Int32Array): string {
  return `${m.vms[v]!.id} ${round(memOf(m, v))} MiB waits for ${m.hosts[tgt[v]!]!.id}`;
}

/** A concrete cycle inside a strongly connected component, following the smallest edge each step. */
function cyclePath(component: readonly number[], adjacency: ReadonlyArray<readonly number[]>): number[] {
  const inC = new Set(component);
  const seenAt = new Map<number, number>();
  const path: number[] = [];
  let h = component[0]!;
  while (!seenAt.has(h)) {
    seenAt.set(h, path.length);
    path.push(h);
    h = Math.min(...adjacency[h]!.filter((w) => inC.has(w)));
  }
  return [...path.slice(seenAt.get(h)!), h];
}

/**
 * For the smallest blocked VM: the host (other than its own) where the least room is missing, and
 * that shortfall per dimension; plus a line with the largest free memory anywhere.
 */
function missingRoom(
  m: SeqModel,
  st: SeqState,
  blocked: readonly number[],
): { missing: Resources; slackLine: string } {
  const none = { cpu: 0, memMiB: 0, diskGiB: 0 };
  if (blocked.length === 0) return { missing: none, slackLine: '' };
  const u = [...blocked].sort((x, y) => memOf(m, x) - memOf(m, y) || x - y)[0]!;
  let best: Resources | undefined;
  let largestFreeMiB = 0;
  for (let h = 0; h < m.hosts.length; h++) {
    if (!m.accepts[h] || h === st.cur[u]) continue;
    if (m.allowed && !m.allowed(m.vms[u]!, m.hosts[h]!)) continue;
    const short = (r: number) => Math.max(0, st.used[h * R + r]! + m.dem[u * R + r]! - m.lim[h * R + r]!);
    const miss = { cpu: round(short(0)), memMiB: round(short(1)), diskGiB: round(short(2)) };
    largestFreeMiB = Math.max(largestFreeMiB, m.lim[h * R + 1]! - st.used[h * R + 1]!);
    if (!best || miss.memMiB + miss.cpu + miss.diskGiB < best.memMiB + best.cpu + best.diskGiB) best = miss;
  }
  const needMiB = memOf(m, u);
  return {
    missing: best ?? none,
    slackLine: `largest free memory on any other host ${round(largestFreeMiB)} MiB; smallest blocked VM ${m.vms[u]!.id} needs ${round(needMiB)} MiB`,
  };
}
