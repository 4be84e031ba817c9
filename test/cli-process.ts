import { execFile } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

export const repoRoot = path.resolve(import.meta.dirname, '..');

/** The newest mtime under a directory (source files). */
async function newestMtimeMs(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  let newest = 0;
  for (const e of entries)
    if (e.isFile()) newest = Math.max(newest, (await stat(path.join(e.parentPath, e.name))).mtimeMs);
  return newest;
}

/**
 * How to start the CLI as a process: the built `dist/main.js` when it is newer than every source
 * file (scripts/test.sh builds before testing), else the sources through tsx. Tests never rebuild
 * dist themselves: other test files may be running it at the same moment.
 */
export async function cliCommand(): Promise<string[]> {
  const dist = path.join(repoRoot, 'dist/main.js');
  const fresh =
    existsSync(dist) && statSync(dist).mtimeMs >= (await newestMtimeMs(path.join(repoRoot, 'src')));
  return fresh
    ? [process.execPath, dist]
    : [process.execPath, '--import', 'tsx', path.join(repoRoot, 'src/main.ts')];
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `virt-squeeze ARGS` as a child process; resolves with its exit code and output. */
export async function runCli(args: readonly string[], opts: { timeoutMs?: number } = {}): Promise<CliResult> {
  const [cmd, ...pre] = await cliCommand();
  return promisify(execFile)(cmd!, [...pre, ...args], {
    cwd: repoRoot,
    timeout: opts.timeoutMs ?? 120_000,
    maxBuffer: 64 << 20,
  }).then(
    (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );
}
