/**
 * Unit parsing for configuration values. Pure: each parser returns the value in the field's unit or
 * a one-line reason, so the schema can attach it to the field path and YAML line.
 *
 * Sizes are binary (1 KiB = 1024 B). `KiB MiB GiB TiB PiB` and the single letters `K M G T P` (as in
 * libvirt, QEMU and `free -g`) are accepted; decimal `KB MB GB TB` are refused because they are
 * ambiguous (a "GB" of RAM is usually a GiB, a "GB" of disk usually 10^9 bytes).
 */

/** A parsed value, or why the text was refused. */
export type Parsed =
  { readonly ok: true; readonly value: number } | { readonly ok: false; readonly error: string };

const ok = (value: number): Parsed => ({ ok: true, value });
const fail = (error: string): Parsed => ({ ok: false, error });

export type SizeUnit = 'B' | 'KiB' | 'MiB' | 'GiB' | 'TiB';

const BYTES_PER: Record<string, number> = {
  b: 1,
  k: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tib: 2 ** 40,
  p: 2 ** 50,
  pib: 2 ** 50,
};

const SIZE_BYTES: Record<SizeUnit, number> = { B: 1, KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

const NUMBER_AND_UNIT = /^([+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?)\s*([a-z%/]*)$/i;

/** Splits `"4GiB"` into 4 and `"GiB"`; undefined when the text does not start with a number. */
function splitNumber(text: string): { amount: number; unit: string } | undefined {
  const m = NUMBER_AND_UNIT.exec(text.trim());
  if (!m) return undefined;
  const amount = Number(m[1]);
  return Number.isFinite(amount) ? { amount, unit: m[2] ?? '' } : undefined;
}

function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function plainNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/**
 * A size in `unit`. Plain numbers (and numbers without a suffix) are already in `unit`.
 * Examples with unit MiB: `4GiB` -> 4096, `512MiB` -> 512, `1.5G` -> 1536, `2048` -> 2048.
 */
export function parseSize(value: unknown, unit: SizeUnit): Parsed {
  const plain = plainNumber(value);
  if (plain !== undefined) return plain < 0 ? fail(`expected a size >= 0, got ${plain}`) : ok(plain);
  const expected = `expected a size such as 4GiB, 512MiB or a plain number of ${unit}`;
  if (typeof value !== 'string') return fail(`${expected}, got ${quote(value)}`);
  const parts = splitNumber(value);
  if (!parts) return fail(`${expected}, got ${quote(value)}`);
  if (parts.unit === '')
    return parts.amount < 0 ? fail(`expected a size >= 0, got ${quote(value)}`) : ok(parts.amount);
  const key = parts.unit.toLowerCase();
  if (/^[kmgtp]b$/.test(key))
    return fail(
      `ambiguous unit "${parts.unit}" in ${quote(value)}: write ${parts.amount}${parts.unit[0]!.toUpperCase()}iB (binary, 1024-based)`,
    );
  const bytes = BYTES_PER[key];
  if (bytes === undefined)
    return fail(`unknown size unit "${parts.unit}" in ${quote(value)}: use B, KiB, MiB, GiB, TiB or PiB`);
  if (parts.amount < 0) return fail(`expected a size >= 0, got ${quote(value)}`);
  return ok((parts.amount * bytes) / SIZE_BYTES[unit]);
}

/**
 * A fraction in [0, 1]: `80%` -> 0.8, `0.8` -> 0.8. A bare number above 1 is refused rather than
 * guessed (is `80` meant as 80 % or as 80x?).
 */
export function parsePercent(value: unknown): Parsed {
  const plain = plainNumber(value);
  const expected = 'expected a percentage such as 80% or a fraction such as 0.8';
  let fraction: number | undefined = plain;
  if (fraction === undefined && typeof value === 'string') {
    const parts = splitNumber(value);
    if (parts && parts.unit === '%') fraction = parts.amount / 100;
    else if (parts && parts.unit === '') fraction = parts.amount;
  }
  if (fraction === undefined) return fail(`${expected}, got ${quote(value)}`);
  if (fraction < 0 || fraction > 1)
    return fail(
      plain !== undefined && plain > 1
        ? `${expected}, got ${plain} (write ${plain}% for a percentage)`
        : `expected a percentage between 0% and 100%, got ${quote(value)}`,
    );
  return ok(fraction);
}

export type DurationUnit = 'ms' | 's';

const MS_PER: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  min: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

const DURATION_PART = /(\d+(?:\.\d+)?)\s*(ms|min|s|m|h|d)/gy;

/**
 * A duration in milliseconds: `500ms`, `30s`, `10m`, `2h`, `1d`, and sums such as `1h30m`.
 * Plain numbers are in `plainUnit` (each field documents it).
 */
export function parseDurationMs(value: unknown, plainUnit: DurationUnit): Parsed {
  const plain = plainNumber(value);
  if (plain !== undefined)
    return plain < 0 ? fail(`expected a duration >= 0, got ${plain}`) : ok(plain * MS_PER[plainUnit]!);
  const expected = `expected a duration such as 500ms, 30s, 10m, 2h or a plain number of ${plainUnit === 'ms' ? 'milliseconds' : 'seconds'}`;
  if (typeof value !== 'string') return fail(`${expected}, got ${quote(value)}`);
  const text = value.trim().replace(/\s+/g, '').toLowerCase();
  if (/^\d+(?:\.\d+)?$/.test(text)) return ok(Number(text) * MS_PER[plainUnit]!);
  DURATION_PART.lastIndex = 0;
  let totalMs = 0;
  let consumed = 0;
  for (let m = DURATION_PART.exec(text); m; m = DURATION_PART.exec(text)) {
    totalMs += Number(m[1]) * MS_PER[m[2]!]!;
    consumed = DURATION_PART.lastIndex;
  }
  if (text === '' || consumed !== text.length) {
    const unit = /^\d+(?:\.\d+)?([a-z]+)/.exec(text.slice(consumed))?.[1];
    const hint = unit ? ` (unknown unit "${unit}": use ms, s, m, h or d)` : '';
    return fail(`${expected}, got ${quote(value)}${hint}`);
  }
  return ok(totalMs);
}

const BANDWIDTH_MIBPS: Record<string, number> = {
  'kib/s': 1 / 1024,
  'mib/s': 1,
  'gib/s': 1024,
  'kbit/s': 1e3 / 8 / 2 ** 20,
  'mbit/s': 1e6 / 8 / 2 ** 20,
  'gbit/s': 1e9 / 8 / 2 ** 20,
};

/**
 * A bandwidth in MiB/s (libvirt's unit for migration bandwidth): `1000MiB/s`, `1GiB/s`, or network
 * rates `10Gbit/s` (decimal bits: 10 Gbit/s = 1192 MiB/s). Plain numbers are MiB/s.
 */
export function parseBandwidthMiBps(value: unknown): Parsed {
  const plain = plainNumber(value);
  if (plain !== undefined) return plain <= 0 ? fail(`expected a bandwidth > 0, got ${plain}`) : ok(plain);
  const expected = 'expected a bandwidth such as 1000MiB/s, 1GiB/s, 10Gbit/s or a plain number of MiB/s';
  if (typeof value !== 'string') return fail(`${expected}, got ${quote(value)}`);
  const parts = splitNumber(value);
  if (!parts) return fail(`${expected}, got ${quote(value)}`);
  const factor = parts.unit === '' ? 1 : BANDWIDTH_MIBPS[parts.unit.toLowerCase()];
  if (factor === undefined)
    return fail(
      `unknown bandwidth unit "${parts.unit}" in ${quote(value)}: use MiB/s, GiB/s, Mbit/s or Gbit/s`,
    );
  if (parts.amount <= 0) return fail(`expected a bandwidth > 0, got ${quote(value)}`);
  return ok(parts.amount * factor);
}

/** Words an operator may write for "no limit" on a count. */
const UNLIMITED = new Set(['unlimited', 'none', 'no-limit']);

/** A non-negative integer count, or `unlimited` (-> Infinity). */
export function parseCount(value: unknown): Parsed {
  if (typeof value === 'string' && UNLIMITED.has(value.trim().toLowerCase()))
    return ok(Number.POSITIVE_INFINITY);
  const plain = plainNumber(value);
  if (plain === undefined || !Number.isInteger(plain) || plain < 0)
    return fail(`expected a whole number >= 0 or "unlimited", got ${quote(value)}`);
  return ok(plain);
}
