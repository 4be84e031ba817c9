import { probe } from '../model/capacity.js';
import type { Policy } from '../model/policy.js';
import { metricHostIndices, metricValue } from './decide.js';
import { NO_HEADROOM, Packer } from './squeeze/packer.js';
import type { PackState } from './squeeze/state.js';

/** Result of an expansion: hosts to wake (the rebalanced placement is in the state). */
export interface ExpandOutcome {
  /** Host indices to power on, most power-efficient first. */
  readonly woken: readonly number[];
  /** True when the goal is reached after waking and rebalancing. */
  readonly reached: boolean;
  /** Plain-words outcome, appended to the decision's reason. */
  readonly summary: string;
  /** Why a standby host was not woken, by host index. */
  readonly notWoken: ReadonlyMap<number, string>;
  /** Hosts that cannot be relieved because their VMs are pinned (hsqueeze weakness 7). */
  readonly stuck: readonly number[];
}

/**
 * Expand: the fewest standby hosts (most power-efficient first, never `wake-failed`, at most
 * max_power_on_per_run) that, after a rebalance, bring the metric back: `average` to >= target,
 * `per_host` to every online host taking a `minimal` probe (hsqueeze's rule). k = 0 is tried first,
 * so a rebalance alone can win. When no k reaches the goal, only the hosts that actually relieve a
 * hot host are woken, and the summary says the goal is out of reach; hosts whose VMs cannot move
 * are reported instead of waking hosts for them.
 */
export function expand(state: PackState, policy: Policy, searchBudget: number): ExpandOutcome {
  return new Expander(state, policy, searchBudget).run();
}

class Expander {
  private readonly need: { cpu: number; memMiB: number; diskGiB: number };
  private readonly notWoken = new Map<number, string>();
  /** One best-fit index for all trials: woken hosts are opened in it, and closed again after a trial. */
  private readonly packer: Packer;

  constructor(
    private readonly state: PackState,
    private readonly policy: Policy,
    private readonly searchBudget: number,
  ) {
    this.packer = new Packer(state, NO_HEADROOM);
    const t = policy.thresholds;
    const std = policy.standard;
    const k = Math.ceil(t.target - 1e-9);
    this.need =
      t.mode === 'per_host'
        ? probe(std, t.minimal)
        : { cpu: std.cpu * k, memMiB: std.memMiB * k, diskGiB: std.diskGiB * k };
  }

  run(): ExpandOutcome {
    const candidates = this.candidates();
    const limit = Math.min(candidates.length, this.policy.safety.maxPowerOnPerRun);
    const k = this.fewestReaching(candidates, limit);
    if (k === undefined)
      return this.unreachable(candidates, limit, this.trial(candidates.slice(0, limit)).helpers);
    this.commit(candidates.slice(0, k));
    candidates.slice(k).forEach((h) => this.notWoken.set(h, 'standby: not needed'));
    return {
      woken: candidates.slice(0, k),
      reached: true,
      summary: this.reachedText(k),
      notWoken: this.notWoken,
      stuck: [],
    };
  }

  /**
   * The fewest first-k candidates that reach the goal, or undefined. From the lowest k that can
   * work (0, or for `average` the prefix-sum estimate), 8 counts are tried one by one (hsqueeze
   * takes the first k that works); beyond that the step doubles until the goal is reached, then a
   * binary search finds the smallest k (waking more hosts never takes room away).
   */
  private fewestReaching(candidates: readonly number[], limit: number): number | undefined {
    const reaches = (k: number) => this.trial(candidates.slice(0, k)).reached;
    const start = this.policy.thresholds.mode === 'average' ? this.averageEstimate(candidates, limit) : 0;
    const linear = Math.min(limit, start + LINEAR_TRIALS);
    for (let k = start; k <= linear; k++) if (reaches(k)) return k;
    let lo = linear;
    let step = LINEAR_TRIALS;
    let hi = Math.min(limit, lo + step);
    while (lo < limit && !reaches(hi)) {
      if (hi === limit) return undefined;
      lo = hi;
      step *= 2;
      hi = Math.min(limit, hi + step);
    }
    if (lo >= limit) return undefined;
    while (hi - lo > 1) {
      const mid = (lo + hi) >>> 1;
      if (reaches(mid)) hi = mid;
      else lo = mid;
    }
    return hi;
  }

