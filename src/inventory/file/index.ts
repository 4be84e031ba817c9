import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { InputError } from '../../errors.js';
import type { Inventory, InventoryResult } from '../types.js';
import { parseGanetiText } from './ganeti.js';
import { loadScenario, type ScenarioOptions } from './scenario.js';

export { toGanetiText, parseGanetiText, type GanetiWriteOptions } from './ganeti.js';
export { scenarioFromJson, type UsageOptions } from './scenario.js';

/** Options for reading a cluster file; usage figures apply to squeeze-scenario traces only. */
export type LoadOptions = ScenarioOptions;

const GANETI_PREFIX = 'ganeti:';
const CHUNK_BYTES = 1 << 20;

async function isGzip(file: string): Promise<boolean> {
  const fh = await open(file, 'r');
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(2), 0, 2, 0);
    return bytesRead === 2 && buffer[0] === 0x1f && buffer[1] === 0x8b;
  } finally {
    await fh.close();
  }
}

async function* bytesOf(file: string, gzip: boolean): AsyncGenerator<Buffer> {
  const raw = createReadStream(file, { highWaterMark: CHUNK_BYTES });
  const stream = gzip ? raw.pipe(createGunzip({ chunkSize: CHUNK_BYTES })) : raw;
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (err) {
    raw.destroy();
    const code = (err as NodeJS.ErrnoException).code;
    throw new InputError(
      `${file}: ${gzip && code?.startsWith('Z_') ? 'corrupt gzip data' : (err as Error).message}`,
    );
  }
}

/** First non-blank byte of a stream, and the stream again from its start. */
async function peek(
  chunks: AsyncGenerator<Buffer>,
): Promise<{ first: number | undefined; all: AsyncIterable<Buffer> }> {
  const head: Buffer[] = [];
  let first: number | undefined;
  while (first === undefined) {
    const next = await chunks.next();
    if (next.done) break;
    head.push(next.value);
    first = next.value.find(
      (b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09 && b !== 0xef && b !== 0xbb && b !== 0xbf,
    );
  }
  async function* all(): AsyncGenerator<Buffer> {
    yield* head;
    yield* chunks;
  }
  return { first, all: all() };
}

async function textOf(chunks: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of chunks) parts.push(c);
  return Buffer.concat(parts).toString('utf8');
}

/**
 * Reads a cluster file: `squeeze-scenario/v1` JSON (plain or gzipped) or Ganeti's text format,
 * told apart by content (JSON starts with `{`), or forced to Ganeti with a `ganeti:` prefix
 * (`ganeti:/x/y.data`). Bad input throws InputError naming the file and line or JSON path.
 */
export async function loadClusterFile(path: string, opts: LoadOptions = {}): Promise<InventoryResult> {
  const forcedGaneti = path.startsWith(GANETI_PREFIX);
  const file = forcedGaneti ? path.slice(GANETI_PREFIX.length) : path;
  let gzip: boolean;
  try {
    gzip = await isGzip(file);
  } catch (err) {
    throw new InputError(`${file}: cannot read cluster file: ${(err as Error).message}`);
  }
  const chunks = bytesOf(file, gzip);
  if (forcedGaneti) return parseGanetiText(await textOf(chunks), file);
  const { first, all } = await peek(chunks);
  if (first === undefined) throw new InputError(`${file}: empty cluster file`);
  if (first === 0x7b) return loadScenario(all, file, opts);
  if (first === 0x5b)
    throw new InputError(`${file}: expected a squeeze-scenario/v1 JSON object, got a JSON array`);
  return parseGanetiText(await textOf(all), file);
}

/** A cluster file as an Inventory: every read loads the file afresh. */
export class FileInventory implements Inventory {
  constructor(
    private readonly path: string,
    private readonly opts: LoadOptions = {},
  ) {}

  async read(signal?: AbortSignal): Promise<InventoryResult> {
    signal?.throwIfAborted();
    return loadClusterFile(this.path, this.opts);
  }
}
