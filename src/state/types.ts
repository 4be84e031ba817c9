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

/** Durable local state: tags, journal, power history, usage samples, the run lock. */
export interface StateStore {
  tags(host?: string): HostTag[];
  addTag(tag: HostTag): void;
  removeTag(host: string, tag: string): void;
  journal(entry: JournalEntry): void;
  /** The latest usage sample per VM of the host. */
  usageSamples(host: string): UsageSample[];
  saveUsageSamples(samples: readonly UsageSample[]): void;
  close(): void;
}
