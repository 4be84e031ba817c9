import { EPS, R, type SeqModel, type SeqState, memOf } from './model.js';
import { WaveSlots } from './pack.js';
import type { PendingSet } from './pending.js';
import { stronglyConnected } from './scc.js';
import type { Move } from './search.js';

/** How often one VM may be parked on a temporary host before the exact search takes over. */
const MAX_BOUNCES_PER_VM = 2;
/** Blocked moves per deadlocked cycle whose eviction is priced (bounds work on huge cycles). */
const MAX_OPTIONS_PER_CYCLE = 24;

/** What one greedy wave achieved. `stuck` lists the deadlocked host cycles it could not break. */
export interface GreedyWave {
  readonly moves: Move[];
  readonly stuck: number[][];
}

/** Shared state of the greedy wave builder across waves. */
export interface GreedyContext {
  readonly m: SeqModel;
  readonly st: SeqState;
  readonly tgt: Int32Array;
  /** Load of the target placement per host x R (for choosing temporary hosts that stay safe). */
  readonly usedB: Float64Array;
  readonly bounces: Uint8Array;
  /** Memory (MiB) still allowed for bounces that shorten chains (not for breaking deadlocks). */
  readonly shortcutMiB: { left: number };
  /** Hosts making progress in the wave being built (scratch, cleared per wave). */
  readonly progress: HostFlags;
}

/** A set of hosts as flags, cleared by touching only its members (no per-wave O(hosts) reset). */
export class HostFlags {
  private readonly flags: Uint8Array;
  private readonly members: number[] = [];

  constructor(hostCount: number) {
    this.flags = new Uint8Array(hostCount);
  }

  add(h: number): void {
    if (this.flags[h]) return;
    this.flags[h] = 1;
    this.members.push(h);
  }

  has(h: number): boolean {
    return this.flags[h] === 1;
  }

  clear(): void {
    for (const h of this.members) this.flags[h] = 0;
    this.members.length = 0;
  }
}

/**
 * Builds one wave from the current state: direct moves to their targets in `pending` order while
 * the wave semantics allow; then every deadlocked cycle of the waits-for graph (hosts waiting for
 * room on each other, no way out) is broken by parking the cheapest VM set of one cycle host on a
 * temporary host. Leaves the wave open in `slots`; the caller closes it.
 */
export function greedyWave(
  ctx: GreedyContext,
  pending: PendingSet,
  slots: WaveSlots,
  waits: WaitTracker,
): GreedyWave {
  const { m, st, tgt } = ctx;
  const progress = ctx.progress;
  progress.clear();
  const blocked: number[] = [];
  waits.forEachInOrder(pending, (v) => {
    if (slots.moves.length >= m.maxParallel) return false; // full: no bounce fits either
    const from = st.cur[v]!;
    const to = tgt[v]!;
    if (!slots.hasRoom(from, to))
      progress.add(from); // waits for a slot, not for room: a later wave
    else if (st.fits(v, to)) {
      slots.add(v, to);
      progress.add(from);
    } else blocked.push(v);
    return true;
  });
  if (blocked.length === 0 || slots.moves.length >= m.maxParallel) return { moves: slots.moves, stuck: [] };
  shortcutChains(ctx, blocked, progress, slots, waits);
  const cycles = closedCycles(ctx, blocked, progress);
  const stuck = cycles.filter((cycle) => !breakCycle(ctx, cycle, blocked, slots));
  return { moves: slots.moves, stuck };
}

/** Blocked moves per wave whose chain a bounce may shorten. */
const MAX_SHORTCUTS_PER_WAVE = 16;

/**
 * Chain shortcuts: a blocked move into a host nothing leaves this wave waits at least two more
 * waves (a departure, then its own). Parking the cheapest VM set of that host on a temporary host
 * now lets it go next wave. Longest waiting chains first, while the shortcut memory lasts.
 */
