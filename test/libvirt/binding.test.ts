/** Contract tests of the koffi binding against libvirt's test:/// driver (no daemon needed). */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import koffi from 'koffi';
import { KoffiConnection } from '../../src/libvirt/connection.js';
import { BINDING_ERR, LibvirtError, redactUri, VIR_ERR } from '../../src/libvirt/errors.js';
import { STRUCT_LAYOUTS } from '../../src/libvirt/ffi.js';
import { remoteEndpoint } from '../../src/libvirt/preflight.js';
import { MIGRATE, STATS } from '../../src/libvirt/types.js';
import { garbagePeer, hostUri } from './helpers.js';

describe('struct layouts match libvirt 9 on LP64', () => {
  it.each([
    ['virNodeInfo', 64],
    ['virDomainInfo', 40],
    ['virTypedParameter', 96],
    ['virNodeMemoryStats', 88],
    ['virDomainStatsRecord', 24],
    ['virStoragePoolInfo', 32],
  ] as const)('%s is %i bytes', (name, size) => {
    expect(koffi.sizeof(STRUCT_LAYOUTS[name])).toBe(size);
  });

  it('puts the typed-parameter value union at offset 88', () => {
    expect(koffi.offsetof(STRUCT_LAYOUTS.virTypedParameter, 'value')).toBe(88);
  });
});

describe('KoffiConnection on test:///default', () => {
  let c: KoffiConnection;
  beforeAll(async () => {
    c = await KoffiConnection.open('test:///default');
  });
  afterAll(async () => {
    await c.close();
  });

  it('reads node info, storage pools and the default domain', async () => {
    expect(await c.nodeInfo()).toEqual({
      model: 'i686',
      memoryKiB: 3145728,
      cpus: 16,
      mhz: 1400,
      nodes: 2,
      sockets: 2,
      cores: 2,
      threads: 2,
    });
    expect(await c.nodeMemoryStats()).toBeNull();
    expect(await c.storagePools()).toEqual([
      expect.objectContaining({ name: 'default-pool', capacityBytes: 100 * 1024 ** 3 }),
    ]);
    const [dom] = await c.listDomains();
    expect(dom).toMatchObject({
      name: 'test',
      state: 'running',
      maxMemKiB: 8388608,
      memKiB: 2097152,
      vcpus: 2,
    });
    expect(dom!.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(await c.allDomainStats(STATS.STATE)).toEqual([
      { name: 'test', stats: { 'state.state': 1, 'state.reason': 0 } },
    ]);
    expect(await c.domainState('test')).toBe('running');
    expect(await c.domainState('nope')).toBeNull();
  });

  it('defines, starts, destroys and undefines a domain', async () => {
    const xml =
      "<domain type='test'><name>tmp1</name><memory unit='MiB'>256</memory><vcpu>1</vcpu><os><type>hvm</type></os></domain>";
    expect(await c.defineXml(xml)).toBe('tmp1');
    expect(await c.domainState('tmp1')).toBe('shutoff');
    await c.start('tmp1');
    expect(await c.domainState('tmp1')).toBe('running');
    await c.destroy('tmp1');
    await c.undefine('tmp1');
    expect(await c.domainState('tmp1')).toBeNull();
  });

  it("turns libvirt errors into LibvirtError with libvirt's code and message", async () => {
    const err = await c.start('nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect(err).toMatchObject({
      code: VIR_ERR.NO_DOMAIN,
      fn: 'virDomainLookupByName',
      uri: 'test:///default',
    });
    expect((err as LibvirtError).libvirtMessage).toMatch(/Domain not found/);
    const mig = await c
      .migrateToUri3('test', 'test:///default', { bandwidthMiBps: 10 }, MIGRATE.LIVE | MIGRATE.PEER2PEER)
      .catch((e: unknown) => e);
    expect(mig).toMatchObject({ fn: 'virDomainMigrateToURI3' });
    expect((mig as LibvirtError).code).toBeGreaterThan(0);
    const xml = await c.defineXml('<domain><name>broken').catch((e: unknown) => e);
    expect(xml).toMatchObject({ fn: 'virDomainDefineXML', code: expect.any(Number) });
    // The connection still works after errors (the error is read and reset on the worker thread).
    expect(await c.domainState('test')).toBe('running');
  });

  it('reports which calls the test driver does not support', async () => {
    const job = await c.jobStats('test').catch((e: unknown) => e);
    expect(job).toMatchObject({ code: VIR_ERR.NO_SUPPORT, fn: 'virDomainGetJobStats' });
  });
});

