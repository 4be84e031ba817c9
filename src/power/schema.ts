import { z } from 'zod';
import { durationMs } from '../config/fields.js';
import type { DrillPolicy, PowerTiming } from './sequences.js';

const HH_MM = /^([01]?\d|2[0-3]):([0-5]\d)$/;

function minutes(hhmm: string): number {
  const m = HH_MM.exec(hhmm)!;
  return Number(m[1]) * 60 + Number(m[2]);
}

/** Top-level `power.drills`: wake drills in quiet hours. */
const drillsSchema = z
  .strictObject({
    enabled: z.boolean().default(false),
    quiet_hours: z
      .string()
      .regex(/^\d{1,2}:\d{2}-\d{1,2}:\d{2}$/, { message: 'expected a local time window such as 02:00-05:00' })
      .refine((w) => w.split('-').every((t) => HH_MM.test(t)), {
        message: 'expected times between 00:00 and 23:59',
      })
      .default('02:00-05:00')
      .meta({ description: 'local time window in which a drill may run (may span midnight)' }),
    min_interval: durationMs('s', { description: 'least time between two drills', positive: true }).default(
      7 * 86_400_000,
    ),
  })
  .meta({ description: 'wake the standby host off longest, verify it, and put it back' });

/** Top-level `power:` defaults for every host's power actions. */
export const powerDefaultsSchema = z
  .strictObject({
    stagger: durationMs('s', { description: 'pause between two power actions of a run' }).default(30_000),
    poll_interval: durationMs('s', { description: 'pause between two state checks', positive: true }).default(
      5_000,
    ),
    off_timeout: durationMs('s', {
      description: 'time for each off step to be confirmed',
      positive: true,
    }).default(300_000),
    wake_timeout: durationMs('s', {
      description: 'time for a woken host to be verified (BMC on, SSH, libvirt capacity)',
      positive: true,
    }).default(600_000),
    drills: drillsSchema.prefault({}),
  })
  .meta({ description: 'power action pacing and deadlines' });

export type PowerDefaults = z.output<typeof powerDefaultsSchema>;

/** The sequences' timing from the config. */
export function powerTiming(p: PowerDefaults): PowerTiming {
  return {
    pollMs: p.poll_interval,
    offTimeoutMs: p.off_timeout,
    wakeTimeoutMs: p.wake_timeout,
    staggerMs: p.stagger,
  };
}

/** The drill policy from the config. */
export function drillPolicy(p: PowerDefaults): DrillPolicy {
  const [start, end] = p.drills.quiet_hours.split('-') as [string, string];
  return {
    enabled: p.drills.enabled,
    startMin: minutes(start),
    endMin: minutes(end),
    minIntervalMs: p.drills.min_interval,
  };
}
