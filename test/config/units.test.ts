import { describe, expect, it } from 'vitest';
import {
  parseBandwidthMiBps,
  parseCount,
  parseDurationMs,
  parsePercent,
  parseSize,
  type Parsed,
} from '../../src/config/units.js';

function value(p: Parsed): number {
  if (!p.ok) throw new Error(`expected a value, got error: ${p.error}`);
  return p.value;
}

function error(p: Parsed): string {
  if (p.ok) throw new Error(`expected an error, got ${p.value}`);
  return p.error;
}

describe('parseSize', () => {
  it.each([
    ['4GiB', 'MiB', 4096],
    ['512MiB', 'MiB', 512],
    ['1TiB', 'GiB', 1024],
    ['1.5G', 'MiB', 1536],
    ['40G', 'GiB', 40],
    ['2048', 'MiB', 2048],
    [' 8 gib ', 'MiB', 8192],
    ['1048576KiB', 'GiB', 1],
    ['1073741824B', 'GiB', 1],
    [0, 'GiB', 0],
    [300, 'MiB', 300],
  ] as const)('%s in %s is %d', (text, unit, expected) => {
    expect(value(parseSize(text, unit))).toBe(expected);
  });

  it('refuses decimal SI units as ambiguous and suggests the binary one', () => {
    expect(error(parseSize('4GB', 'MiB'))).toBe(
      'ambiguous unit "GB" in "4GB": write 4GiB (binary, 1024-based)',
    );
    expect(error(parseSize('500mb', 'MiB'))).toContain('write 500MiB');
  });

  it('names an unknown unit and the accepted ones', () => {
    expect(error(parseSize('4 gigs', 'MiB'))).toBe(
      'unknown size unit "gigs" in "4 gigs": use B, KiB, MiB, GiB, TiB or PiB',
    );
  });

  it('refuses negative sizes, non-numbers and other types', () => {
    expect(error(parseSize(-1, 'MiB'))).toBe('expected a size >= 0, got -1');
    expect(error(parseSize('-2GiB', 'MiB'))).toBe('expected a size >= 0, got "-2GiB"');
    expect(error(parseSize('lots', 'MiB'))).toBe(
      'expected a size such as 4GiB, 512MiB or a plain number of MiB, got "lots"',
    );
    expect(error(parseSize(true, 'GiB'))).toContain('plain number of GiB, got true');
  });
});

describe('parsePercent', () => {
  it.each([
    ['80%', 0.8],
    [0.8, 0.8],
    ['0.25', 0.25],
    ['100%', 1],
    [0, 0],
    ['12.5 %', 0.125],
  ] as const)('%s is %d', (text, expected) => {
    expect(value(parsePercent(text))).toBeCloseTo(expected, 12);
  });

  it('refuses a bare number above 1 rather than guessing', () => {
    expect(error(parsePercent(80))).toBe(
      'expected a percentage such as 80% or a fraction such as 0.8, got 80 (write 80% for a percentage)',
    );
  });

  it('refuses out-of-range percentages and garbage', () => {
    expect(error(parsePercent('120%'))).toBe('expected a percentage between 0% and 100%, got "120%"');
    expect(error(parsePercent('-5%'))).toContain('between 0% and 100%');
    expect(error(parsePercent('lots'))).toContain('got "lots"');
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['500ms', 's', 500],
    ['30s', 's', 30_000],
    ['10m', 's', 600_000],
    ['2h', 's', 7_200_000],
    ['1d', 's', 86_400_000],
    ['1h30m', 's', 5_400_000],
    ['1h 30m 15s', 's', 5_415_000],
    ['2H', 's', 7_200_000],
    ['45', 's', 45_000],
    [45, 's', 45_000],
    [300, 'ms', 300],
    ['1.5s', 'ms', 1500],
  ] as const)('%s (plain %s) is %d ms', (text, plain, expected) => {
    expect(value(parseDurationMs(text, plain))).toBe(expected);
  });

  it('names an unknown unit', () => {
    expect(error(parseDurationMs('2 weeks', 's'))).toBe(
      'expected a duration such as 500ms, 30s, 10m, 2h or a plain number of seconds, got "2 weeks" (unknown unit "weeks": use ms, s, m, h or d)',
    );
  });

  it('refuses garbage, trailing numbers and negatives', () => {
    expect(error(parseDurationMs('soon', 'ms'))).toContain('plain number of milliseconds, got "soon"');
    expect(error(parseDurationMs('1h30', 's'))).toContain('got "1h30"');
    expect(error(parseDurationMs(-1, 's'))).toBe('expected a duration >= 0, got -1');
    expect(error(parseDurationMs('', 's'))).toContain('got ""');
  });
});

describe('parseBandwidthMiBps', () => {
  it.each([
    ['1000MiB/s', 1000],
    ['1GiB/s', 1024],
    ['512KiB/s', 0.5],
    [250, 250],
    ['250', 250],
  ] as const)('%s is %d MiB/s', (text, expected) => {
    expect(value(parseBandwidthMiBps(text))).toBeCloseTo(expected, 9);
  });

  it('converts network bit rates (decimal bits) to MiB/s', () => {
    expect(value(parseBandwidthMiBps('10Gbit/s'))).toBeCloseTo(1192.09, 2);
    expect(value(parseBandwidthMiBps('800Mbit/s'))).toBeCloseTo(95.367, 3);
  });

  it('refuses unknown units and zero', () => {
    expect(error(parseBandwidthMiBps('1000MB/s'))).toBe(
      'unknown bandwidth unit "MB/s" in "1000MB/s": use MiB/s, GiB/s, Mbit/s or Gbit/s',
    );
    expect(error(parseBandwidthMiBps(0))).toBe('expected a bandwidth > 0, got 0');
    expect(error(parseBandwidthMiBps('fast'))).toContain('got "fast"');
  });
});

describe('parseCount', () => {
  it('takes whole numbers and "unlimited"', () => {
    expect(value(parseCount(3))).toBe(3);
    expect(value(parseCount(0))).toBe(0);
    expect(value(parseCount('unlimited'))).toBe(Number.POSITIVE_INFINITY);
    expect(value(parseCount('None'))).toBe(Number.POSITIVE_INFINITY);
  });

  it('refuses fractions, negatives and words', () => {
    for (const bad of [1.5, -1, 'many', '3'])
      expect(error(parseCount(bad))).toBe(
        `expected a whole number >= 0 or "unlimited", got ${JSON.stringify(bad)}`,
      );
  });
});
