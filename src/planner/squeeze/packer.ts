import type { PackState } from './state.js';
import { FreeIndex } from './free-index.js';

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
 * Best-fit placement over a {@link PackState}. Every dimension (vCPU, memory, disk, and CPU load
 * when usage-aware) is weighted into "average VMs" (1 / the mean demand of the cluster's VMs), and
 * a host's key is its tightest weighted free room (after headroom). A VM can only fit where the key
 * is at least the VM's own tightest weighted demand, so the sorted index prunes every host that is
 * short in any dimension; the VM goes to the fullest such host where it really fits (all
 * dimensions plus headroom, load cap and anti-affinity). Moves are logged by the callers for undo.
 */
export class Packer {
  readonly index: FreeIndex;
  private readonly w: Float64Array;
  private readonly minDemand: Float64Array;
  private readonly maxDemand: Float64Array;
  /** Placements evaluated so far (the deterministic work counter behind the search budget). */
  evaluations = 0;

  constructor(
    readonly state: PackState,
    readonly head: Headroom,
  ) {
    this.w = dimensionWeights(state);
    const w = this.w;
    const m = state.vms.length;
    this.minDemand = new Float64Array(m);
    this.maxDemand = new Float64Array(m);
    const dims = [state.dCpu, state.dMem, state.dDisk, state.dLoad];
    for (let v = 0; v < m; v++) {
      let lo = Infinity;
      let hi = 0;
      dims.forEach((d, i) => {
        if (w[i]! <= 0) return;
        lo = Math.min(lo, d[v]! * w[i]!);
        hi = Math.max(hi, d[v]! * w[i]!);
      });
      this.minDemand[v] = lo;
      this.maxDemand[v] = hi;
    }
    this.index = new FreeIndex(state.hosts.length);
    state.hosts.forEach((_, h) => {
      if (state.accepts[h] === 1) this.index.set(h, this.hostKey(h));
    });
  }

  /** Tightest weighted demand of VM `v`: no host with a smaller key can take it. */
  demandKey(v: number): number {
    return this.minDemand[v]!;
  }

  /** Largest weighted demand of VM `v`: its size for "decreasing" orders. */
  size(v: number): number {
    return this.maxDemand[v]!;
  }

  /** Tightest weighted free room of host `h` after headroom, as if VM `v` (or none, -1) were added. */
  hostKey(h: number, v = -1): number {
    const s = this.state;
    const w = this.w;
    const hd = this.head;
    const add = (d: Float64Array) => (v >= 0 ? d[v]! : 0);
    return Math.min(
      w[0]! > 0 ? (s.freeCpu[h]! - hd.cpu - add(s.dCpu)) * w[0]! : Infinity,
      w[1]! > 0 ? (s.freeMem[h]! - hd.memMiB - add(s.dMem)) * w[1]! : Infinity,
      w[2]! > 0 ? (s.freeDisk[h]! - hd.diskGiB - add(s.dDisk)) * w[2]! : Infinity,
      w[3]! > 0 ? (s.freeLoad[h]! - add(s.dLoad)) * w[3]! : Infinity,
    );
  }

  /** True when VM `v` fits on host `h` with the headroom. */
  fits(v: number, h: number): boolean {
    return this.state.fits(v, h, this.head.cpu, this.head.memMiB, this.head.diskGiB);
  }

  /** The fullest receiving host other than `avoid` where VM `v` fits, or -1. */
  bestFit(v: number, avoid = -1, avoid2 = -1): number {
    const idx = this.index;
    const start = idx.lowerBound(this.demandKey(v));
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
    if (this.index.has(h)) this.index.set(h, this.hostKey(h));
  }

  /** Stops host `h` from receiving VMs. */
  close(h: number): void {
    this.index.delete(h);
  }

  /** Lets host `h` receive VMs again (when it accepts VMs at all). */
  open(h: number): void {
    if (this.state.accepts[h] === 1) this.index.set(h, this.hostKey(h));
  }
}

/**
 * Per-dimension weights (vCPU, memory, disk, CPU load): 1 / mean demand over the tracked VMs, so
 * that every dimension counts in "average VMs"; 0 (ignored) for a dimension no VM asks for, and
 * for CPU load unless usage-aware.
 */
export function dimensionWeights(state: PackState): Float64Array {
  const sums = [state.dCpu, state.dMem, state.dDisk, state.dLoad].map((d) => d.reduce((a, b) => a + b, 0));
  const n = Math.max(state.vms.length, 1);
  const w = new Float64Array(4);
  sums.forEach((sum, i) => {
    w[i] = sum > 0 ? n / sum : 0;
  });
  if (state.policy.usage === undefined) w[3] = 0;
  return w;
}
