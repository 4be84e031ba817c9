import { readFile, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import {
  type Document,
  LineCounter,
  type Node,
  type Pair,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseDocument,
} from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { type ConfigPath, checkRules, formatPath } from './rules.js';
import { type Config, configSchema } from './schema.js';

/** A loaded configuration: where it came from and the warnings of its cross-field rules. */
export interface LoadedConfig {
  /** Absolute path of the config file. */
  readonly path: string;
  /** Its directory: relative paths inside the config (cluster_file) are resolved against it. */
  readonly dir: string;
  /** Parsed config; `cluster_file`, when set, is absolute (a `ganeti:` prefix is kept). */
  readonly config: Config;
  /** One line each: `FILE:LINE: field: message`. */
  readonly warnings: string[];
}

/** At most this many error lines in one ConfigError (the first is self-contained). */
const MAX_ERROR_LINES = 20;

/** Reads, parses and checks a YAML config. Throws ConfigError (one line per problem, no stack). */
export async function loadConfig(path: string): Promise<LoadedConfig> {
  const file = resolve(path);
  const text = await readConfigFile(file);
  const parsed = parseConfigText(text, file);
  const dir = dirname(file);
  const config = await resolveClusterFile(parsed.config, dir, parsed.locate);
  return { path: file, dir, config, warnings: parsed.warnings };
}

const READ_FAILURES: Record<string, string> = {
  ENOENT: 'no such config file (pass --config FILE, or start from config/example.yaml)',
  EACCES: 'config file not readable: permission denied',
  EPERM: 'config file not readable: permission denied',
  EISDIR: 'is a directory, expected a YAML config file',
};

async function readConfigFile(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new ConfigError(`${file}: ${READ_FAILURES[code] ?? `config file cannot be read (${code})`}`);
  }
}

/** Maps a config path to `FILE:LINE` (or `FILE` when the YAML has no such node). */
export type Locator = (path: ConfigPath, keyOfLast?: boolean) => string;

/** Parses config text; `file` is only used in messages. Throws ConfigError. */
export function parseConfigText(
  text: string,
  file: string,
): { config: Config; warnings: string[]; locate: Locator } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const pos = lineCounter.linePos(e.pos[0]);
      return `${file}:${pos.line}:${pos.col}: YAML syntax error: ${e.message.split('\n')[0]}`;
    });
    throw configError(lines, file);
  }
  const locate = locator(doc, lineCounter, file);
  const raw: unknown = doc.toJS() ?? {};
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success)
    throw configError(
      result.error.issues.flatMap((issue) => describeIssue(issue, raw, locate)),
      file,
    );
  const rules = checkRules(result.data);
  const at = (i: { path: ConfigPath; message: string }): string =>
    `${locate(i.path)}: ${formatPath(i.path)}: ${i.message}`;
  if (rules.errors.length > 0) throw configError(rules.errors.map(at), file);
  const yamlWarnings = doc.warnings.map(
    (w) => `${file}:${lineCounter.linePos(w.pos[0]).line}: ${w.message.split('\n')[0]}`,
  );
  return { config: result.data, warnings: [...yamlWarnings, ...rules.warnings.map(at)], locate };
}

/** One ConfigError for several problems, in file order (lines are `FILE:LINE...`). */
function configError(lines: string[], file: string): ConfigError {
  const lineOf = (text: string): number => Number(/^:(\d+)/.exec(text.slice(file.length))?.[1] ?? 0);
  const shown = [...lines].sort((a, b) => lineOf(a) - lineOf(b)).slice(0, MAX_ERROR_LINES);
  if (lines.length > shown.length) shown.push(`... and ${lines.length - shown.length} more`);
  return new ConfigError(shown.join('\n'));
}

/** `cluster_file` relative to the config's directory, and present on disk. */
async function resolveClusterFile(config: Config, dir: string, locate: Locator): Promise<Config> {
  if (config.cluster_file === undefined) return config;
  const m = /^(ganeti:)?(.*)$/s.exec(config.cluster_file)!;
  const absolute = resolve(dir, m[2]!);
  try {
    const st = await stat(absolute);
    if (!st.isFile()) throw new Error('not a file');
  } catch {
    throw new ConfigError(`${locate(['cluster_file'])}: cluster_file: no such file ${absolute}`);
  }
  return { ...config, cluster_file: `${m[1] ?? ''}${absolute}` };
}

function locator(doc: Document, lineCounter: LineCounter, file: string): Locator {
  return (path, keyOfLast = false) => {
    const node = nodeAt(doc, path, keyOfLast);
    const offset = node?.range?.[0];
    return offset === undefined ? file : `${file}:${lineCounter.linePos(offset).line}`;
  };
}

