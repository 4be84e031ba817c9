/**
 * Typed errors. Each kind maps to one exit code in main.ts (the only place exit codes are chosen).
 * Messages are one line, name the file/field/host involved, and never contain secrets.
 */
export class VirtSqueezeError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Bad configuration: file, field path and what was expected. Exit 2. */
export class ConfigError extends VirtSqueezeError {}

/** Bad input file (cluster file, placement file): file and line or JSON path. Exit 2. */
export class InputError extends VirtSqueezeError {}

/** A backend (libvirt, BMC, SSH, SMTP) failed or answered garbage. */
export class BackendError extends VirtSqueezeError {}

/** The cluster changed between planning and acting. */
export class StalePlanError extends VirtSqueezeError {}

/** Some actions of a run failed; the run stopped and reported. Exit 3. */
export class ActionsFailedError extends VirtSqueezeError {}

/** Another run holds the lock. Exit 4. */
export class LockHeldError extends VirtSqueezeError {}

/** A target placement cannot be reached (or the search could not decide). Exit 3 for "no", 1 for "unknown". */
export class UnreachableError extends VirtSqueezeError {}
