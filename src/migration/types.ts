import type { Migration } from '../planner/plan.js';

/** Progress of one migration, as the hypervisor reports it. */
export interface MigrationProgress {
  readonly vm: string;
  readonly dataProcessedMiB: number;
  readonly dataRemainingMiB: number;
  readonly elapsedMs: number;
}

/** Result of one migration after verification (running on the destination, gone from the source). */
export interface MigrationOutcome {
  readonly vm: string;
  readonly ok: boolean;
  readonly durationMs: number;
  /** Why it failed, one line; the VM keeps running on its source. */
  readonly error?: string;
}

/** Carries out single live migrations. */
export interface Migrator {
  migrate(
    m: Migration,
    opts: { timeoutMs: number; signal?: AbortSignal; onProgress?: (p: MigrationProgress) => void },
  ): Promise<MigrationOutcome>;
}
