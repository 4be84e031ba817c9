import type { PackState } from './state.js';

/**
 * Failover reserve on a {@link PackState}: the same rule and the same first-fit-decreasing replay as
 * model/metric.ts `failoverShortfall` (tests check that both always agree), on typed arrays.
 * The `reserveHosts` online hosts carrying the most memory are lost; their VMs, largest memory
 * first, go to the first remaining online host (cluster order) that accepts VMs and has room.
 * Returns the index of a VM that found no room, or -1 when the reserve holds.
 */
export function failoverShortfallFast(state: PackState, reserveHosts: number): number {
  if (reserveHosts <= 0) return -1;
  const online: number[] = [];
  state.hosts.forEach((_, h) => {
    if (state.on[h] === 1) online.push(h);
  });
  const ids = state.hosts;
  const byLoad = [...online].sort(
    (a, b) => state.usedMem(b) - state.usedMem(a) || (ids[a]!.id < ids[b]!.id ? -1 : 1),
  );
  const lost = new Set(byLoad.slice(0, reserveHosts));
  const survivors = online.filter((h) => !lost.has(h) && !ids[h]!.exclude && !ids[h]!.drain);
  const vms = state.vms;
  const orphans = [...lost]
    .flatMap((h) => [...state.residentsOf(h)])
    .sort((a, b) => state.dMem[b]! - state.dMem[a]! || (vms[a]!.id < vms[b]!.id ? -1 : 1));
  const moved: Array<[number, number]> = [];
  let missing = -1;
  for (const v of orphans) {
    let to = -1;
    for (let i = 0; i < survivors.length; i++) {
      if (state.fits(v, survivors[i]!)) {
        to = survivors[i]!;
        break;
      }
    }
    if (to < 0) {
      missing = v;
      break;
    }
    moved.push([v, state.vmHost[v]!]);
    state.move(v, to);
  }
  for (let i = moved.length - 1; i >= 0; i--) state.move(moved[i]![0], moved[i]![1]);
  return missing;
}