function shortcutChains(
  ctx: GreedyContext,
  blocked: readonly number[],
  progress: HostFlags,
  slots: WaveSlots,
  waits: WaitTracker,
): void {
  const { m, st, tgt } = ctx;
  const chain = (v: number) => m.est[v]! + waits.waitSeconds[st.cur[v]!]!;
  const heads = blocked
    .filter((v) => !progress.has(tgt[v]!) && !slots.moving[v])
    .sort((x, y) => chain(y) - chain(x) || x - y);
  let tried = 0;
  for (const v of heads) {
    const h = tgt[v]!;
    if (progress.has(h) || slots.moves.length >= m.maxParallel) continue;
    if (++tried > MAX_SHORTCUTS_PER_WAVE) break;
    const e = cheapestEviction(ctx, v, new Set([h]), slots);
    if (!e || e.cost > ctx.shortcutMiB.left) continue;
    for (const mv of e.moves) {
      slots.add(mv.v, mv.to);
      ctx.bounces[mv.v]!++;
    }
    ctx.shortcutMiB.left -= e.cost;
    progress.add(h);
  }
}

/** Merges two lists sorted by `cmp`. */
function mergeSorted(
  a: readonly number[],
  b: readonly number[],
  cmp: (x: number, y: number) => number,
): number[] {
  if (b.length === 0) return a as number[];
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) out.push(cmp(a[i]!, b[j]!) <= 0 ? a[i++]! : b[j++]!);
  while (i < a.length) out.push(a[i++]!);
  while (j < b.length) out.push(b[j++]!);
  return out;
}

/** Weight of the chain of migrations a move unblocks, added to the move's own time when ranking it. */
const UNBLOCK_WEIGHT = 0.5;

/**
 * Which pending moves cannot start from the current state (no room or anti-affinity at the target),
 * and per host the longest chain of such migrations waiting for room there (a move into a host
 * waits for room; once it lands, moves waiting for room on its source may follow: HLFET's
 * critical path, weighted by est_seconds). Blocked status is re-checked after each wave for the
 * hosts the wave touched only.
 */
export class WaitTracker {
  /** Per host: longest chain (seconds) of migrations waiting for room on it; 0 when none waits. */
  readonly waitSeconds: Float64Array;
  /** Pending moves off hosts others wait on, best rank first. */
  private ranked: number[] = [];
  /** Per host: the pending moves into it, ascending (unlisted ones are dropped when it is refreshed). */
  private readonly intoHost: number[][];
  /** Per VM: 1 while it is in its target's `intoHost` list. */
  private readonly inInto: Uint8Array;
  /**
   * Per host: 1 when a move into it may have become blocked since its last refresh (it received a
   * VM, or a move into it joined). Otherwise its load only fell, so only its blocked moves are re-checked.
   */
  private readonly grew: Uint8Array;
  /** Per host x R: largest demand among its `intoHost` moves (an upper bound once some are done). */
  private readonly maxDemInto: Float64Array;
  /** Per host: 1 when some move in its `intoHost` list has an anti-affinity group. */
  private readonly groupInto: Uint8Array;
  private readonly blockedInto: number[][];
  /** Hosts with moves blocked into them, ascending. */
  private active: number[] = [];
  /** Scratch per host, all zero between refreshes: DFS state, changed flags, previous chains. */
  private readonly state: Uint8Array;
  private readonly changed: Uint8Array;
  private readonly before: Float64Array;

  constructor(
    private readonly ctx: GreedyContext,
    private readonly listed: Uint8Array,
  ) {
    const { m, tgt } = ctx;
    this.waitSeconds = new Float64Array(m.hosts.length);
    this.state = new Uint8Array(m.hosts.length);
    this.changed = new Uint8Array(m.hosts.length);
    this.before = new Float64Array(m.hosts.length);
    this.intoHost = Array.from({ length: m.hosts.length }, () => []);
    this.blockedInto = Array.from({ length: m.hosts.length }, () => []);
    this.inInto = new Uint8Array(m.vms.length);
    this.grew = new Uint8Array(m.hosts.length).fill(1);
    this.maxDemInto = new Float64Array(m.hosts.length * R);
    this.groupInto = new Uint8Array(m.hosts.length);
    for (let v = 0; v < m.vms.length; v++)
      if (listed[v] && m.movable[v] && tgt[v]! >= 0) {
        this.intoHost[tgt[v]!]!.push(v);
        this.inInto[v] = 1;
        this.noteInto(v, tgt[v]!);
      }
    this.refresh(this.intoHost.keys());
  }