describe('KoffiConnection errors and lifecycle', () => {
  it('rejects an open of an unknown host file with the libvirt error', async () => {
    const err = await KoffiConnection.open(hostUri('missing.xml')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LibvirtError);
    expect(err).toMatchObject({ fn: 'virConnectOpen' });
  });

  it('rejects a peer that does not speak libvirt', async () => {
    const peer = await garbagePeer();
    try {
      const err = await KoffiConnection.open(peer.uri, { openTimeoutMs: 20_000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(LibvirtError);
      expect(err).toMatchObject({ fn: 'virConnectOpen' });
    } finally {
      await peer.close();
    }
  });

  it('times out an open that gets no answer and drops the connection', async () => {
    // A listener that accepts and never answers: libvirt's handshake waits forever.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((s) => {
      sockets.push(s);
      s.on('error', () => undefined); // the client resets it at its timeout: expected
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    try {
      const t0 = Date.now();
      const err = await KoffiConnection.open(`qemu+tcp://127.0.0.1:${port}/system`, {
        openTimeoutMs: 500,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: BINDING_ERR.TIMEOUT });
      expect(Date.now() - t0).toBeLessThan(10_000);
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  });

  it('rejects calls after close, and close twice is harmless', async () => {
    const c = await KoffiConnection.open(hostUri('host-a.xml'));
    await c.close();
    await c.close();
    await expect(c.nodeInfo()).rejects.toMatchObject({ code: BINDING_ERR.CLOSED });
  });

  it('aborting the signal drops the connection', async () => {
    const ctl = new AbortController();
    const c = await KoffiConnection.open(hostUri('host-a.xml'), { signal: ctl.signal });
    expect((await c.nodeInfo()).cpus).toBe(16);
    ctl.abort();
    await expect(c.listDomains()).rejects.toMatchObject({ code: BINDING_ERR.CLOSED });
  });

  it('checks a remote endpoint over TCP before libvirt connects (a dead host never sticks a thread)', async () => {
    const t0 = Date.now();
    const err = await KoffiConnection.open('qemu+tcp://127.0.0.1:1/system').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: VIR_ERR.SYSTEM_ERROR, fn: 'virConnectOpen' });
    expect((err as LibvirtError).libvirtMessage).toMatch(
      /unable to connect to server at '127\.0\.0\.1:1': .*ECONNREFUSED/,
    );
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it.each([
    ['qemu+tcp://kvm01/system', { host: 'kvm01', port: 16509 }],
    ['qemu+tls://kvm01:1234/system', { host: 'kvm01', port: 1234 }],
    ['qemu://kvm01/system', { host: 'kvm01', port: 16514 }],
    ['qemu+ssh://root@kvm01/system?keyfile=/k', { host: 'kvm01', port: 22 }],
    ['qemu+libssh2://root@[fd00::1]:2222/system', { host: 'fd00::1', port: 2222 }],
    ['qemu:///system', undefined],
    ['qemu+unix:///system?socket=/run/x', undefined],
    ['test:///default', undefined],
    ['qemu+ext://host/system?command=/bin/x', undefined],
  ])('finds the TCP endpoint of %s', (uri, expected) => {
    expect(remoteEndpoint(uri)).toEqual(expected);
  });

  it('never shows a password from a URI', () => {
    expect(redactUri('qemu+tcp://admin:s3cret@kvm01/system')).toBe('qemu+tcp://admin:***@kvm01/system');
    const e = new LibvirtError(
      { code: 38, domain: 7, message: 'x', fn: 'virConnectOpen' },
      'qemu+tcp://u:pw@h/system',
    );
    expect(e.message).not.toContain('pw');
  });
});
