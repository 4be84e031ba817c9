import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** Repository root and the shared reference data beside it (CI has it as ../shared). */
export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
export const sharedDir = path.resolve(repoRoot, '../shared');
export const scenarioDir = path.join(sharedDir, 'bench-data/scenarios');
export const ganetiDir = path.join(sharedDir, 'peer-data/ganeti');

/** A scratch directory for malformed inputs; remove with the returned cleanup. */
export function scratch(): {
  dir: string;
  write(name: string, text: string, gzip?: boolean): string;
  cleanup(): void;
} {
  const dir = mkdtempSync(path.join(tmpdir(), 'vs-inventory-'));
  return {
    dir,
    write(name, text, gzip = false) {
      const file = path.join(dir, name);
      writeFileSync(file, gzip ? gzipSync(text) : text);
      return file;
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Runs `fn` and returns the message of the error it throws, checking its class. */
export async function errorOf(
  fn: () => Promise<unknown>,
  kind: new (...args: never[]) => Error,
): Promise<string> {
  try {
    await fn();
  } catch (err) {
    if (!(err instanceof kind)) throw err;
    return err.message;
  }
  throw new Error('expected an error, none was thrown');
}
