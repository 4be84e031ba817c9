import { execFile } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendError } from '../../../src/errors.js';
import { WolDriver, magicPacket, wolSchema } from '../../../src/power/wol/index.js';

const BROADCAST = '127.255.255.255';
const sockets: Socket[] = [];

/** A UDP listener bound to the broadcast address itself: Linux delivers only datagrams sent to that address. */
async function listen(
  address: string,
): Promise<{ port: number; packets: Array<{ data: Buffer; from: string }> }> {
  const rx = createSocket('udp4');
  sockets.push(rx);
  const packets: Array<{ data: Buffer; from: string }> = [];
  rx.on('message', (data, info) => packets.push({ data, from: info.address }));
  await new Promise<void>((ok) => rx.bind(0, address, ok));
  return { port: rx.address().port, packets };
}

afterEach(() => {
  for (const s of sockets.splice(0)) s.close();
});

describe('Wake-on-LAN driver', () => {
  it('builds the 102-byte magic packet', () => {
    const p = magicPacket('52:54:00:aa:bb:cc');
    expect(p.length).toBe(102);
    expect(p.subarray(0, 6)).toEqual(Buffer.alloc(6, 0xff));
    for (let i = 0; i < 16; i++)
      expect(p.subarray(6 + i * 6, 12 + i * 6).toString('hex')).toBe('525400aabbcc');
  });

  it('sends the right MAC to the configured broadcast address and port, several times', async () => {
    const rx = await listen(BROADCAST);
    const other = await listen(BROADCAST); // same address, another port: must get nothing
    const cfg = wolSchema.parse({
      mac: '52-54-00-AA-BB-CC',
      broadcast: BROADCAST,
      port: rx.port,
      count: 3,
      interval: 20,
    });
    await new WolDriver('h1', cfg).powerOn();
    await expect.poll(() => rx.packets.length, { timeout: 5000 }).toBe(3);
    for (const p of rx.packets) expect(p.data).toEqual(magicPacket('52:54:00:aa:bb:cc'));
    expect(other.packets).toHaveLength(0);
  });

  it('rejects a malformed MAC in the config', () => {
    const r = wolSchema.safeParse({ mac: '52:54:00:aa:bb' });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toMatch(/expected a MAC address/);
  });

  it('reports a send that the network refuses as a BackendError naming the host', async () => {
    const cfg = wolSchema.parse({ mac: '52:54:00:aa:bb:cc', broadcast: '0.0.0.0', port: 9, count: 1 });
    // Port 0 cannot be sent to: the kernel refuses, and the driver must say so rather than pretend.
    const err = await new WolDriver('h7', { ...cfg, port: 0 }).powerOn().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/^host h7: wol to 0\.0\.0\.0:0/);
  });

  it('broadcasts on a real subnet: veth in a private network namespace, port 9, 10.250.0.255', async () => {
    // unshare -n: an anonymous namespace that vanishes with the process (nothing to clean up, nothing leaves it).
    const setup = [
      'ip link set lo up',
      'ip link add wol0 type veth peer name wol1',
      'ip link set wol1 up',
      'ip addr add 10.250.0.1/24 dev wol0',
      'ip link set wol0 up',
    ].join(' && ');
    const child = join(import.meta.dirname, 'netns-child.ts');
    const { stdout } = await promisify(execFile)(
      'unshare',
      [
        '-n',
        'sh',
        '-c',
        `${setup} && exec "$0" --import tsx "$1" 52:54:00:12:34:56 10.250.0.255`,
        process.execPath,
        child,
      ],
      { timeout: 60_000 },
    );
    const got = JSON.parse(stdout) as Array<{ len: number; hex: string; from: string }>;
    expect(got).toHaveLength(2);
    for (const p of got) {
      expect(p.len).toBe(102);
      expect(p.hex).toBe(magicPacket('52:54:00:12:34:56').toString('hex'));
      expect(p.from).toBe('10.250.0.1');
    }
  });
});
