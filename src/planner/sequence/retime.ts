import { EPS, R, type SeqModel } from './model.js';
import type { Move } from './search.js';

/** Waves either side of a migration's wave it may be moved to (bounds the work on long plans). */
const WINDOW_WAVES = 48;
/** Improvement passes over all waves. */
const MAX_PASSES = 4;
/** Shortest migrations of each other wave tried for an exchange. */
const SWAP_TRIES = 4;
/** Gains below this many seconds are noise. */
const MIN_GAIN_SECONDS = 1e-9;

/**
 * A VM counted on a host over a range of waves (inclusive): from its arrival's wave (0 when it
 * starts there) to its departure's wave (Infinity when it stays). The wave semantics in one record.
 */
interface Stay {
  readonly v: number;
  from: number;
  to: number;
}

/** One migration of the plan, with the stays it ends (on its source) and starts (on its destination). */
interface Slot {
  readonly mv: Move;
  wave: number;
  readonly leaving: Stay;
  readonly arriving: Stay;
  /** Previous and next migration of the same VM (bounced VMs), -1 when none. */
  prev: number;
  next: number;
}

/**
 * Re-times a valid wave plan to shorten its makespan (sum over waves of the longest migration):
 * repeatedly takes a wave's longest migration and moves it to another wave where the total drops,
 * when the move keeps every wave feasible (room with in-flight VMs held on both hosts,
 * anti-affinity, `max_per_host`, `max_parallel`, the VM's own migrations in order). Only the two
 * hosts of the moved migration change load, over the waves between its old and new place, so each
 * candidate is checked on those alone. Never adds a migration, never adds a wave; empty waves drop.
 */
export function retimeWaves(m: SeqModel, waves: readonly Move[][]): Move[][] {
  if (waves.length < 2) return waves.map((w) => [...w]);
  const plan = new Timeline(m, waves);
  for (let pass = 0; pass < MAX_PASSES; pass++) if (!plan.improvePass()) break;
  return plan.waves();
}

class Timeline {
  private readonly slots: Slot[] = [];
  /** Migrations per wave, longest first. */
  private readonly byWave: number[][];
  /** Per host: stays of VMs that migrate; `base` holds the load of those that never do. */
  private readonly stays: Stay[][];
  private readonly base: Float64Array;
  private readonly baseGroups: Array<Set<number>>;
  private readonly touches: Array<Map<number, number>>;

  constructor(
    private readonly m: SeqModel,
    waves: readonly Move[][],
  ) {
    const nH = m.hosts.length;
    this.stays = Array.from({ length: nH }, () => []);
    this.base = new Float64Array(nH * R);
    this.baseGroups = Array.from({ length: nH }, () => new Set<number>());
    this.byWave = waves.map(() => []);
    this.touches = waves.map(() => new Map());
    // Per VM: its latest stay and migration so far (arrays: one entry per VM of the cluster).
    const current: Array<Stay | undefined> = new Array<Stay | undefined>(m.vms.length);
    const lastSlot = new Int32Array(m.vms.length).fill(-1);
    waves.forEach((wave, w) =>
      wave.forEach((mv) => {
        let leaving = current[mv.v];
        if (!leaving) {
          leaving = { v: mv.v, from: 0, to: w };
          this.stays[mv.from]!.push(leaving);
        } else leaving.to = w;
        const arriving: Stay = { v: mv.v, from: w, to: Infinity };
        this.stays[mv.to]!.push(arriving);
        current[mv.v] = arriving;
        const id = this.slots.length;
        const prev = lastSlot[mv.v]!;
        if (prev >= 0) this.slots[prev]!.next = id;
        this.slots.push({ mv, wave: w, leaving, arriving, prev, next: -1 });
        lastSlot[mv.v] = id;
        this.byWave[w]!.push(id);
        this.touch(w, mv, 1);
      }),
    );
    for (let v = 0; v < m.vms.length; v++) {
      const h = m.a[v]!;
      if (h < 0 || current[v] !== undefined) continue;
      for (let r = 0; r < R; r++) this.base[h * R + r]! += m.dem[v * R + r]!;
      if (m.group[v]! >= 0) this.baseGroups[h]!.add(m.group[v]!);
    }
    for (const list of this.byWave) list.sort((x, y) => this.est(y) - this.est(x) || x - y);
  }

