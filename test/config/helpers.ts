import { ConfigError } from '../../src/errors.js';
import { parseConfigText } from '../../src/config/load.js';

/** Parses YAML text as the config file `c.yaml`. */
export function parse(yaml: string) {
  return parseConfigText(yaml, 'c.yaml');
}

/** The ConfigError message for YAML text that must be refused. */
export function errorOf(yaml: string): string {
  try {
    parse(yaml);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** The warnings of YAML text that must be accepted. */
export function warningsOf(yaml: string): string[] {
  return parse(yaml).warnings;
}
