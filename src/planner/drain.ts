import type { LeftOut } from './plan.js';
import { gib } from './consolidate.js';
import { NO_HEADROOM, Packer } from './squeeze/packer.js';
import type { PackState } from './squeeze/state.js';

/** What the drain evacuation did per draining host. */
export interface DrainOutcome {
  /** VMs moved off, by draining host index. */
  readonly movedOff: ReadonlyMap<number, number>;
  /** VMs that had to stay on a draining host, and why. */
  readonly leftOut: readonly LeftOut[];
}

/**
 * Drain = evacuation, whatever the capacity decision: every movable VM on a draining host that is
 * on goes, largest first, to the fullest host that accepts VMs and has room (best fit). Pinned
 * VMs and VMs without room stay and are reported. Runs before the decision, so the decision
 * judges the capacity left once the drain is done. Draining hosts are not powered off (they are
 * kept for maintenance).
 */
export function evacuateDrains(state: PackState): DrainOutcome {
  const movedOff = new Map<number, number>();
  const leftOut: LeftOut[] = [];
  const drains = state.hosts
    .map((h, i) => (h.drain && state.on[i] === 1 && !h.exclude && state.residentsOf(i).length > 0 ? i : -1))
    .filter((i) => i >= 0);
  if (drains.length === 0) return { movedOff, leftOut };
  const packer = new Packer(state, NO_HEADROOM);
  for (const d of drains) {
    const vms = [...state.residentsOf(d)].sort(
      (a, b) => packer.size(b) - packer.size(a) || state.dMem[b]! - state.dMem[a]! || a - b,
    );
    let moved = 0;
    for (const v of vms) {
      const vm = state.vms[v]!;
      if (vm.pinned) {
        leftOut.push({ kind: 'vm', id: vm.id, reason: `pinned on draining host ${state.hosts[d]!.id}` });
        continue;
      }
      const to = packer.bestFit(v, d);
      if (to < 0) {
        leftOut.push({
          kind: 'vm',
          id: vm.id,
          reason: `no room elsewhere for ${gib(state.dMem[v]!)} to drain ${state.hosts[d]!.id}`,
        });
        continue;
      }
      packer.move(v, to);
      moved += 1;
    }
    movedOff.set(d, moved);
  }
  return { movedOff, leftOut };
}