  /** After `moves` landed: re-checks the moves into the hosts they touched. */
  landed(moves: readonly Move[]): void {
    const hosts: number[] = [];
    for (const mv of moves) {
      this.grew[mv.to] = 1;
      hosts.push(mv.from, mv.to);
    }
    this.refresh(hosts); // repeats are skipped there
  }

  /** Re-checks the moves into `hosts` against the current state; re-ranks the moves off them. */
  private refresh(hosts: Iterable<number>): void {
    const { st } = this.ctx;
    const changed = this.changed;
    const touched: number[] = [];
    let activeChanged = false;
    for (const h of hosts) {
      if (changed[h]) continue;
      changed[h] = 1;
      touched.push(h);
      const was = this.blockedInto[h]!.length > 0;
      this.blockedInto[h] = this.blockedMovesInto(h);
      if (was !== this.blockedInto[h]!.length > 0) activeChanged = true;
    }
    // Chains are non-zero only on hosts with blocked moves into them, before or after.
    const previous = this.active;
    for (const h of previous) this.before[h] = this.waitSeconds[h]!;
    if (activeChanged) this.active = this.activeHosts(previous, touched);
    this.chains(previous);
    const fresh: number[] = [];
    const consider = (h: number, old: number) => {
      if (!changed[h] && this.waitSeconds[h] !== old) {
        changed[h] = 1;
        touched.push(h);
      }
    };
    for (const h of previous) consider(h, this.before[h]!);
    for (const h of this.active) consider(h, this.before[h]!);
    for (const h of previous) this.before[h] = 0;
    for (const h of touched)
      if (this.waitSeconds[h]! > 0) for (const v of st.residents[h]!) if (this.listed[v]) fresh.push(v);
    // Ranks change only on hosts whose residents or chain changed: merge those into the rest.
    const byRank = (x: number, y: number) => this.key(y) - this.key(x) || x - y;
    const kept = this.ranked.filter((v) => this.listed[v] && !changed[st.cur[v]!]);
    this.ranked = mergeSorted(kept, fresh.sort(byRank), byRank);
    for (const h of touched) changed[h] = 0;
  }

