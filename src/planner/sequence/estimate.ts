import type { Vm } from '../../model/cluster.js';
import type { Policy } from '../../model/policy.js';

/**
 * Pre-copy rounds after which a migration that has not converged is called non-converging (QEMU
 * itself iterates forever; operators cap it or throttle the guest, both of which we do not model).
 */
export const MAX_PRECOPY_ROUNDS = 30;

/** Estimated duration of one live migration and whether pre-copy converges. */
export interface MigrationEstimate {
  /** Seconds from start to switch-over (pre-copy rounds plus the final stop-and-copy). */
  readonly seconds: number;
  /** False when the dirty set never shrinks to what `maxDowntimeMs` allows at the bandwidth. */
  readonly converges: boolean;
}

/**
 * Live-migration time model (pre-copy): round 0 copies the VM's memory at `bandwidthMiBps`;
 * every later round copies what the guest dirtied (`dirtyRateMiBps`) during the previous round;
 * once the remaining dirty set can be copied within `maxDowntimeMs`, the guest is paused and the
 * rest is copied (stop-and-copy). Without a known dirty rate the memory is copied once.
 * A dirty rate at or above the bandwidth, or more than {@link MAX_PRECOPY_ROUNDS} rounds, means
 * the migration would not converge; its estimate is then the time of those rounds.
 */
export function estimateMigration(vm: Vm, policy: Policy): MigrationEstimate {
  const bandwidth = policy.migration.bandwidthMiBps;
  const memMiB = vm.demand.memMiB;
  if (!(bandwidth > 0)) return { seconds: Number.POSITIVE_INFINITY, converges: false };
  const dirty = vm.dirtyRateMiBps ?? 0;
  const downtimeBudgetMiB = (policy.migration.maxDowntimeMs / 1000) * bandwidth;
  let seconds = 0;
  let toCopyMiB = memMiB;
  for (let round = 0; round < MAX_PRECOPY_ROUNDS; round++) {
    if (toCopyMiB <= downtimeBudgetMiB || dirty <= 0) {
      // Without dirtying, one full copy is the whole migration; otherwise this is the stop-and-copy.
      return { seconds: seconds + toCopyMiB / bandwidth, converges: true };
    }
    const roundSeconds = toCopyMiB / bandwidth;
    seconds += roundSeconds;
    toCopyMiB = Math.min(memMiB, dirty * roundSeconds);
  }
  return { seconds: seconds + toCopyMiB / bandwidth, converges: false };
}
