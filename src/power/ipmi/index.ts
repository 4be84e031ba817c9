export { IpmiDriver, IPMITOOL, parseDcmiWatts } from './ipmi.js';
export { ipmiSchema, type IpmiConfig } from './schema.js';
