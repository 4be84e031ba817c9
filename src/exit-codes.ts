import { CommanderError } from 'commander';
import {
  ActionsFailedError,
  BackendError,
  ConfigError,
  InputError,
  LockHeldError,
  StalePlanError,
  UnreachableError,
} from './errors.js';

/** Exit codes (DESIGN.md 3): 0 done or nothing to do, 1 unexpected, 2 bad config or input, 3 some actions failed, 4 locked. */
export const EXIT = { ok: 0, unexpected: 1, badInput: 2, actionsFailed: 3, locked: 4 } as const;

/**
 * The one error-to-exit-code mapping of the program. main.ts applies it to every command; a run's
 * metrics and email also report the code the run will end with, so it lives in a module of its own.
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.ok : EXIT.badInput;
  if (err instanceof ConfigError || err instanceof InputError) return EXIT.badInput;
  if (err instanceof LockHeldError) return EXIT.locked;
  if (
    err instanceof ActionsFailedError ||
    err instanceof StalePlanError ||
    err instanceof UnreachableError ||
    err instanceof BackendError
  )
    return EXIT.actionsFailed;
  return EXIT.unexpected;
}
