import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { BackendError } from '../../errors.js';
import type { PowerDriver } from '../types.js';
import type { WolConfig } from './schema.js';

/** The magic packet: 6 x 0xFF, then the MAC 16 times (102 bytes). */
export function magicPacket(mac: string): Buffer {
  const bytes = Buffer.from(mac.replace(/[:-]/g, ''), 'hex');
  if (bytes.length !== 6) throw new BackendError(`invalid MAC address ${JSON.stringify(mac)}`);
  return Buffer.concat([Buffer.alloc(6, 0xff), ...Array.from({ length: 16 }, () => bytes)]);
}

/** Wake-on-LAN: sends the magic packet `count` times to the configured broadcast address and port. */
export class WolDriver implements PowerDriver {
  readonly name = 'wol';

  constructor(
    private readonly hostId: string,
    private readonly cfg: WolConfig,
  ) {}

  async powerOn(signal?: AbortSignal): Promise<void> {
    const packet = magicPacket(this.cfg.mac);
    const socket = createSocket('udp4');
    try {
      await new Promise<void>((ok, fail) => {
        socket.once('error', fail);
        socket.bind(0, () => ok());
      });
      socket.setBroadcast(true);
      for (let i = 0; i < this.cfg.count; i++) {
        if (i > 0) await sleep(this.cfg.interval, undefined, signal ? { signal } : {});
        await new Promise<void>((ok, fail) =>
          socket.send(packet, this.cfg.port, this.cfg.broadcast, (err) => (err ? fail(err) : ok())),
        );
      }
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new BackendError(
        `host ${this.hostId}: wol to ${this.cfg.broadcast}:${this.cfg.port} for ${this.cfg.mac}: ${reason}`,
      );
    } finally {
      socket.close();
    }
  }
}
