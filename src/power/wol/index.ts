export { WolDriver, magicPacket } from './wol.js';
export { wolSchema, type WolConfig } from './schema.js';