  private est(id: number): number {
    return this.m.est[this.slots[id]!.mv.v]!;
  }

  private waveMax(w: number, without = -1): number {
    for (const id of this.byWave[w]!) if (id !== without) return this.est(id);
    return 0;
  }

  private touch(w: number, mv: Move, delta: number): void {
    const t = this.touches[w]!;
    t.set(mv.from, (t.get(mv.from) ?? 0) + delta);
    t.set(mv.to, (t.get(mv.to) ?? 0) + delta);
  }

  /** One pass over the waves; true when some migration moved. */
  improvePass(): boolean {
    let moved = false;
    for (let w = 0; w < this.byWave.length; w++)
      while (this.byWave[w]!.length > 0 && this.moveLongest(w)) moved = true;
    return moved;
  }

  /** Moves wave `w`'s longest migration to the wave where the makespan drops most, if any. */
  private moveLongest(w: number): boolean {
    const id = this.byWave[w]![0]!;
    const s = this.slots[id]!;
    const e = this.est(id);
    const saved = e - this.waveMax(w, id);
    const lo = Math.max(s.prev >= 0 ? this.slots[s.prev]!.wave + 1 : 0, w - WINDOW_WAVES);
    const hi = Math.min(s.next >= 0 ? this.slots[s.next]!.wave - 1 : Infinity, w + WINDOW_WAVES);
    const candidates: Array<[number, number]> = [];
    for (let q = lo; q <= Math.min(hi, this.byWave.length - 1); q++) {
      if (q === w) continue;
      const gain = saved - Math.max(0, e - this.waveMax(q));
      // Equal-cost moves only towards earlier waves (ties at a wave's top leave one by one).
      if (gain > MIN_GAIN_SECONDS || (gain > -MIN_GAIN_SECONDS && q < w && saved < MIN_GAIN_SECONDS))
        candidates.push([q, gain]);
    }
    candidates.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    for (const [q] of candidates) if (this.tryMove(id, q)) return true;
    return this.trySwaps(id, lo, hi);
  }

  /**
   * Exchanges wave `w`'s longest migration with a shorter one of another wave (full waves leave no
   * free slot): the best gain first, a few of the shortest migrations of each wave tried.
   */
  private trySwaps(id: number, lo: number, hi: number): boolean {
    const s = this.slots[id]!;
    const w = s.wave;
    const e = this.est(id);
    const options: Array<[number, number]> = [];
    for (let q = lo; q <= Math.min(hi, this.byWave.length - 1); q++) {
      if (q === w) continue;
      const list = this.byWave[q]!;
      for (let k = list.length - 1, n = 0; k >= 0 && n < SWAP_TRIES; k--, n++) {
        const other = list[k]!;
        if (this.est(other) >= e) break;
        const o = this.slots[other]!;
        if ((o.prev >= 0 && this.slots[o.prev]!.wave >= w) || (o.next >= 0 && this.slots[o.next]!.wave <= w))
          continue;
        const gain = this.swapGain(id, other);
        // Equal-cost exchanges only bring the longer migration earlier (long ones gather in early
        // waves, short ones in late ones; the sum of est x wave drops, so this ends).
        if (gain > MIN_GAIN_SECONDS || (gain > -MIN_GAIN_SECONDS && q < w)) options.push([other, gain]);
      }
    }
    options.sort((x, y) => y[1] - x[1] || x[0] - y[0]);
    for (const [other] of options) if (this.trySwap(id, other)) return true;
    return false;
  }

  /** Makespan saved by exchanging the waves of migrations `x` and `y`. */
  private swapGain(x: number, y: number): number {
    const p = this.slots[x]!.wave;
    const q = this.slots[y]!.wave;
    const before = this.waveMax(p) + this.waveMax(q);
    const after = Math.max(this.waveMax(p, x), this.est(y)) + Math.max(this.waveMax(q, y), this.est(x));
    return before - after;
  }

