import type { Resources } from '../model/resources.js';

/** Tags virt-squeeze itself sets or reads; admins may add their own. */
export const TAG = {
  /** Powered down by virt-squeeze (or an admin); may be woken. */
  standby: 'standby',
  /** Quarantine: failed to wake; never picked again until an admin removes the tag. */
  wakeFailed: 'wake-failed',
  /** Never powered down and never given VMs. */
  exclude: 'exclude',
} as const;

/** A host tag in the state store, with who/when/why. */
export interface HostTag {
  readonly host: string;
  /** `standby`, `wake-failed`, `exclude`, or an admin's own tag. */
  readonly tag: string;
  readonly by: string;
  readonly atMs: number;
  readonly why: string;
}

/** A journal entry: every action's intent before it starts and its outcome after it ends. */
export interface JournalEntry {
  readonly runId: string;
  readonly atMs: number;
  readonly action: string;
  readonly target: string;
  readonly phase: 'intent' | 'done' | 'failed';
  readonly detail?: string;
}

/** A cumulative CPU-time sample of one VM, to compute CPU use from deltas between runs. */
export interface UsageSample {
  readonly host: string;
  readonly vm: string;
  readonly atMs: number;
  readonly cpuTimeNs: number;
}

/** What happened to a host's power, for its history (drills pick the host off longest). */
export type PowerEventKind = 'off' | 'on' | 'wake-failed' | 'off-failed' | 'drill-ok' | 'drill-failed';

/** One entry of a host's power history. */
export interface PowerEvent {
  readonly host: string;
  readonly atMs: number;
  readonly kind: PowerEventKind;
  /** How (`ssh`, `ipmi-soft`, `wol`, ...) or why it failed; never a secret. */
  readonly detail: string;
  /** Measured draw in watts at that moment, when the BMC offered a reading. */
  readonly watts?: number;
}

/** Who holds the run lock. */
export interface LockHolder {
  readonly runId: string;
  readonly pid: number;
  readonly hostname: string;
  readonly sinceMs: number;
}

/** A held run lock; release it in a `finally`. */
export interface RunLock {
  readonly holder: LockHolder;
  release(): void;
}

/** Durable local state: tags, journal, power history, usage samples, the run lock. */
export interface StateStore {
  tags(host?: string): HostTag[];
  /** Adds the tag, or replaces its who/when/why when the host already has it. */
  addTag(tag: HostTag): void;
  /** Removes the tag; returns false when the host did not have it. */
  removeTag(host: string, tag: string): boolean;
  journal(entry: JournalEntry): void;
  /** Journal entries, oldest first; of one run when `runId` is given. */
  journalEntries(runId?: string): JournalEntry[];
  /** Intents with no outcome yet (a run died mid-action): what the next run must recover. */
  unfinishedActions(): JournalEntry[];
  recordPower(event: PowerEvent): void;
  /** A host's power history, newest first. */
  powerHistory(host: string, limit?: number): PowerEvent[];
  /** The latest usage sample per VM of the host. */
  usageSamples(host: string): UsageSample[];
  saveUsageSamples(samples: readonly UsageSample[]): void;
  /** Each host's capacity when it was last read on (a standby host cannot be read). */
  hostCapacities(): Map<string, Resources>;
  /** Records what the hosts read now offer (replaces older readings). */
  saveHostCapacities(capacities: ReadonlyMap<string, Resources>, atMs: number): void;
  /** Takes the run lock or throws LockHeldError (a lock of a dead process on this machine is taken over). */
  acquireLock(runId: string): RunLock;
  close(): void;
}
