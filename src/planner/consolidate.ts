import { probe } from '../model/capacity.js';
import type { Policy } from '../model/policy.js';
import { failoverShortfallFast } from './squeeze/failover.js';
import { type Headroom, NO_HEADROOM, Packer } from './squeeze/packer.js';
import type { PackState } from './squeeze/state.js';

/** Result of the squeeze: hosts to empty and power off (the VMs' new homes are in the state). */
export interface SqueezeOutcome {
  /** Host indices emptied, in the order they were chosen. */
  readonly emptied: readonly number[];
  /** Why a candidate host was kept, by host index. */
  readonly kept: ReadonlyMap<number, string>;
  /** The rule that stopped the squeeze from freeing more hosts, if any. */
  readonly limitedBy?: string;
}

/** One emptied host and the moves that emptied it (VM index, host it came from), for undo. */
interface Step {
  readonly host: number;
  readonly moves: ReadonlyArray<readonly [number, number]>;
}

/** Hosts around a homeless VM's best-fit position, and VMs per host, that the relocate step tries. */
const ROOM_HOSTS = 8;
const ROOM_VMS = 4;

type Attempt = { ok: true; step: Step } | { ok: false; why: string };

/**
 * Squeeze: choose hosts to empty and where each VM goes (in `state`, which is updated), so that
 * afterwards the metric is still >= target, the failover reserve and min_online_hosts hold, and
 * max_power_off_per_run is respected. Only hosts that are on, not excluded, not keepOn, not
 * draining and without pinned VMs are candidates.
 *
 * Method: candidates ordered by idle watts saved per MiB to migrate (host count per MiB where no
 * power figures), each emptied by best-fit decreasing onto the fullest receiving hosts that keep
 * the per_host probe (if any) free; a candidate whose VMs do not all fit, or whose emptying breaks
 * a threshold, is kept and the walk goes on. The failover reserve is checked after the walk and
 * steps are undone from the last until it holds. Then passes over the kept candidates, reordered by
 * the new loads, retry each with every check until a pass frees nothing: so re-planning the
 * result finds nothing more to squeeze.
 */
export function consolidate(
  state: PackState,
  policy: Policy,
  searchBudget: number,
  ordering: CandidateOrder = 'power',
): SqueezeOutcome {
  return new Squeezer(state, policy, searchBudget).run(ordering);
}

/**
 * How candidates are ordered for emptying, best first. `power`: idle watts saved per MiB to
 * migrate (a host per MiB where hosts carry no power figures). `memory`: least memory to migrate.
 * `cost`: least migration cost, memory plus {@link perMigrationMiB} per VM (fewer, larger
 * migrations). Each order gives a complete plan; the planner keeps the best by its objective.
 */
export type CandidateOrder = 'power' | 'memory' | 'cost';

/** The orders worth trying for this cluster (`power` only when hosts carry power figures). */
export function candidateOrders(state: PackState): CandidateOrder[] {
  const orders: CandidateOrder[] = ['memory', 'cost'];
  return state.hosts.some((h) => h.idleWatts !== undefined) ? ['power', ...orders] : orders;
}

class Squeezer {
  private readonly packer: Packer;
  private readonly head: Headroom;
  private readonly isMetric: Uint8Array;
  private readonly fitOf: Float64Array;
  private sumFit = 0;
  private metricCount = 0;
  private onlineCount = 0;
  private readonly steps: Step[] = [];
  private readonly kept = new Map<number, string>();
  private limitedBy: string | undefined;

  constructor(
    private readonly state: PackState,
    private readonly policy: Policy,
    private readonly searchBudget: number,
  ) {
    const t = policy.thresholds;
    this.head = t.mode === 'per_host' ? toHeadroom(probe(policy.standard, t.target)) : NO_HEADROOM;
    this.packer = new Packer(state, this.head);
    const n = state.hosts.length;
    this.isMetric = new Uint8Array(n);
    this.fitOf = new Float64Array(n);
    state.hosts.forEach((h, i) => {
      if (state.on[i] !== 1) return;
      this.onlineCount += 1;
      if (h.drain) return;
      this.isMetric[i] = 1;
      this.fitOf[i] = state.fit(i);
      this.sumFit += this.fitOf[i]!;
      this.metricCount += 1;
    });
  }

  run(ordering: CandidateOrder): SqueezeOutcome {
    const candidates = this.candidates(ordering);
    for (const c of candidates) {
      if (this.stopped()) break;
      const a = this.tryEmpty(c, false);
      if (a.ok) this.steps.push(a.step);
      else this.kept.set(c, a.why);
    }
    this.backOffForFailover();
    this.settle([ordering, ...candidateOrders(this.state).filter((o) => o !== ordering)]);
    if (!this.perHostHolds()) this.undoAll();
    return { emptied: this.steps.map((s) => s.host), kept: this.kept, limitedBy: this.limitedBy };
  }

