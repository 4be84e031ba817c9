export { CommandDriver } from './command.js';
export { commandSchema, type CommandConfig } from './schema.js';