/**
 * The YAML node at `path`, or the deepest existing ancestor when part of the path is missing (a
 * missing key is reported at its parent, except at the top level). With `keyOfLast`, the key node of
 * the last segment.
 */
function nodeAt(doc: Document, path: ConfigPath, keyOfLast: boolean): Node | undefined {
  let node = doc.contents as Node | null;
  if (!node) return undefined;
  for (const [i, segment] of path.entries()) {
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair: Pair | undefined = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment),
      );
      if (!pair) return i === 0 ? undefined : node; // a missing top-level key has no useful line
      const key = pair.key as Node;
      if (last && keyOfLast) return key;
      node = (pair.value as Node | null) ?? key;
    } else if (isSeq(node) && typeof segment === 'number') {
      const item = node.items[segment] as Node | undefined;
      if (!item) return node;
      node = item;
    } else return node;
  }
  return node;
}

/** Keys whose values never appear in messages, whatever is wrong with them. */
const SECRET_KEY = /pass|secret|token|credential|uri|url/i;

function valueAt(raw: unknown, path: ConfigPath): unknown {
  let value = raw;
  for (const segment of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string | number, unknown>)[segment];
  }
  return value;
}

function describeValue(value: unknown): string {
  if (value === null) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  return String(value);
}

const TYPE_WORDS: Record<string, string> = {
  number: 'a number',
  int: 'a whole number',
  string: 'a string',
  boolean: 'true or false',
  object: 'a mapping',
  array: 'a list',
};

/** One line (or one per unknown key) for a zod issue, located in the YAML. */
function describeIssue(issue: z.core.$ZodIssue, raw: unknown, locate: Locator): string[] {
  const path = issue.path.filter((s): s is string | number => typeof s !== 'symbol');
  if (issue.code === 'unrecognized_keys')
    return issue.keys.map((key) => {
      const keyPath = [...path, key];
      return `${locate(keyPath, true)}: ${formatPath(keyPath)}: unknown key${suggestKey(key, path)}`;
    });
  const where = path.length > 0 ? `${locate(path)}: ${formatPath(path)}` : locate(path);
  const value = valueAt(raw, path);
  const present = value !== undefined;
  const secret = path.some((s) => typeof s === 'string' && SECRET_KEY.test(s));
  const got = present && !secret ? `, got ${describeValue(value)}` : '';
  switch (issue.code) {
    case 'invalid_type': {
      const expected = TYPE_WORDS[issue.expected] ?? issue.expected;
      return [present ? `${where}: expected ${expected}${got}` : `${where}: required (expected ${expected})`];
    }
    case 'too_small':
    case 'too_big': {
      const op = issue.code === 'too_small' ? (issue.inclusive ? '>=' : '>') : issue.inclusive ? '<=' : '<';
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const what =
        issue.origin === 'string'
          ? 'a string of length'
          : issue.origin === 'array'
            ? 'a list of length'
            : 'a number';
      return [`${where}: expected ${what} ${op} ${String(bound)}${got}`];
    }
    case 'invalid_value':
      return [`${where}: expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}${got}`];
    default:
      return [`${where}: ${issue.message}`];
  }
}

/** ` (did you mean "minimal"?)` for a misspelt key, from the keys the schema allows there. */
function suggestKey(key: string, parentPath: ConfigPath): string {
  const allowed = allowedKeys(parentPath);
  if (allowed.length === 0) return '';
  const best = allowed
    .map((k) => ({ k, d: editDistance(key.toLowerCase(), k) }))
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))[0]!;
  if (best.d <= Math.max(2, Math.floor(key.length / 3))) return ` (did you mean "${best.k}"?)`;
  return ` (allowed: ${allowed.join(', ')})`;
}

interface SchemaDef {
  type: string;
  innerType?: { _zod: { def: SchemaDef } };
  in?: { _zod: { def: SchemaDef } };
  element?: { _zod: { def: SchemaDef } };
  shape?: Record<string, unknown>;
}

/** Walks the zod schema along a path (through optional/default/pipe/array) to the object's keys. */
function allowedKeys(path: ConfigPath): string[] {
  let def = (configSchema as unknown as { _zod: { def: SchemaDef } })._zod.def;
  const unwrap = (d: SchemaDef): SchemaDef => {
    for (;;) {
      const next = d.innerType ?? d.in;
      if (!next || d.type === 'object' || d.type === 'array') return d;
      d = next._zod.def;
    }
  };
  for (const segment of path) {
    def = unwrap(def);
    if (def.type === 'array' && def.element) def = def.element._zod.def;
    else if (def.type === 'object' && def.shape && typeof segment === 'string' && segment in def.shape)
      def = (def.shape[segment] as { _zod: { def: SchemaDef } })._zod.def;
    else return [];
  }
  def = unwrap(def);
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++)
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length]!;
}
