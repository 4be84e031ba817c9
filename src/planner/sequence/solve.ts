import { EPS, R, type SeqModel, SeqState, memOf } from './model.js';
import { type GreedyContext, HostFlags, WaitTracker, greedyWave } from './greedy.js';
import { WaveSlots, packSequence } from './pack.js';
import { PendingSet } from './pending.js';
import { retimeWaves } from './retime.js';
import { type Budget, type Move, searchPath } from './search.js';

/** Share of the must-move memory that bounces shortening chains may add (the target is 1.1x). */
const SHORTCUT_SHARE = 0.05;
/** Exact search first when the problem is this small (it finds the cheapest sequence). */
const EXACT_MAX_PENDING = 12;
const EXACT_MAX_HOSTS = 40;
const EXACT_MAX_VMS = 60;
/** Work allowed to that improving search: a few tenths of a second at most. */
const EXACT_IMPROVE_BUDGET = 100_000;
/** Temporary-host candidates added around a stuck cycle, widened step by step up to all hosts. */
const WIDEN_STEPS = [4, 16, 64];

/** Outcome of the solver on indices: waves, or why not (stuck host cycles, states explored). */
export type SolveOutcome =
  /** `restart`: the waves start from the start placement again (discard earlier waves). */
  | { readonly status: 'ok'; readonly waves: Move[][]; readonly restart?: boolean }
  | {
      readonly status: 'unreachable' | 'unknown';
      /** Deadlocked host cycles at the point where the greedy builder got stuck. */
      readonly stuck: number[][];
      /** Placement where it got stuck (for explanations). */
      readonly at: Int32Array;
      readonly states: number;
    };

/**
 * Waves from `m.a` to `tgt`: greedy waves with deadlock breaking; when stuck, a bounded exact
 * search around the stuck hosts, widened up to the whole cluster. Small problems also get a short
 * exact search for a cheaper (or equally cheap, fewer-wave) plan. "unreachable" only with an
 * exhaustive search from the start placement; "unknown" when the budget ran out first.
 */
export function solve(m: SeqModel, tgt: Int32Array, budget: Budget): SolveOutcome {
  const outcome = cheapest(m, tgt, budget);
  return outcome.status === 'ok' ? { status: 'ok', waves: retimeWaves(m, outcome.waves) } : outcome;
}

/** Greedy waves, or the exact search's when the problem is small and it finds a cheaper plan. */
function cheapest(m: SeqModel, tgt: Int32Array, budget: Budget): SolveOutcome {
  const greedy = greedyWaves(m, tgt, budget);
  if (greedy.status !== 'ok' || !smallEnough(m, tgt)) return greedy;
  const greedyCost = cost(m, greedy.waves);
  if (greedyCost <= lowerBound(m, tgt)) return greedy;
  const exact = exactFromStart(m, tgt, budget, greedyCost);
  return exact && better(m, exact, greedy.waves) ? { status: 'ok', waves: exact } : greedy;
}

function smallEnough(m: SeqModel, tgt: Int32Array): boolean {
  let pending = 0;
  let movable = 0;
  for (let v = 0; v < m.vms.length; v++) {
    if (tgt[v] !== m.a[v]) pending++;
    if (m.movable[v]) movable++;
  }
  return pending <= EXACT_MAX_PENDING && m.hosts.length <= EXACT_MAX_HOSTS && movable <= EXACT_MAX_VMS;
}

/** Memory of the VMs that must move: no plan migrates less. */
function lowerBound(m: SeqModel, tgt: Int32Array): number {
  let sum = 0;
  for (let v = 0; v < m.vms.length; v++) if (tgt[v] !== m.a[v]) sum += memOf(m, v);
  return sum;
}

function cost(m: SeqModel, waves: Move[][]): number {
  return waves.reduce((s, wave) => s + wave.reduce((t, mv) => t + memOf(m, mv.v), 0), 0);
}

/** Cheaper migrated memory wins, then fewer waves. */
function better(m: SeqModel, x: Move[][], y: Move[][]): boolean {
  const cx = cost(m, x);
  const cy = cost(m, y);
  return cx !== cy ? cx < cy : x.length < y.length;
}

function allMovable(m: SeqModel): number[] {
  const vms: number[] = [];
  for (let v = 0; v < m.vms.length; v++) if (m.movable[v]) vms.push(v);
  return vms;
}

function allHosts(m: SeqModel): number[] {
  return m.hosts.map((_, i) => i);
}

