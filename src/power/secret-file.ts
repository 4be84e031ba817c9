import { readFileSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { z } from 'zod';
import { BackendError } from '../errors.js';

/**
 * Why a secret file is unusable, or undefined when it is fine: it must be an absolute path to a
 * regular file that "other" users can neither read nor write (a world-readable BMC password file
 * is a leaked password).
 */
export function secretFileProblem(path: string): string | undefined {
  if (!isAbsolute(path)) return `must be an absolute path, got ${JSON.stringify(path)}`;
  let mode: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) return `${path} is not a regular file`;
    mode = st.mode;
  } catch (err) {
    return `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
  if ((mode & 0o007) !== 0)
    return `${path} is accessible to all users (mode ${(mode & 0o777).toString(8)}): chmod o-rwx ${path}`;
  return undefined;
}

/** A config field naming a file that holds a secret; refused when {@link secretFileProblem} objects. */
export function secretFileField(description: string) {
  return z
    .string()
    .min(1)
    .superRefine((path, ctx) => {
      const problem = secretFileProblem(path);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: path });
    })
    .meta({ description });
}

/** Reads a secret file (first line, without its newline), checking its mode again: it may have changed since the config was read. */
export function readSecretFile(path: string, what: string): string {
  const problem = secretFileProblem(path);
  if (problem) throw new BackendError(`${what}: ${problem}`);
  const text = readFileSync(path, 'utf8');
  const line = text.split(/\r?\n/, 1)[0] ?? '';
  if (line === '') throw new BackendError(`${what}: ${path} is empty`);
  return line;
}

/** Replaces every occurrence of each secret in `text`, so raw tool output can be quoted in an error. */
export function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return out;
}