  /** Hosts that may be emptied, best first. */
  private candidates(ordering: CandidateOrder): number[] {
    const s = this.state;
    const list: number[] = [];
    s.hosts.forEach((h, i) => {
      if (s.on[i] !== 1 || h.exclude || h.keepOn || h.drain) return;
      if (s.pinnedCount[i]! > 0) {
        const pinned = s.residentsOf(i).find((v) => s.vms[v]!.pinned)!;
        this.kept.set(i, `pinned VM ${s.vms[pinned]!.id} cannot move`);
        return;
      }
      list.push(i);
    });
    const byPower = ordering === 'power' && list.every((i) => s.hosts[i]!.idleWatts !== undefined);
    const score = new Float64Array(s.hosts.length);
    const watts = new Float64Array(s.hosts.length);
    const fixedMiB = ordering === 'cost' ? perMigrationMiB(this.policy) : 0;
    for (const i of list) {
      watts[i] = s.hosts[i]!.idleWatts ?? 0;
      score[i] = (byPower ? watts[i]! : 1) / Math.max(s.usedMem(i) + fixedMiB * s.residentsOf(i).length, 1);
    }
    return list.sort((a, b) => score[b]! - score[a]! || watts[b]! - watts[a]! || a - b);
  }

  private stopped(): boolean {
    const safety = this.policy.safety;
    if (this.steps.length >= safety.maxPowerOffPerRun) {
      this.limitedBy = `max_power_off_per_run ${safety.maxPowerOffPerRun} reached`;
      return true;
    }
    if (this.onlineCount - 1 < safety.minOnlineHosts) {
      this.limitedBy = `min_online_hosts ${safety.minOnlineHosts} reached`;
      return true;
    }
    return false;
  }

  /** Tries to move every VM off host `c`; keeps the moves only when every rule still holds. */
  private tryEmpty(c: number, thorough: boolean): Attempt {
    const s = this.state;
    const p = this.packer;
    p.close(c);
    const vms = [...s.residentsOf(c)].sort(
      (a, b) => p.size(b) - p.size(a) || s.dMem[b]! - s.dMem[a]! || a - b,
    );
    const moves: Array<readonly [number, number]> = [];
    let why: string | undefined;
    for (const v of vms) {
      const to = p.bestFit(v, c);
      if (to >= 0) {
        this.moveVm(v, to);
        moves.push([v, c]);
      } else if (!thorough || !this.makeRoom(v, c, moves)) {
        why = `VM ${s.vms[v]!.id} (${gib(s.dMem[v]!)}) finds no room elsewhere`;
        break;
      }
    }
    why ??= this.metricBreaks(c) ?? (thorough ? this.failoverBreaks(c) : undefined);
    if (why !== undefined) {
      this.undoMoves(moves);
      p.open(c);
      return { ok: false, why };
    }
    this.switchOff(c);
    return { ok: true, step: { host: c, moves } };
  }

  /**
   * Local search (relocate): VM `v` fits nowhere, so look at the hosts nearest its best-fit position
   * for one VM `w` whose departure makes room for `v` and which fits elsewhere itself; move `w`
   * there and `v` into the room. VMs already moved in this plan go first (no extra migration), then
   * the smallest. Moves are appended to `moves` so that a failed evacuation undoes them too.
   */
  private makeRoom(v: number, c: number, moves: Array<readonly [number, number]>): boolean {
    const s = this.state;
    const p = this.packer;
    const h0 = this.head;
    const pos = p.index.lowerBound(p.demandKey(v));
    const hosts: number[] = [];
    for (let i = Math.max(0, pos - ROOM_HOSTS); i < Math.min(p.index.size, pos + ROOM_HOSTS); i++)
      hosts.push(p.index.at(i));
    const moved = (w: number) => (s.vmHost[w] !== s.origHost[w] ? 0 : 1);
    for (const h of hosts) {
      const ws = s
        .residentsOf(h)
        .filter((w) => !s.vms[w]!.pinned && s.fitsWithout(v, w, h, h0.cpu, h0.memMiB, h0.diskGiB))
        .sort((a, b) => moved(a) - moved(b) || s.dMem[a]! - s.dMem[b]! || a - b)
        .slice(0, ROOM_VMS);
      for (const w of ws) {
        const to = p.bestFit(w, c, h);
        if (to < 0) continue;
        this.moveVm(w, to);
        moves.push([w, h]);
        this.moveVm(v, h);
        moves.push([v, c]);
        return true;
      }
    }
    return false;
  }

  /** Reason the average metric would drop below target when `c` goes off, or undefined. */
  private metricBreaks(c: number): string | undefined {
    if (this.policy.thresholds.mode !== 'average' || this.isMetric[c] !== 1) return undefined;
    const target = this.policy.thresholds.target;
    const after = (this.sumFit - this.state.fit(c)) / (this.metricCount - 1);
    if (this.metricCount - 1 > 0 && after >= target - 1e-9) return undefined;
    this.limitedBy ??= `target ${target} standard instances per host`;
    return `needed to stay at or above target ${target} (would drop to ${after.toFixed(2)})`;
  }