  /**
   * `average`: a woken empty host adds its own fit and one host to the mean, and the rebalance only
   * shifts load (losing a little fit to rounding), so no k below the prefix-sum estimate works.
   */
  private averageEstimate(candidates: readonly number[], limit: number): number {
    const s = this.state;
    const target = this.policy.thresholds.target;
    let sum = 0;
    let count = 0;
    s.hosts.forEach((h, i) => {
      if (s.on[i] !== 1 || h.drain) return;
      sum += s.fit(i);
      count += 1;
    });
    let k = 0;
    while (k < limit && (count + k === 0 || sum / (count + k) < target - 1e-9)) {
      sum += s.fit(candidates[k]!);
      k += 1;
    }
    return k;
  }

  /** Standby hosts that may be woken, most power-efficient (idle W per MiB) first, else input order. */
  private candidates(): number[] {
    const s = this.state;
    const average = this.policy.thresholds.mode === 'average';
    const list: number[] = [];
    s.hosts.forEach((h, i) => {
      if (h.state !== 'standby') return;
      if (h.tags.includes('wake-failed'))
        this.notWoken.set(i, 'standby: quarantined after a failed wake (wake-failed)');
      else if (h.exclude) this.notWoken.set(i, 'standby: excluded by config');
      else if (h.drain) this.notWoken.set(i, 'standby: draining, receives nothing');
      else if (average && s.fit(i) === 0)
        this.notWoken.set(i, 'standby: too small for one standard instance');
      else list.push(i);
    });
    const allPowered = list.every((i) => s.hosts[i]!.idleWatts !== undefined);
    if (!allPowered) return list;
    const eff = (i: number) => s.hosts[i]!.idleWatts! / Math.max(s.limitMem[i]!, 1);
    return list.sort((a, b) => eff(a) - eff(b) || a - b);
  }

  /** Wakes `hosts`, rebalances, checks the goal, and undoes everything. */
  private trial(hosts: readonly number[]): { reached: boolean; helpers: number[] } {
    const s = this.state;
    for (const h of hosts) this.wake(h);
    const moves = this.rebalance();
    const reached = this.goalHolds();
    const helpers = hosts.filter((h) => s.residentsOf(h).length > 0);
    for (let i = moves.length - 1; i >= 0; i--) this.packer.move(moves[i]![0], moves[i]![1]);
    for (const h of hosts) {
      this.packer.close(h);
      s.on[h] = s.accepts[h] = 0;
    }
    return { reached, helpers };
  }

  private commit(hosts: readonly number[]): void {
    for (const h of hosts) this.wake(h);
    this.rebalance();
  }

  private wake(h: number): void {
    this.state.on[h] = 1;
    this.state.accepts[h] = 1;
    this.packer.open(h);
  }

  private unreachable(candidates: number[], limit: number, helpers: number[]): ExpandOutcome {
    const s = this.state;
    const wake =
      this.policy.thresholds.mode === 'average'
        ? candidates.slice(0, limit).filter((h) => s.fit(h) > 0)
        : helpers;
    this.commit(wake);
    const stuck = this.hotHosts().filter((h) => !this.canShed(h));
    candidates.forEach((h, i) => {
      if (wake.includes(h)) return;
      const why =
        i >= limit
          ? `standby: max_power_on_per_run ${this.policy.safety.maxPowerOnPerRun} reached`
          : 'standby: waking it would not help';
      this.notWoken.set(h, why);
    });
    const t = this.policy.thresholds;
    const goal =
      t.mode === 'per_host'
        ? `every online host taking a ${t.minimal} x standard instance`
        : `target ${t.target}`;
    const all =
      limit === candidates.length
        ? `even all ${candidates.length} standby hosts`
        : `the ${limit} standby hosts allowed by max_power_on_per_run`;
    let summary =
      candidates.length === 0
        ? 'no standby host can be woken'
        : `${all} will not reach ${goal}; waking ${wake.length}`;
    if (stuck.length > 0)
      summary += `; ${stuck.map((h) => s.hosts[h]!.id).join(', ')} stay short of room because their VMs cannot move (pinned)`;
    return { woken: wake, reached: false, summary, notWoken: this.notWoken, stuck };
  }

