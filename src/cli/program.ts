import { Command } from 'commander';
import { createRequire } from 'node:module';
import type { Io } from './io.js';
import { commands } from './commands.js';

const pkg = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Builds the command tree. Errors propagate to main.ts, which alone chooses exit codes. */
export function buildProgram(io: Io): Command {
  const program = new Command('virt-squeeze')
    .description('Power-aware squeeze scheduler for libvirt/KVM clusters')
    .version(pkg.version, '-V, --version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s) })
    .showHelpAfterError('(run with --help for usage)');
  for (const register of commands) register(program, io);
  return program;
}

export { DEFAULT_CONFIG_PATH } from '../app/context.js';