  private failoverBreaks(c: number): string | undefined {
    const reserve = this.policy.safety.failoverReserveHosts;
    if (reserve <= 0) return undefined;
    this.state.on[c] = 0;
    const missing = failoverShortfallFast(this.state, reserve);
    this.state.on[c] = 1;
    if (missing < 0) return undefined;
    this.limitedBy = `failover reserve of ${reserve} host(s)`;
    return `needed for the failover reserve of ${reserve} host(s)`;
  }

  private switchOff(c: number): void {
    const s = this.state;
    s.on[c] = 0;
    s.accepts[c] = 0;
    this.onlineCount -= 1;
    if (this.isMetric[c] === 1) {
      this.isMetric[c] = 0;
      this.sumFit -= this.fitOf[c]!;
      this.metricCount -= 1;
    }
  }

  private switchOn(c: number): void {
    const s = this.state;
    s.on[c] = 1;
    s.accepts[c] = 1;
    this.onlineCount += 1;
    this.isMetric[c] = 1;
    this.fitOf[c] = s.fit(c);
    this.sumFit += this.fitOf[c]!;
    this.metricCount += 1;
    this.packer.open(c);
  }

  private moveVm(v: number, to: number): void {
    const from = this.state.vmHost[v]!;
    this.packer.move(v, to);
    this.refit(from);
    this.refit(to);
  }

  private refit(h: number): void {
    if (this.isMetric[h] !== 1) return;
    const f = this.state.fit(h);
    this.sumFit += f - this.fitOf[h]!;
    this.fitOf[h] = f;
  }

  private undoMoves(moves: ReadonlyArray<readonly [number, number]>): void {
    for (let i = moves.length - 1; i >= 0; i--) this.moveVm(moves[i]![0], moves[i]![1]);
  }

  private undoLastStep(): number {
    const step = this.steps.pop()!;
    this.switchOn(step.host);
    this.undoMoves(step.moves);
    return step.host;
  }

  private undoAll(): void {
    while (this.steps.length > 0) this.undoLastStep();
    this.limitedBy = `a host that cannot be emptied cannot take a ${this.policy.thresholds.target} x standard probe`;
  }

  /** Undoes the last steps until the failover reserve holds. */
  private backOffForFailover(): void {
    const reserve = this.policy.safety.failoverReserveHosts;
    if (reserve <= 0) return;
    while (this.steps.length > 0 && failoverShortfallFast(this.state, reserve) >= 0) {
      const h = this.undoLastStep();
      this.kept.set(h, `needed for the failover reserve of ${reserve} host(s)`);
      this.limitedBy = `failover reserve of ${reserve} host(s)`;
    }
  }

  /**
   * Retries the kept candidates against the final state, in every candidate order in turn, until a
   * round frees nothing (so a re-plan of the result, whichever order wins there, finds nothing).
   */
  private settle(orders: readonly CandidateOrder[]): void {
    let budget = this.searchBudget;
    for (;;) {
      let freed = 0;
      for (const c of orders.flatMap((o) => this.candidates(o))) {
        if (this.state.on[c] !== 1) continue;
        if (this.stopped() || budget <= 0) return;
        const before = this.packer.evaluations;
        const a = this.tryEmpty(c, true);
        budget -= this.packer.evaluations - before + 1;
        if (a.ok) {
          this.steps.push(a.step);
          this.kept.delete(c);
          freed += 1;
        } else this.kept.set(c, a.why);
      }
      if (freed === 0) return;
    }
  }

  /** per_host: every online, non-draining host must still take a target probe. */
  private perHostHolds(): boolean {
    if (this.policy.thresholds.mode !== 'per_host') return true;
    const s = this.state;
    const h = this.head;
    return s.hosts.every((_, i) => this.isMetric[i] !== 1 || s.takesProbe(i, h.cpu, h.memMiB, h.diskGiB));
  }
}

function toHeadroom(r: { cpu: number; memMiB: number; diskGiB: number }): Headroom {
  return { cpu: r.cpu, memMiB: r.memMiB, diskGiB: r.diskGiB };
}

/**
 * Fixed cost of one live migration (connection and device-state set-up, switch-over, the check
 * that the VM runs on its destination), about {@link MIGRATION_FIXED_SECONDS} s, expressed as the
 * memory the migration link copies in that time, MiB. Makes fewer, larger migrations win over
 * many small ones of slightly less memory (each migration is a risk for its VM).
 */
export function perMigrationMiB(policy: Policy): number {
  return MIGRATION_FIXED_SECONDS * policy.migration.bandwidthMiBps;
}

/** Seconds of fixed cost per live migration, see {@link perMigrationMiB}. */
export const MIGRATION_FIXED_SECONDS = 4;

/** Memory in GiB with one decimal, for reasons. */
export function gib(memMiB: number): string {
  return `${(memMiB / 1024).toFixed(1)} GiB`;
}
