/** What is known about one host's power draw. */
export interface HostDraw {
  readonly id: string;
  /** The BMC's DCMI reading while the host was on and empty, watts. */
  readonly measuredWatts?: number;
  /** Configured draw with no load (`idle_w`), watts. */
  readonly idleWatts?: number;
  /** Configured draw at full CPU (`max_w`), watts. */
  readonly maxWatts?: number;
}

/** Estimated savings of powering hosts down. */
export interface EnergySavings {
  /** Watts no longer drawn. */
  readonly watts: number;
  /** Energy saved per day at that rate, kWh. */
  readonly kWhPerDay: number;
  /** Where each figure came from, per host: `dcmi`, `idle_w`, `max_w`, or `unknown` (counted as 0). */
  readonly basis: Readonly<Record<string, 'dcmi' | 'idle_w' | 'max_w' | 'unknown'>>;
}

/** Draw of an empty host: the measured reading where the BMC offers one, else `idle_w`, else `max_w` (an upper bound). */
export function emptyHostWatts(h: HostDraw): { watts: number; basis: EnergySavings['basis'][string] } {
  if (h.measuredWatts !== undefined && h.measuredWatts > 0) return { watts: h.measuredWatts, basis: 'dcmi' };
  if (h.idleWatts !== undefined) return { watts: h.idleWatts, basis: 'idle_w' };
  if (h.maxWatts !== undefined) return { watts: h.maxWatts, basis: 'max_w' };
  return { watts: 0, basis: 'unknown' };
}

/**
 * Watts and kWh per day saved by powering `hosts` down (an emptied host draws its idle power, so
 * that is what standby saves), less `standbyWatts` each still draws (BMC, NIC armed for WoL). Pure.
 */
export function estimateSavings(hosts: readonly HostDraw[], standbyWatts = 0): EnergySavings {
  let watts = 0;
  const basis: Record<string, EnergySavings['basis'][string]> = {};
  for (const h of hosts) {
    const draw = emptyHostWatts(h);
    basis[h.id] = draw.basis;
    if (draw.basis !== 'unknown') watts += Math.max(0, draw.watts - standbyWatts);
  }
  return { watts, kWhPerDay: (watts * 24) / 1000, basis };
}
