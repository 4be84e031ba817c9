import { readFile } from 'node:fs/promises';
import { InputError } from '../errors.js';
import type { Placement } from '../planner/sequence/placement.js';

export type { Placement } from '../planner/sequence/placement.js';

/** The format tag of a target placement file. */
export const PLACEMENT_FORMAT = 'virt-squeeze-placement/v1';

/**
 * Reads a target placement file:
 * `{"format": "virt-squeeze-placement/v1", "placement": {"vm": "host", ...}, "power_off": ["host", ...]}`.
 * Unreadable or malformed files are an InputError naming the file and the line or JSON path.
 * Whether the VM and host ids exist is checked against the cluster by planToPlacement.
 */
export async function loadPlacementFile(path: string): Promise<Placement> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new InputError(
      `${path}: cannot read placement file: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
    );
  }
  return parsePlacement(text, path);
}

/** Parses and validates the text of a placement file; `source` names it in errors. */
export function parsePlacement(text: string, source: string): Placement {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new InputError(`${source}: ${where(text, err)}not valid JSON: ${(err as Error).message}`);
  }
  const fail = (path: string, what: string): never => {
    throw new InputError(`${source}: ${path}: ${what}`);
  };
  if (!isObject(doc)) return fail('$', 'expected an object');
  if (doc.format !== PLACEMENT_FORMAT)
    fail('format', `expected "${PLACEMENT_FORMAT}", got ${JSON.stringify(doc.format ?? null)}`);
  for (const key of Object.keys(doc))
    if (!['format', 'placement', 'power_off'].includes(key))
      fail(key, 'unknown field (expected format, placement, power_off)');
  if (!isObject(doc.placement)) return fail('placement', 'expected an object mapping VM id to host id');
  const placement = new Map<string, string>();
  for (const [vm, host] of Object.entries(doc.placement)) {
    if (typeof host !== 'string' || host === '')
      fail(`placement[${JSON.stringify(vm)}]`, 'expected a host id (non-empty string)');
    placement.set(vm, host as string);
  }
  const powerOff = doc.power_off ?? [];
  if (!Array.isArray(powerOff)) return fail('power_off', 'expected an array of host ids');
  const seen = new Set<string>();
  powerOff.forEach((h: unknown, i) => {
    if (typeof h !== 'string' || h === '') fail(`power_off[${i}]`, 'expected a host id (non-empty string)');
    if (seen.has(h as string)) fail(`power_off[${i}]`, `host ${String(h)} is listed twice`);
    seen.add(h as string);
  });
  return { source, placement, powerOff: [...seen] };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** "line N: " from a JSON.parse error's character position, when it reports one. */
function where(text: string, err: unknown): string {
  const match = /position (\d+)/.exec(String((err as Error).message));
  if (!match) return '';
  const line = text.slice(0, Number(match[1])).split('\n').length;
  return `line ${line}: `;
}
