import type { Command } from 'commander';
import { z } from 'zod';
import { loadConfig } from '../config/load.js';
import { configSchema } from '../config/schema.js';
import type { Io } from './io.js';
import { DEFAULT_CONFIG_PATH } from './program.js';

/** The config's JSON Schema (input side: what an operator writes), for editors' completion and checks. */
export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input' });
}

/** `virt-squeeze config check` and `virt-squeeze config schema`. */
export function registerConfig(program: Command, io: Io): void {
  // program.command() (not addCommand) so exitOverride and output settings are inherited.
  const config = program.command('config').description('Check the configuration, or print its JSON Schema');

  config
    .command('check')
    .description('Validate a configuration file: syntax, units, types, unknown keys and cross-field rules')
    .option('-c, --config <file>', 'configuration file', DEFAULT_CONFIG_PATH)
    .addHelpText(
      'after',
      `
Prints "OK: FILE" and any warnings (e.g. "no dead band") and exits 0, or prints one line per
problem as FILE:LINE: field.path: what was expected, got what, and exits 2.

Examples:
  virt-squeeze config check                              # ${DEFAULT_CONFIG_PATH}
  virt-squeeze config check --config config/example.yaml`,
    )
    .action(async (flags: { config: string }) => {
      const loaded = await loadConfig(flags.config);
      io.out(`OK: ${loaded.path}\n`);
      for (const warning of loaded.warnings) io.out(`warning: ${warning}\n`);
    });

  config
    .command('schema')
    .description('Print the JSON Schema of the configuration (draft 2020-12), for editors')
    .addHelpText(
      'after',
      `
Examples:
  virt-squeeze config schema > virt-squeeze.schema.json
  # then, for editors with the YAML language server, as the first line of config.yaml:
  # yaml-language-server: $schema=./virt-squeeze.schema.json`,
    )
    .action(() => {
      io.out(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
