import type { PackState } from './state.js';
import { FreeIndex } from './free-index.js';

/** Which free dimension orders the best-fit index. */
export type KeyDimension = 'cpu' | 'mem';

/** Room that must stay free on a receiving host after a placement (the per_host probe), per dimension. */
export interface Headroom {
  readonly cpu: number;
  readonly memMiB: number;
  readonly diskGiB: number;
}

export const NO_HEADROOM: Headroom = { cpu: 0, memMiB: 0, diskGiB: 0 };

/** Hosts scanned past the best-fit position before a VM is declared homeless (bounds the work). */
const SCAN_LIMIT = 400;

/**
 * Best-fit placement over a {@link PackState}: receiving hosts sorted by free room in the key
 * dimension; a VM goes to the fullest receiving host where it fits in every dimension (plus
 * headroom, load cap and anti-affinity). Moves are logged so that a failed attempt is undone.
 */
export class Packer {
  readonly index: FreeIndex;
  private readonly keyFree: Float64Array;
  private readonly keyDemand: Float64Array;
  private readonly keyHead: number;
  /** Placements evaluated so far (the deterministic work counter behind the search budget). */
  evaluations = 0;

  constructor(
    readonly state: PackState,
    readonly keyDim: KeyDimension,
    readonly head: Headroom,
  ) {
    this.keyFree = keyDim === 'mem' ? state.freeMem : state.freeCpu;
    this.keyDemand = keyDim === 'mem' ? state.dMem : state.dCpu;
    this.keyHead = keyDim === 'mem' ? head.memMiB : head.cpu;
    this.index = new FreeIndex(state.hosts.length);
    state.hosts.forEach((_, h) => {
      if (state.accepts[h] === 1) this.index.set(h, this.keyOf(h));
    });
  }

  /** Demand of VM `v` in the key dimension. */
  demandKey(v: number): number {
    return this.keyDemand[v]!;
  }

  /** True when VM `v` fits on host `h` with the headroom. */
  fits(v: number, h: number): boolean {
    return this.state.fits(v, h, this.head.cpu, this.head.memMiB, this.head.diskGiB);
  }

  /** The fullest receiving host other than `avoid` where VM `v` fits, or -1. */
  bestFit(v: number, avoid = -1, avoid2 = -1): number {
    const idx = this.index;
    const start = idx.lowerBound(this.keyDemand[v]!);
    const end = Math.min(idx.size, start + SCAN_LIMIT);
    for (let i = start; i < end; i++) {
      const h = idx.at(i);
      this.evaluations += 1;
      if (h !== avoid && h !== avoid2 && this.fits(v, h)) return h;
    }
    return -1;
  }

  /** Moves VM `v` to host `h`, keeping the index in step. */
  move(v: number, h: number): void {
    const from = this.state.vmHost[v]!;
    this.state.move(v, h);
    this.refresh(from);
    this.refresh(h);
  }

  /** Re-keys host `h` in the index when it receives VMs. */
  refresh(h: number): void {
    if (this.index.has(h)) this.index.set(h, this.keyOf(h));
  }

  /** Stops host `h` from receiving VMs. */
  close(h: number): void {
    this.index.delete(h);
  }

  /** Lets host `h` receive VMs again (when it accepts VMs at all). */
  open(h: number): void {
    if (this.state.accepts[h] === 1) this.index.set(h, this.keyOf(h));
  }

  private keyOf(h: number): number {
    return this.keyFree[h]! - this.keyHead;
  }
}

/** The dimension most used over the receiving hosts: the one best-fit should pack by. */
export function dominantDimension(state: PackState): KeyDimension {
  let usedCpu = 0;
  let usedMem = 0;
  let limCpu = 0;
  let limMem = 0;
  state.hosts.forEach((_, h) => {
    if (state.on[h] !== 1) return;
    usedCpu += state.limitCpu[h]! - state.freeCpu[h]!;
    usedMem += state.limitMem[h]! - state.freeMem[h]!;
    limCpu += state.limitCpu[h]!;
    limMem += state.limitMem[h]!;
  });
  const cpuShare = limCpu > 0 ? usedCpu / limCpu : 0;
  const memShare = limMem > 0 ? usedMem / limMem : 0;
  return cpuShare > memShare ? 'cpu' : 'mem';
}
