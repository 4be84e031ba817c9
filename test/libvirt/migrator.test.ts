/** LibvirtMigrator's refusals and failure reporting against test:/// hosts (the test driver cannot migrate). */
import { describe, expect, it } from 'vitest';
import { KoffiConnection } from '../../src/libvirt/connection.js';
import { ConnectionPool } from '../../src/libvirt/pool.js';
import { LibvirtMigrator } from '../../src/migration/libvirt/index.js';
import { hostUri } from './helpers.js';

const hosts = [
  { id: 'a', uri: hostUri('host-a.xml') },
  { id: 'b', uri: hostUri('host-b.xml') },
];
const move = (vm: string, from = 'a', to = 'b') => ({ vm, from, to, memMiB: 1024, estSeconds: 1 });

describe('LibvirtMigrator on test:/// hosts', () => {
  it('reports the driver refusing the migration, with the VM still on its source', async () => {
    const m = new LibvirtMigrator({ hosts, bandwidthMiBps: 100, maxDowntimeMs: 300 });
    const out = await m.migrate(move('vm-a1'), { timeoutMs: 20_000 });
    await m.close();
    expect(out).toMatchObject({ vm: 'vm-a1', ok: false });
    expect(out.error).toMatch(
      /^virDomainMigrateToURI3 at test:\/\/\/.*; vm-a1 now running on a, shutoff on b$/,
    );
  });

  it('refuses to move a VM that is not running on its source', async () => {
    const m = new LibvirtMigrator({ hosts, bandwidthMiBps: 0, maxDowntimeMs: 300 });
    const off = await m.migrate(move('vm-a3-off'), { timeoutMs: 20_000 });
    const missing = await m.migrate(move('vm-b1'), { timeoutMs: 20_000 });
    await m.close();
    expect(off.error).toBe('vm-a3-off is shutoff on a, not running: not migrated');
    expect(missing.error).toBe('vm-b1 is not defined on a, not running: not migrated');
  });

  it('fails without moving anything when a host has no URI or cannot be reached', async () => {
    const m = new LibvirtMigrator({
      hosts: [...hosts, { id: 'gone', uri: hostUri('missing.xml') }],
      bandwidthMiBps: 0,
      maxDowntimeMs: 300,
    });
    expect((await m.migrate(move('vm-a1', 'a', 'nope'), { timeoutMs: 20_000 })).error).toBe(
      'no libvirt URI for host nope',
    );
    expect((await m.migrate(move('vm-a1', 'a', 'gone'), { timeoutMs: 20_000 })).error).toMatch(
      /^virConnectOpen at test:\/\/\/.*missing\.xml/,
    );
    await m.close();
  });
});

describe('ConnectionPool', () => {
  it('hands an idle connection back out, discards closed ones, and closes the rest', async () => {
    const pool = new ConnectionPool();
    const uri = hostUri('host-a.xml');
    const c1 = await pool.acquire(uri);
    const c2 = await pool.acquire(uri);
    expect(c2).not.toBe(c1);
    pool.release(c1);
    expect(await pool.acquire(uri)).toBe(c1);
    await c2.close();
    pool.release(c2);
    pool.release(c1);
    const c3 = await pool.acquire(uri);
    expect(c3).toBe(c1);
    pool.release(c3);
    await pool.close();
    expect(c1.closed).toBe(true);
    expect(c1).toBeInstanceOf(KoffiConnection);
  });
});