  /** Exchanges the waves of `x` and `y` when every wave stays feasible; otherwise changes nothing. */
  private trySwap(x: number, y: number): boolean {
    const sx = this.slots[x]!;
    const sy = this.slots[y]!;
    const p = sx.wave;
    const q = sy.wave;
    this.touch(p, sx.mv, -1);
    this.touch(q, sy.mv, -1);
    const roomy = this.hasSlot(q, sx.mv) && this.hasSlot(p, sy.mv);
    this.touch(p, sx.mv, 1);
    this.touch(q, sy.mv, 1);
    if (!roomy) return false;
    this.setWave(sx, q);
    this.setWave(sy, p);
    const [a, b] = q < p ? [q, p] : [p, q];
    const hosts = new Set([sx.mv.from, sx.mv.to, sy.mv.from, sy.mv.to]);
    if (![...hosts].every((h) => this.feasible(h, a, b))) {
      this.setWave(sx, p);
      this.setWave(sy, q);
      return false;
    }
    this.relist(x, p, q);
    this.relist(y, q, p);
    return true;
  }

  /** True when wave `w` has a per-host slot on both hosts of `mv`. */
  private hasSlot(w: number, mv: Move): boolean {
    const t = this.touches[w]!;
    return (t.get(mv.from) ?? 0) < this.m.maxPerHost && (t.get(mv.to) ?? 0) < this.m.maxPerHost;
  }

  /** Points the stays of migration `s` at wave `w` (its wave index itself moves in {@link relist}). */
  private setWave(s: Slot, w: number): void {
    s.leaving.to = w;
    s.arriving.from = w;
  }

  /** Moves migration `id` from wave `p`'s list and slots to wave `q`'s. */
  private relist(id: number, p: number, q: number): void {
    const s = this.slots[id]!;
    this.touch(p, s.mv, -1);
    this.touch(q, s.mv, 1);
    this.byWave[p] = this.byWave[p]!.filter((x) => x !== id);
    const list = this.byWave[q]!;
    list.push(id);
    list.sort((x, y) => this.est(y) - this.est(x) || x - y);
    s.wave = q;
  }

  /** Moves migration `id` to wave `q` when every wave stays feasible; otherwise changes nothing. */
  private tryMove(id: number, q: number): boolean {
    const s = this.slots[id]!;
    const p = s.wave;
    if (this.byWave[q]!.length >= this.m.maxParallel || !this.hasSlot(q, s.mv)) return false;
    this.setWave(s, q);
    const [a, b] = q < p ? [q, p] : [p, q];
    if (!this.feasible(s.mv.from, a, b) || !this.feasible(s.mv.to, a, b)) {
      this.setWave(s, p);
      return false;
    }
    this.relist(id, p, q);
    return true;
  }

  /**
   * Host `h` within its limits and free of anti-affinity clashes in every wave of [a, b]. Load is
   * piecewise constant between arrivals, so it peaks at `a` or at an arrival inside the range.
   */
  private feasible(h: number, a: number, b: number): boolean {
    const { m } = this;
    const list = this.stays[h]!;
    const points = [a];
    for (const st of list) if (st.from > a && st.from <= b) points.push(st.from);
    const load = new Float64Array(R);
    for (const t of points) {
      for (let r = 0; r < R; r++) load[r] = this.base[h * R + r]!;
      const groups = new Set(this.baseGroups[h]);
      for (const st of list) {
        if (st.from > t || st.to < t) continue;
        for (let r = 0; r < R; r++) load[r]! += m.dem[st.v * R + r]!;
        const g = m.group[st.v]!;
        if (g >= 0) {
          if (groups.has(g)) return false;
          groups.add(g);
        }
      }
      for (let r = 0; r < R; r++) if (load[r]! > m.lim[h * R + r]! + EPS) return false;
    }
    return true;
  }

  /** The re-timed waves without empty ones, in wave order; inside a wave in plan order. */
  waves(): Move[][] {
    return this.byWave
      .map((ids) => [...ids].sort((x, y) => x - y).map((id) => this.slots[id]!.mv))
      .filter((w) => w.length > 0);
  }
}