/** Short exact search from the start for a plan no dearer than `boundMiB` (undefined when none found). */
function exactFromStart(
  m: SeqModel,
  tgt: Int32Array,
  budget: Budget,
  boundMiB: number,
): Move[][] | undefined {
  const own: Budget = { left: Math.min(EXACT_IMPROVE_BUDGET, Math.max(0, budget.left)) };
  const spent = own.left;
  const r = searchPath({ m, start: m.a, tgt, vms: allMovable(m), hosts: allHosts(m), budget: own, boundMiB });
  budget.left -= spent - Math.max(0, own.left);
  return r.status === 'found' ? packSequence(new SeqState(m, m.a), r.moves) : undefined;
}

/** Placement load per host x R of the target placement. */
function targetLoad(m: SeqModel, tgt: Int32Array): Float64Array {
  const usedB = new Float64Array(m.hosts.length * R);
  for (let v = 0; v < m.vms.length; v++) {
    const h = tgt[v]!;
    if (h < 0) continue;
    for (let r = 0; r < R; r++) usedB[h * R + r]! += m.dem[v * R + r]!;
  }
  return usedB;
}

/**
 * Wave priority: longest migration first (waves of similar lengths); among equals, VMs leaving a
 * host to be switched off, then hosts with fewer VMs to move (whole hosts finish early, so an
 * interrupted plan still frees some), then memory, then id.
 */
function priority(m: SeqModel, tgt: Int32Array): (x: number, y: number) => number {
  const leaving = new Int32Array(m.hosts.length);
  for (let v = 0; v < m.vms.length; v++) if (tgt[v] !== m.a[v] && m.a[v]! >= 0) leaving[m.a[v]!]!++;
  const rank = (v: number) => (m.a[v]! < 0 ? 0 : (m.emptied[m.a[v]!] ? 0 : 1e9) + leaving[m.a[v]!]!);
  return (x, y) => m.est[y]! - m.est[x]! || rank(x) - rank(y) || memOf(m, y) - memOf(m, x) || x - y;
}

/**
 * The pending VMs (off target now) in wave priority order. The order is static, so the set keeps it
 * by position; a VM that was on target and gets parked away (any movable VM may) is placed in the
 * full order of every movable VM, sorted only if that ever happens.
 */
function pendingSet(m: SeqModel, tgt: Int32Array): PendingSet {
  const byPriority = priority(m, tgt);
  const pending: number[] = [];
  for (let v = 0; v < m.vms.length; v++) if (tgt[v] !== m.a[v]) pending.push(v);
  const everyone = () => {
    const candidates: number[] = [];
    for (let v = 0; v < m.vms.length; v++) if (m.movable[v] || tgt[v] !== m.a[v]) candidates.push(v);
    return Int32Array.from(candidates.sort(byPriority));
  };
  const set = new PendingSet(m.vms.length, Int32Array.from(pending.sort(byPriority)), everyone);
  for (const v of pending) set.add(v);
  return set;
}

/**
 * Greedy waves from the start placement (see {@link greedyWave}); when a wave cannot start any
 * migration, the bounded exact search takes over from that state.
 */
export function greedyWaves(m: SeqModel, tgt: Int32Array, budget: Budget): SolveOutcome {
  const st = new SeqState(m, m.a);
  const ctx: GreedyContext = {
    m,
    st,
    tgt,
    usedB: targetLoad(m, tgt),
    bounces: new Uint8Array(m.vms.length),
    shortcutMiB: { left: SHORTCUT_SHARE * lowerBound(m, tgt) },
    progress: new HostFlags(m.hosts.length),
  };
  const pending = pendingSet(m, tgt);
  const waits = new WaitTracker(ctx, pending.listed);
  const waves: Move[][] = [];
  const slots = new WaveSlots(st);
  const maxWaves = 4 * m.vms.length + 16;
  while (pending.size > 0) {
    if (waves.length > maxWaves) return { status: 'unknown', stuck: [], at: st.cur.slice(), states: 0 };
    const wave = greedyWave(ctx, pending, slots, waits);
    let added: Move[][];
    if (slots.moves.length > 0) added = [slots.close()];
    else {
      const rescue = searchAround(ctx, wave.stuck, pending, budget);
      if (rescue.status !== 'ok') return rescue;
      if (rescue.restart) return { status: 'ok', waves: rescue.waves };
      added = rescue.waves;
    }
    waves.push(...added);
    const moved = added.flat();
    for (const { v } of moved) {
      // Arrived VMs leave the pending set, VMs the waves parked away from their target join it.
      if (st.cur[v] === tgt[v]) pending.delete(v);
      else if (!pending.listed[v]) {
        pending.add(v);
        waits.rejoin(v);
      }
    }
    waits.landed(moved);
  }
  return { status: 'ok', waves };
}