  private reachedText(k: number): string {
    const t = this.policy.thresholds;
    const goal =
      t.mode === 'per_host'
        ? `every online host takes a ${t.minimal} x standard instance`
        : `free capacity back at ${metricValue(this.state, this.policy).toFixed(2)} >= target ${t.target}`;
    return k === 0 ? `rebalancing alone restores it: ${goal}` : `waking ${k} standby host(s): ${goal}`;
  }

  private goalHolds(): boolean {
    const t = this.policy.thresholds;
    if (metricHostIndices(this.state).length === 0) return false;
    if (t.mode === 'average') return metricValue(this.state, this.policy) >= t.target - 1e-9;
    return this.hotHosts().length === 0;
  }

  /** Online, non-draining hosts with less free room than the goal asks for. */
  private hotHosts(): number[] {
    const s = this.state;
    const n = this.need;
    const out: number[] = [];
    s.hosts.forEach((h, i) => {
      if (s.on[i] === 1 && !h.drain && !s.takesProbe(i, n.cpu, n.memMiB, n.diskGiB)) out.push(i);
    });
    return out;
  }

  private canShed(h: number): boolean {
    const s = this.state;
    return !s.hosts[h]!.exclude && s.residentsOf(h).some((v) => !s.vms[v]!.pinned);
  }

  /**
   * Moves VMs off hot hosts onto the hosts with the most room, only when the move makes load more
   * even (the destination keeps more room than the source had), until each hot host has the room
   * the goal asks for. Returns the moves (VM, origin host) for undo.
   */
  private rebalance(): Array<[number, number]> {
    const s = this.state;
    const packer = this.packer;
    const moves: Array<[number, number]> = [];
    let budget = this.searchBudget;
    for (const h of this.hotHosts()) {
      if (!this.canShed(h)) continue;
      while (!this.relieved(h) && budget > 0) {
        const step = this.bestShed(packer, h);
        budget -= 1 + s.residentsOf(h).length;
        if (!step) break;
        moves.push([step.vm, h]);
        packer.move(step.vm, step.to);
      }
    }
    return moves;
  }

  private relieved(h: number): boolean {
    const n = this.need;
    return this.state.takesProbe(h, n.cpu, n.memMiB, n.diskGiB);
  }

  /**
   * The VM to move off `h` and where: the smallest VM that gives `h` enough room on its own,
   * else the largest movable one; destination = the host with the most room that keeps the move
   * evening (its free key room after the move exceeds `h`'s before).
   */
  private bestShed(packer: Packer, h: number): { vm: number; to: number } | undefined {
    const s = this.state;
    const n = this.need;
    const movable = s.residentsOf(h).filter((v) => !s.vms[v]!.pinned);
    const cures = (v: number) =>
      s.freeCpu[h]! + s.dCpu[v]! >= n.cpu - 1e-9 &&
      s.freeMem[h]! + s.dMem[v]! >= n.memMiB - 1e-9 &&
      s.freeDisk[h]! + s.dDisk[v]! >= n.diskGiB - 1e-9;
    const order = movable.sort((a, b) => {
      const ca = cures(a) ? 0 : 1;
      const cb = cures(b) ? 0 : 1;
      if (ca !== cb) return ca - cb;
      return ca === 0 ? s.dMem[a]! - s.dMem[b]! || a - b : s.dMem[b]! - s.dMem[a]! || a - b;
    });
    const srcFree = packer.hostKey(h);
    for (const v of order.slice(0, SHED_TRIES)) {
      const to = coolestFit(packer, v, h, srcFree);
      if (to >= 0) return { vm: v, to };
    }
    return undefined;
  }
}

/** Power-on counts tried one by one before the search doubles. */
const LINEAR_TRIALS = 8;

/** Hosts scanned from the roomiest end before giving up on a VM, and VMs of a hot host tried. */
const COOL_SCAN = 32;
const SHED_TRIES = 8;

/** The receiving host with the most key room where `v` fits and keeps more room than `srcFree`. */
function coolestFit(packer: Packer, v: number, avoid: number, srcFree: number): number {
  const idx = packer.index;
  for (let i = idx.size - 1, seen = 0; i >= 0 && seen < COOL_SCAN; i--, seen++) {
    const d = idx.at(i);
    if (packer.hostKey(d) <= srcFree + 1e-9) return -1;
    if (d !== avoid && packer.fits(v, d) && packer.hostKey(d, v) > srcFree + 1e-9) return d;
  }
  return -1;
}
