/** Power state as a BMC or a probe reports it. */
export type PowerState = 'on' | 'off' | 'unknown';

/** How a driver turns a host off: the OS shuts down (graceful, soft = ACPI request) or the power is cut (hard). */
export type OffMode = 'graceful' | 'soft' | 'hard';

/**
 * One power driver for one host (ipmi, wol, ssh, command). Each implements what its channel can
 * do: `wol` only powers on, `ssh` only shuts down and answers. Secrets never reach argv, logs or errors;
 * failures throw BackendError naming the host and driver.
 */
export interface PowerDriver {
  readonly name: string;
  status?(signal?: AbortSignal): Promise<PowerState>;
  powerOn?(signal?: AbortSignal): Promise<void>;
  powerOff?(mode: OffMode, signal?: AbortSignal): Promise<void>;
  /** True when the host's OS answers (an authenticated SSH session opens). */
  answers?(signal?: AbortSignal): Promise<boolean>;
  /** Instantaneous power draw in watts where the driver can read it (DCMI), else undefined. */
  readPowerWatts?(signal?: AbortSignal): Promise<number | undefined>;
}

/** A way to power a host on, in the per-host `power.on` list. */
export type OnMethod = 'ipmi' | 'wol' | 'command';

/** A way to power a host off, in the per-host `power.off` list, tried in order. */
export type OffMethod = 'ssh' | 'ipmi-soft' | 'ipmi-hard' | 'command';

/** Power control of one host, composed from its configured drivers. */
export interface HostPower {
  readonly hostId: string;
  readonly onMethods: readonly OnMethod[];
  readonly offMethods: readonly OffMethod[];
  /** True when some driver (BMC or site command) reports the power state. */
  readonly hasStatus: boolean;
  /** True when an SSH driver can tell whether the OS answers. */
  readonly hasAnswers: boolean;
  /** The power state from the BMC or site command; `unknown` when neither is configured. */
  status(signal?: AbortSignal): Promise<PowerState>;
  /** Tries the `on` methods in order; returns the one that was accepted, or throws BackendError naming every failure. */
  powerOn(signal?: AbortSignal): Promise<OnMethod>;
  /** Runs one `off` step (it only asks; the caller verifies). */
  powerOff(method: OffMethod, signal?: AbortSignal): Promise<void>;
  /** Whether the OS answers over SSH; undefined when no SSH driver is configured. */
  answers(signal?: AbortSignal): Promise<boolean | undefined>;
  /** DCMI reading in watts, or undefined when the BMC offers none. */
  readPowerWatts(signal?: AbortSignal): Promise<number | undefined>;
}
