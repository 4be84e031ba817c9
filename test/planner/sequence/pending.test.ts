import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PendingSet } from '../../../src/planner/sequence/pending.js';

/** Members in the set's own iteration order. */
function walk(set: PendingSet): number[] {
  const out: number[] = [];
  for (let p = set.next(0); p >= 0; p = set.next(p + 1)) out.push(set.at(p));
  return out;
}

describe('PendingSet', () => {
  it('walks its members in priority order, also across word and summary boundaries', () => {
    const vmCount = 3000;
    // Priority order: descending VM index (not the index order, so positions matter).
    const full = Int32Array.from({ length: vmCount }, (_, i) => vmCount - 1 - i);
    const set = new PendingSet(vmCount, full, () => full);
    for (const v of [0, 31, 32, 1023, 1024, 1025, 2999]) set.add(v);
    expect(walk(set)).toEqual([2999, 1025, 1024, 1023, 32, 31, 0]);
    set.delete(1024);
    set.delete(2999);
    set.delete(2999);
    expect(walk(set)).toEqual([1025, 1023, 32, 31, 0]);
    expect(set.size).toBe(5);
    expect(set.listed[1024]).toBe(0);
    expect(set.listed[1025]).toBe(1);
  });

  it('matches a sorted reference list under any adds and deletes, widening its order on demand', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2500 }),
        fc.array(fc.tuple(fc.boolean(), fc.nat()), { maxLength: 300 }),
        fc.integer({ min: 0, max: 100 }),
        (vmCount, ops, seedShare) => {
          // Full order: VMs by (index * 7919) mod vmCount, a fixed permutation-like ranking.
          const rank = (v: number) => ((v * 7919) % vmCount) * vmCount + v;
          const full = Int32Array.from({ length: vmCount }, (_, i) => i).sort((x, y) => rank(x) - rank(y));
          const initial = full.filter((v) => v % 100 < seedShare);
          let widened = 0;
          const set = new PendingSet(vmCount, initial, () => {
            widened++;
            return full;
          });
          const reference = new Set<number>();
          for (const v of initial) {
            set.add(v);
            reference.add(v);
          }
          for (const [add, n] of ops) {
            const v = n % vmCount;
            if (add) {
              set.add(v);
              reference.add(v);
            } else {
              set.delete(v);
              reference.delete(v);
            }
          }
          expect(walk(set)).toEqual([...reference].sort((x, y) => rank(x) - rank(y)));
          expect(set.size).toBe(reference.size);
          expect(widened).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});
