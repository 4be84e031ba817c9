export { DEFAULT_STATE_PATH, openStateStore, SqliteStateStore, type OpenStateOptions } from './sqlite.js';
export * from './types.js';
export { stateSchema, type StateConfig } from './schema.js';
