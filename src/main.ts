#!/usr/bin/env node
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { buildProgram } from './cli/program.js';
import { processIo, type Io } from './cli/io.js';
import { EXIT, exitCodeFor } from './exit-codes.js';

export { EXIT, exitCodeFor };

/** Runs the CLI with `argv` (without node and script) and returns the exit code; never throws. */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return EXIT.ok;
  } catch (err) {
    const code = exitCodeFor(err);
    if (!(err instanceof CommanderError)) io.err(`virt-squeeze: ${describe(err, code)}\n`);
    return code;
  }
}

/** One line for the operator; a stack only for the unexpected, and only with VIRT_SQUEEZE_DEBUG. */
function describe(err: unknown, code: number): string {
  const message = err instanceof Error ? err.message : String(err);
  if (code === EXIT.unexpected && process.env.VIRT_SQUEEZE_DEBUG && err instanceof Error && err.stack)
    return err.stack;
  return code === EXIT.unexpected ? `unexpected error: ${message}` : message;
}

function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  // `virt-squeeze plan | head`: a closed pipe is the reader's choice, not an error worth a stack trace.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });
  process.exitCode = await main(process.argv.slice(2));
}
