/** Power state as a BMC or a probe reports it. */
export type PowerState = 'on' | 'off' | 'unknown';

/** One power driver for one host (ipmi, wol, ssh, command). Secrets never reach argv, logs or errors. */
export interface PowerDriver {
  readonly name: string;
  status(signal?: AbortSignal): Promise<PowerState>;
  powerOn(signal?: AbortSignal): Promise<void>;
  /** Graceful (soft) power-off where the driver can; `hard` only when configured. */
  powerOff(opts: { hard: boolean }, signal?: AbortSignal): Promise<void>;
  /** Instantaneous power draw in watts where the driver can read it (DCMI), else undefined. */
  readPowerWatts?(signal?: AbortSignal): Promise<number | undefined>;
}
