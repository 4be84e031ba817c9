export * from './types.js';
export * from './registry.js';
export * from './sequences.js';
export * from './energy.js';
export { powerDefaultsSchema, powerTiming, drillPolicy, type PowerDefaults } from './schema.js';
