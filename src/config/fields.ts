import { z } from 'zod';
import {
  type DurationUnit,
  type Parsed,
  parseBandwidthMiBps,
  parseCount,
  parseDurationMs,
  parsePercent,
  parseSize,
} from './units.js';

/**
 * Zod field builders for values with units. Every config section (including the ones other modules
 * add: power drivers, report, schedule, state, logging) should use these, so that units and error
 * messages are the same everywhere. The input side (number or string) is what `config schema` shows.
 */

interface FieldOptions {
  readonly description: string;
  /** Refuse 0 (e.g. a standard instance's memory). */
  readonly positive?: boolean;
}

function unitField(parse: (value: unknown) => Parsed, options: FieldOptions, what: string) {
  const describe = (value: unknown): string => {
    const parsed = parse(value);
    const message = parsed.ok ? `expected ${what}` : parsed.error;
    return value === undefined ? `required (${message.replace(/, got undefined$/, '')})` : message;
  };
  return z
    .union([z.number(), z.string()], { error: (issue) => describe(issue.input) })
    .transform((value, ctx) => {
      const parsed = parse(value);
      if (!parsed.ok) {
        ctx.addIssue({ code: 'custom', message: parsed.error, input: value });
        return z.NEVER;
      }
      if (options.positive && parsed.value <= 0) {
        ctx.addIssue({
          code: 'custom',
          message: `expected ${what} > 0, got ${JSON.stringify(value)}`,
          input: value,
        });
        return z.NEVER;
      }
      return parsed.value;
    })
    .meta({ description: options.description });
}

/** A size normalised to MiB; plain numbers are MiB. */
export function sizeMiB(options: FieldOptions) {
  return unitField((v) => parseSize(v, 'MiB'), options, 'a size');
}

/** A size normalised to GiB; plain numbers are GiB. */
export function sizeGiB(options: FieldOptions) {
  return unitField((v) => parseSize(v, 'GiB'), options, 'a size');
}

/** A fraction in [0, 1], written `80%` or `0.8`. */
export function percent(options: FieldOptions) {
  return unitField(parsePercent, options, 'a percentage');
}

/** A duration normalised to milliseconds; plain numbers are in `plainUnit`. */
export function durationMs(plainUnit: DurationUnit, options: FieldOptions) {
  return unitField((v) => parseDurationMs(v, plainUnit), options, 'a duration');
}

/** A bandwidth normalised to MiB/s; plain numbers are MiB/s. */
export function bandwidthMiBps(options: FieldOptions) {
  return unitField(parseBandwidthMiBps, options, 'a bandwidth');
}

/** A whole number >= 0, or `unlimited` (Infinity). */
export function count(options: FieldOptions) {
  return unitField(parseCount, options, 'a count');
}

/** A ratio > 0 (overcommit), as a plain number. */
export function ratio(description: string) {
  return z.number().positive().meta({ description });
}
