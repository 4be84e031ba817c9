import type { SeqState } from './model.js';
import type { Move } from './search.js';

/**
 * Per-wave bookkeeping of the wave semantics: migrations touching each host (in + out), VMs
 * already moving, wave size. Reset between waves by touching only what was used.
 */
export class WaveSlots {
  readonly touches: Int32Array;
  readonly moving: Uint8Array;
  readonly moves: Move[] = [];

  constructor(private readonly st: SeqState) {
    this.touches = new Int32Array(st.m.hosts.length);
    this.moving = new Uint8Array(st.m.vms.length);
  }

  /** True when the wave still has a slot for a migration between these hosts. */
  hasRoom(from: number, to: number): boolean {
    const { maxPerHost, maxParallel } = this.st.m;
    return (
      this.moves.length < maxParallel && this.touches[from]! < maxPerHost && this.touches[to]! < maxPerHost
    );
  }

  /** True when `v` may join the wave now: a free slot, not moving yet, fits on `to` with reservations. */
  canAdd(v: number, to: number): boolean {
    const from = this.st.cur[v]!;
    return !this.moving[v] && from !== to && this.hasRoom(from, to) && this.st.fits(v, to);
  }

  /** Starts `v` towards `to`: it is held on both hosts until {@link close}. */
  add(v: number, to: number): void {
    const from = this.st.cur[v]!;
    this.st.hold(v, to);
    this.touches[from]!++;
    this.touches[to]!++;
    this.moving[v] = 1;
    this.moves.push({ v, from, to });
  }

  /** Undoes the last {@link add} (tentative evaluation of an eviction). */
  undoLast(): void {
    const mv = this.moves.pop()!;
    this.st.release(mv.v, mv.to);
    this.touches[mv.from]!--;
    this.touches[mv.to]!--;
    this.moving[mv.v] = 0;
  }

  /** Ends the wave: every migration lands; returns the wave's moves and resets the slots. */
  close(): Move[] {
    const wave = this.moves.splice(0);
    for (const mv of wave) {
      this.st.land(mv.v, mv.from, mv.to);
      this.touches[mv.from] = 0;
      this.touches[mv.to] = 0;
      this.moving[mv.v] = 0;
    }
    return wave;
  }
}

/**
 * Packs a valid sequence of single migrations into contiguous waves: each move joins the current
 * wave when the wave semantics allow it (free slot, VM not moving yet, room on the destination with
 * every in-flight VM still held on its source), otherwise it opens the next wave. Applies the waves
 * to `st`. Every prefix of the sequence is valid, so each move fits at least in a wave of its own.
 */
export function packSequence(st: SeqState, sequence: readonly Move[]): Move[][] {
  const slots = new WaveSlots(st);
  const waves: Move[][] = [];
  for (const mv of sequence) {
    if (!slots.canAdd(mv.v, mv.to)) {
      if (slots.moves.length > 0) waves.push(slots.close());
      if (!slots.canAdd(mv.v, mv.to)) throw new Error(`sequence step ${mv.v} -> ${mv.to} is not valid`);
    }
    slots.add(mv.v, mv.to);
  }
  if (slots.moves.length > 0) waves.push(slots.close());
  return waves;
}