/**
 * Bounded exact search from the stuck state over the stuck hosts plus the hosts with the most free
 * memory, widened until it covers the whole cluster. A whole-cluster exhaustion from a state other
 * than the start is re-checked from the start (some moves, e.g. off a draining host, cannot be undone).
 */
function searchAround(
  ctx: GreedyContext,
  stuck: number[][],
  pending: PendingSet,
  budget: Budget,
): SolveOutcome {
  const { m, st, tgt } = ctx;
  const core = new Set<number>(stuck.flat());
  if (core.size === 0)
    for (let p = pending.next(0); p >= 0; p = pending.next(p + 1)) {
      const v = pending.at(p);
      core.add(st.cur[v]!).add(tgt[v]!);
    }
  const bySlack = allHosts(m)
    .filter((h) => !core.has(h) && m.accepts[h])
    .sort((x, y) => freeMem(ctx, y) - freeMem(ctx, x) || x - y);
  let states = 0;
  const give = (status: 'unreachable' | 'unknown'): SolveOutcome => ({
    status,
    stuck,
    at: st.cur.slice(),
    states,
  });
  const atStart = st.cur.every((h, v) => h === m.a[v]);
  if (frozen(st)) {
    // Not a single migration is possible: the reachable set is this one state.
    states = 1;
    if (atStart || frozen(new SeqState(m, m.a))) return give('unreachable');
  }
  for (const k of WIDEN_STEPS) {
    if (k >= bySlack.length) break;
    const hosts = [...core, ...bySlack.slice(0, k)].sort((x, y) => x - y);
    const inSet = new Set(hosts);
    const vms = allMovable(m).filter((v) => inSet.has(st.cur[v]!));
    const r = searchPath({ m, start: st.cur, tgt, vms, hosts, budget });
    states += r.states;
    if (r.status === 'found') return { status: 'ok', waves: packSequence(st, r.moves) };
    if (r.status === 'budget') return give('unknown');
  }
  const all = searchPath({ m, start: st.cur, tgt, vms: allMovable(m), hosts: allHosts(m), budget });
  states += all.states;
  if (all.status === 'found') return { status: 'ok', waves: packSequence(st, all.moves) };
  if (all.status === 'budget') return give('unknown');
  if (atStart) return give('unreachable');
  const fromStart = searchPath({ m, start: m.a, tgt, vms: allMovable(m), hosts: allHosts(m), budget });
  states += fromStart.states;
  if (fromStart.status === 'exhausted') return give('unreachable');
  if (fromStart.status === 'budget') return give('unknown');
  // A dead end of the greedy order: the start still reaches the target, so plan from there.
  return { status: 'ok', waves: packSequence(new SeqState(m, m.a), fromStart.moves), restart: true };
}

/**
 * True when no single migration of any movable VM is possible from the state (a quick proof of
 * unreachability; from the start it needs no search). Most VMs are ruled out by the largest free
 * room per dimension before any host is scanned.
 */
function frozen(st: SeqState): boolean {
  const m = st.m;
  const maxFree = new Float64Array(R).fill(-Infinity);
  for (let h = 0; h < m.hosts.length; h++)
    if (m.accepts[h])
      for (let r = 0; r < R; r++) maxFree[r] = Math.max(maxFree[r]!, m.lim[h * R + r]! - st.used[h * R + r]!);
  for (let v = 0; v < m.vms.length; v++) {
    if (!m.movable[v] || st.cur[v]! < 0) continue;
    let roomSomewhere = true;
    for (let r = 0; r < R; r++) if (m.dem[v * R + r]! > maxFree[r]! + EPS) roomSomewhere = false;
    if (!roomSomewhere) continue;
    for (let h = 0; h < m.hosts.length; h++) if (h !== st.cur[v] && st.fits(v, h)) return false;
  }
  return true;
}

function freeMem(ctx: GreedyContext, h: number): number {
  return ctx.m.lim[h * R + 1]! - ctx.st.used[h * R + 1]!;
}
