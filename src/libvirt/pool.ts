/**
 * Idle connections kept per URI for reuse: a worker thread and a libvirt connection cost a few tens of
 * ms to set up (hundreds under tsx, or over qemu+ssh), so the migrator, which opens three connections per
 * migration, hands them back here instead of closing them. Idle connections never keep the process alive.
 */
import { koffiConnector, type ConnectOptions, type Connector } from './connection.js';
import type { LibvirtConnection } from './types.js';

export class ConnectionPool {
  private readonly idle = new Map<string, LibvirtConnection[]>();

  constructor(
    private readonly connect: Connector = koffiConnector,
    private readonly opts: ConnectOptions = {},
  ) {}

  /** An idle open connection to `uri`, or a new one; the caller has it to itself until release(). */
  async acquire(uri: string): Promise<LibvirtConnection> {
    const list = this.idle.get(uri) ?? [];
    for (let c = list.pop(); c !== undefined; c = list.pop()) {
      if (!c.closed) return c;
    }
    return this.connect(uri, this.opts);
  }

  /** Hands a connection back; a dropped one is discarded. */
  release(c: LibvirtConnection): void {
    if (c.closed) return;
    const list = this.idle.get(c.uri) ?? [];
    list.push(c);
    this.idle.set(c.uri, list);
  }

  /** Closes every idle connection. */
  async close(): Promise<void> {
    const all = [...this.idle.values()].flat();
    this.idle.clear();
    await Promise.all(all.map((c) => c.close().catch(() => undefined)));
  }
}