  /** A VM joined the pending set again (parked away from its target): its move is tracked again. */
  rejoin(v: number): void {
    const { m, tgt } = this.ctx;
    if (this.inInto[v] || !m.movable[v] || tgt[v]! < 0) return;
    const list = this.intoHost[tgt[v]!]!;
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (list[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, v);
    this.inInto[v] = 1;
    this.noteInto(v, tgt[v]!);
    this.grew[tgt[v]!] = 1;
  }

  /** Pending moves into `h` that cannot start now, ascending; drops moves no longer pending. */
  private blockedMovesInto(h: number): number[] {
    const { st, tgt } = this.ctx;
    if (!this.grew[h])
      // Nothing arrived: moves that could start still can (fits only depends on the destination).
      return this.blockedInto[h]!.filter((v) => this.listed[v] && st.cur[v] !== h && !st.fits(v, h));
    this.grew[h] = 0;
    // Room for the largest move into `h` in every dimension: they all fit, none is blocked.
    if (this.allFit(h)) return [];
    const list = this.intoHost[h]!;
    const blocked: number[] = [];
    let kept = 0;
    this.maxDemInto.fill(0, h * R, h * R + R);
    this.groupInto[h] = 0;
    for (const v of list) {
      if (!this.listed[v]) {
        this.inInto[v] = 0;
        continue;
      }
      list[kept++] = v;
      this.noteInto(v, h);
      if (st.cur[v] !== h && !st.fits(v, tgt[v]!)) blocked.push(v);
    }
    list.length = kept;
    return blocked;
  }

  /** Counts move `v` into `h` in the host's largest demand and group flag. */
  private noteInto(v: number, h: number): void {
    const { m } = this.ctx;
    for (let r = 0; r < R; r++)
      this.maxDemInto[h * R + r] = Math.max(this.maxDemInto[h * R + r]!, m.dem[v * R + r]!);
    if (m.group[v]! >= 0) this.groupInto[h] = 1;
  }

  /** True when every move into `h` fits now, judged by the largest demand per dimension. */
  private allFit(h: number): boolean {
    const { m, st } = this.ctx;
    if (!m.accepts[h] || this.groupInto[h] || m.allowed !== undefined) return false;
    for (let r = 0; r < R; r++)
      if (st.used[h * R + r]! + this.maxDemInto[h * R + r]! > m.lim[h * R + r]! + EPS) return false;
    return true;
  }

  /** Hosts with moves blocked into them, ascending: `previous` updated for the `touched` hosts. */
  private activeHosts(previous: readonly number[], touched: readonly number[]): number[] {
    const out = previous.filter((h) => this.blockedInto[h]!.length > 0);
    const known = new Set(previous);
    for (const h of touched) if (!known.has(h) && this.blockedInto[h]!.length > 0) out.push(h);
    return out.sort((x, y) => x - y);
  }

  /**
   * Longest waiting chain per host, iteratively (explicit stack; a cycle's closing edge counts 0).
   * Roots in ascending host order; only hosts with blocked moves into them can carry a chain, so
   * only those (`previous`: the ones that did) are reset and searched.
   */
  private chains(previous: readonly number[]): void {
    const { st, m } = this.ctx;
    const state = this.state;
    const tail = this.waitSeconds;
    for (const h of previous) tail[h] = 0;
    for (const root of this.active) {
      if (state[root]) continue;
      const stack = [root];
      state[root] = 1;
      while (stack.length > 0) {
        const h = stack[stack.length - 1]!;
        let pushed = false;
        for (const v of this.blockedInto[h]!) {
          const src = st.cur[v]!;
          if (state[src] === 0 && this.blockedInto[src]!.length > 0) {
            state[src] = 1;
            stack.push(src);
            pushed = true;
            break;
          }
        }
        if (pushed) continue;
        let best = 0;
        for (const v of this.blockedInto[h]!) {
          const src = st.cur[v]!;
          best = Math.max(best, m.est[v]! + (state[src] === 2 ? tail[src]! : 0));
        }
        tail[h] = best;
        state[h] = 2;
        stack.pop();
      }
    }
    for (const h of this.active) state[h] = 0;
  }

  /** Rank of a move: its own time plus the chain of migrations waiting on its host. */
  key(v: number): number {
    return this.ctx.m.est[v]! + UNBLOCK_WEIGHT * this.waitSeconds[this.ctx.st.cur[v]!]!;
  }

  /** True when moves wait for room on the host `v` is on (moving `v` unblocks them). */
  unblocks(v: number): boolean {
    return this.waitSeconds[this.ctx.st.cur[v]!]! > 0;
  }

  /**
   * Wave order, lazily: unblockers (ranked by {@link key}: the chain a move starts) merged into
   * pending, which is already longest first. Stops as soon as `visit` returns false.
   */
  forEachInOrder(pending: PendingSet, visit: (v: number) => boolean): void {
    const ub = this.ranked;
    let i = 0;
    for (let p = pending.next(0); p >= 0; p = pending.next(p + 1)) {
      const v = pending.at(p);
      if (ub.length > 0 && this.unblocks(v)) continue;
      while (i < ub.length && this.key(ub[i]!) > this.ctx.m.est[v]!) if (!visit(ub[i++]!)) return;
      if (!visit(v)) return;
    }
    while (i < ub.length) if (!visit(ub[i++]!)) return;
  }
}

/**
 * Deadlocked cycles: sink strongly connected components (two or more hosts) of the waits-for graph
 * (edge src -> dst for every blocked move) none of whose hosts makes progress this wave. If the
 * target is valid, a blocked destination always holds a VM that must leave, so these are exactly
 * the host sets that can never move again without a temporary host.
 */
function closedCycles(ctx: GreedyContext, blocked: readonly number[], progress: HostFlags): number[][] {
  const { st, tgt } = ctx;
  // The graph on the hosts of blocked moves only, in ascending host order (same components, same
  // order as over all hosts: the others are isolated), so a wave costs its blocked moves, not the cluster.
  const hosts = [...new Set(blocked.flatMap((v) => [st.cur[v]!, tgt[v]!]))].sort((x, y) => x - y);
  const local = new Map(hosts.map((h, i) => [h, i]));
  const adjacency: number[][] = hosts.map(() => []);
  for (const v of blocked) adjacency[local.get(st.cur[v]!)!]!.push(local.get(tgt[v]!)!);
  const components = stronglyConnected(hosts.length, adjacency);
  const componentOf = new Int32Array(hosts.length);
  components.forEach((c, i) => c.forEach((x) => (componentOf[x] = i)));
  return components
    .filter((c, i) => {
      if (c.length < 2) return false;
      for (const x of c) {
        if (progress.has(hosts[x]!)) return false;
        for (const w of adjacency[x]!) if (componentOf[w] !== i) return false;
      }
      return true;
    })
    .map((c) => c.map((x) => hosts[x]!));
}

interface Eviction {
  readonly cost: number;
  readonly moves: Move[];
}

/** Breaks one cycle with the cheapest eviction over its blocked moves; false when none is possible. */
function breakCycle(
  ctx: GreedyContext,
  cycle: number[],
  blocked: readonly number[],
  slots: WaveSlots,
): boolean {
  const inCycle = new Set(cycle);
  const options = blocked
    .filter((v) => inCycle.has(ctx.st.cur[v]!) && inCycle.has(ctx.tgt[v]!))
    .sort((x, y) => shortfall(ctx, x) - shortfall(ctx, y) || x - y)
    .slice(0, MAX_OPTIONS_PER_CYCLE);
  let best: Eviction | undefined;
  for (const v of options) {
    const e = cheapestEviction(ctx, v, inCycle, slots);
    if (e && (!best || e.cost < best.cost)) best = e;
  }
  if (!best) return false;
  for (const mv of best.moves) {
    slots.add(mv.v, mv.to);
    ctx.bounces[mv.v]!++;
  }
  return true;
}

/** Memory missing on the blocked move's destination (for trying the most promising options first). */
function shortfall(ctx: GreedyContext, v: number): number {
  const { m, st } = ctx;
  const h = ctx.tgt[v]!;
  return Math.max(0, memOf(m, v) - (m.lim[h * R + 1]! - st.used[h * R + 1]!));
}

/**
 * Cheapest set of VMs on the blocked move's destination whose departure makes room for it, each
 * with a temporary host that has room now. A VM that must move anyway costs its memory (one extra
 * migration); a VM that stays costs twice its memory (away and back).
 */
function cheapestEviction(
  ctx: GreedyContext,
  v: number,
  inCycle: ReadonlySet<number>,
  slots: WaveSlots,
): Eviction | undefined {
  const { m, st, tgt } = ctx;
  const h = tgt[v]!;
  const need = new Float64Array(R);
  for (let r = 0; r < R; r++) need[r] = st.used[h * R + r]! + m.dem[v * R + r]! - m.lim[h * R + r]!;
  const mates = new Set<number>();
  const candidates: number[] = [];
  for (const u of st.residents[h]!) {
    const mustGo = m.group[u]! >= 0 && m.group[u] === m.group[v];
    if (mustGo) mates.add(u);
    if (m.movable[u] && !slots.moving[u] && ctx.bounces[u]! < MAX_BOUNCES_PER_VM) candidates.push(u);
    else if (mustGo) return undefined;
  }
  const cost = (u: number) => memOf(m, u) * (tgt[u] === st.cur[u] ? 2 : 1);
  const covers = (set: readonly number[]) => {
    for (const u of mates) if (!set.includes(u)) return false;
    for (let r = 0; r < R; r++) {
      let freed = 0;
      for (const u of set) freed += m.dem[u * R + r]!;
      if (freed + EPS < need[r]!) return false;
    }
    return true;
  };
  const byCost = candidates.sort((x, y) => cost(x) - cost(y) || x - y);
  let best: number[] | undefined;
  for (const u of byCost)
    if (covers([u])) {
      best = [u];
      break;
    }
  if (!best) {
    // No single VM suffices: forced mates, then the most memory per unit of cost, then prune.
    const order = [...byCost].sort(
      (x, y) =>
        Number(mates.has(y)) - Number(mates.has(x)) ||
        memOf(m, y) / cost(y) - memOf(m, x) / cost(x) ||
        memOf(m, y) - memOf(m, x) ||
        x - y,
    );
    const set: number[] = [];
    for (const u of order) {
      if (covers(set)) break;
      set.push(u);
    }
    if (!covers(set)) return undefined;
    for (const u of [...set].reverse()) {
      const without = set.filter((x) => x !== u);
      if (covers(without)) set.splice(set.indexOf(u), 1);
    }
    best = set;
  }
  return placeOnPivots(ctx, best, h, inCycle, slots, cost);
}

/** Chooses a temporary host for each evicted VM, tentatively (undone before returning). */
function placeOnPivots(
  ctx: GreedyContext,
  set: readonly number[],
  h: number,
  inCycle: ReadonlySet<number>,
  slots: WaveSlots,
  cost: (u: number) => number,
): Eviction | undefined {
  const moves: Move[] = [];
  let total = 0;
  let ok = true;
  for (const u of set) {
    const t = bestPivot(ctx, u, h, inCycle, slots);
    if (t < 0) {
      ok = false;
      break;
    }
    slots.add(u, t);
    moves.push({ v: u, from: h, to: t });
    total += cost(u);
  }
  for (let i = 0; i < moves.length; i++) slots.undoLast();
  return ok ? { cost: total, moves } : undefined;
}

/**
 * Best temporary host for `u`: room now (with this wave's reservations) and a free slot; prefer
 * hosts where `u` still fits once the target placement is reached (it cannot get in anyone's way),
 * hosts to be emptied and switched off, hosts outside the cycle, then the most memory slack.
 */
function bestPivot(
  ctx: GreedyContext,
  u: number,
  h: number,
  inCycle: ReadonlySet<number>,
  slots: WaveSlots,
): number {
  const { m, st, tgt, usedB } = ctx;
  let best = -1;
  let bestScore = -Infinity;
  for (let t = 0; t < m.hosts.length; t++) {
    if (t === h || t === tgt[u] || !slots.hasRoom(h, t) || !st.fits(u, t)) continue;
    let safe = true;
    for (let r = 0; r < R; r++) {
      const future = Math.max(st.used[t * R + r]!, usedB[t * R + r]!) + m.dem[u * R + r]!;
      if (future > m.lim[t * R + r]! + EPS) safe = false;
    }
    const slackMiB = m.lim[t * R + 1]! - Math.max(st.used[t * R + 1]!, usedB[t * R + 1]!);
    const score =
      (safe ? 8 : 0) +
      (m.emptied[t] ? 4 : 0) +
      (inCycle.has(t) ? 0 : 2) +
      Math.atan(slackMiB / 1e5) / Math.PI;
    if (score > bestScore) {
      bestScore = score;
      best = t;
    }
  }
  return best;
}
