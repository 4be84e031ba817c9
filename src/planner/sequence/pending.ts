/**
 * The pending VMs (not on their target yet) in wave priority order, as a set over a fixed order:
 * every VM that can ever be pending gets its position once, membership is a two-level bitset over
 * positions. Adding or removing a VM is O(1) and walking the set in order skips absent positions
 * 32 (or 1,024) at a time, so a wave costs what it visits, not the whole pending list.
 */
export class PendingSet {
  /** Per VM: 1 while pending. */
  readonly listed: Uint8Array;
  /** Per VM: position in the priority order, -1 when it has none (yet). */
  private readonly pos: Int32Array;
  /** Per position: the VM. */
  private order: Int32Array;
  private words: Uint32Array;
  /** One bit per word of `words`: set when that word has a bit set. */
  private summary: Uint32Array;
  private count = 0;

  /**
   * `order`: the VMs pending now, in priority order (best first). `fullOrder`: every VM that may
   * ever be pending, in the same order; asked for (once) when a VM outside `order` joins.
   */
  constructor(
    vmCount: number,
    order: Int32Array,
    private readonly fullOrder: () => Int32Array,
  ) {
    this.listed = new Uint8Array(vmCount);
    this.pos = new Int32Array(vmCount).fill(-1);
    this.order = order;
    this.words = new Uint32Array(0);
    this.summary = new Uint32Array(0);
    this.reorder(order);
  }

  /** Switches to a wider order (a superset in the same relative order), keeping the members. */
  private reorder(order: Int32Array): void {
    const members: number[] = [];
    for (let p = this.next(0); p >= 0; p = this.next(p + 1)) members.push(this.order[p]!);
    this.pos.fill(-1);
    this.order = order;
    order.forEach((v, p) => (this.pos[v] = p));
    this.words = new Uint32Array((order.length >>> 5) + 1);
    this.summary = new Uint32Array((this.words.length >>> 5) + 1);
    for (const v of members) this.setBit(this.pos[v]!);
  }

  get size(): number {
    return this.count;
  }

  add(v: number): void {
    if (this.listed[v]) return;
    if (this.pos[v]! < 0) this.reorder(this.fullOrder());
    const p = this.pos[v]!;
    if (p < 0) throw new Error(`VM ${v} has no place in the priority order`);
    this.listed[v] = 1;
    this.count++;
    this.setBit(p);
  }

  private setBit(p: number): void {
    const w = p >>> 5;
    this.words[w]! |= 1 << (p & 31);
    this.summary[w >>> 5]! |= 1 << (w & 31);
  }

  delete(v: number): void {
    if (!this.listed[v]) return;
    const p = this.pos[v]!;
    this.listed[v] = 0;
    this.count--;
    const w = p >>> 5;
    this.words[w]! &= ~(1 << (p & 31));
    if (this.words[w] === 0) this.summary[w >>> 5]! &= ~(1 << (w & 31));
  }

  /** VM at position `p` (a position {@link next} returned). */
  at(p: number): number {
    return this.order[p]!;
  }

  /** First position >= `from` holding a pending VM, -1 when none. */
  next(from: number): number {
    let w = from >>> 5;
    if (w >= this.words.length) return -1;
    const bits = this.words[w]! & (0xffffffff << (from & 31));
    if (bits !== 0) return (w << 5) + lowestBit(bits);
    w++;
    let s = w >>> 5;
    if (s >= this.summary.length) return -1;
    let sb = this.summary[s]! & (0xffffffff << (w & 31));
    while (sb === 0) {
      if (++s >= this.summary.length) return -1;
      sb = this.summary[s]!;
    }
    w = (s << 5) + lowestBit(sb);
    return (w << 5) + lowestBit(this.words[w]!);
  }
}

/** Index of the lowest set bit of a non-zero 32-bit value. */
function lowestBit(x: number): number {
  return 31 - Math.clz32(x & -x);
}
