export { IpmiDriver, IPMITOOL } from './ipmi.js';
export { ipmiSchema, type IpmiConfig } from './schema.js';
