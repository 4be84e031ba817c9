// Runs inside `unshare -n` (a private network namespace with a veth pair on 10.250.0.0/24, see
// wol.test.ts): sends the magic packet with the WoL driver to the subnet's broadcast address on
// port 9, exactly as in production, and prints what a listener bound to that broadcast address got.
import { createSocket } from 'node:dgram';
import { WolDriver, wolSchema } from '../../../src/power/wol/index.js';

const [mac, broadcast] = process.argv.slice(2) as [string, string];
const rx = createSocket('udp4');
const got: Array<{ len: number; hex: string; from: string }> = [];
rx.on('message', (m, info) => got.push({ len: m.length, hex: m.toString('hex'), from: info.address }));
await new Promise<void>((ok) => rx.bind(9, broadcast, ok));
await new WolDriver('h1', wolSchema.parse({ mac, broadcast, count: 2, interval: 20 })).powerOn();
const deadline = Date.now() + 5000;
while (got.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
rx.close();
process.stdout.write(JSON.stringify(got));
