import type { Command } from 'commander';
import type { Io } from './io.js';
import { registerConfig } from './config.js';
import { registerPlan } from './plan.js';
import { registerRun } from './run.js';
import { registerStatus } from './status.js';
import { registerHost } from './host.js';

/** A command module adds its subcommand(s) to the program. One file per command in src/cli/. */
export type RegisterCommand = (program: Command, io: Io) => void;

/** Every command of the CLI, in --help order. */
export const commands: RegisterCommand[] = [
  registerPlan,
  registerRun,
  registerStatus,
  registerHost,
  registerConfig,
];
