/** The virsh fallback backend answers like the koffi binding (contract tests against test:/// hosts). */
import { describe, expect, it } from 'vitest';
import { KoffiConnection } from '../../src/libvirt/connection.js';
import { LibvirtError, VIR_ERR } from '../../src/libvirt/errors.js';
import { STATS } from '../../src/libvirt/types.js';
import { parseDomstats, VirshConnection, virshConnector } from '../../src/libvirt/virsh.js';
import { LibvirtInventory } from '../../src/inventory/libvirt/index.js';
import { hostUri } from './helpers.js';

describe('VirshConnection vs KoffiConnection', () => {
  it.each(['test:///default', hostUri('host-a.xml'), hostUri('host-b.xml')])(
    'read the same from %s',
    async (uri) => {
      const v = await VirshConnection.open(uri);
      const k = await KoffiConnection.open(uri);
      try {
        expect(await v.nodeInfo()).toEqual(await k.nodeInfo());
        expect(await v.nodeMemoryStats()).toEqual(await k.nodeMemoryStats());
        expect(await v.storagePools()).toEqual(await k.storagePools());
        const strip = (ds: Awaited<ReturnType<KoffiConnection['listDomains']>>) =>
          ds.map(({ cpuTimeNs: _t, ...rest }) => rest).sort((x, y) => x.name.localeCompare(y.name));
        expect(strip(await v.listDomains())).toEqual(strip(await k.listDomains()));
        const byName = (x: { name: string }, y: { name: string }) => x.name.localeCompare(y.name);
        expect((await v.allDomainStats(STATS.STATE)).sort(byName)).toEqual(
          (await k.allDomainStats(STATS.STATE)).sort(byName),
        );
        const name = (await k.listDomains())[0]!.name;
        expect(await v.domainState(name)).toBe(await k.domainState(name));
        expect(await v.domainState('nope')).toBeNull();
      } finally {
        await v.close();
        await k.close();
      }
    },
  );

  it('reports failures as LibvirtError with the codes the callers react to', async () => {
    const v = await VirshConnection.open('test:///default');
    await expect(v.start('nope')).rejects.toMatchObject({ code: VIR_ERR.NO_DOMAIN, fn: 'virsh start' });
    await expect(v.jobStats('test')).rejects.toMatchObject({ code: VIR_ERR.NO_SUPPORT });
    await v.close();
    await expect(v.nodeInfo()).rejects.toBeInstanceOf(LibvirtError);
    await expect(VirshConnection.open(hostUri('missing.xml'))).rejects.toMatchObject({ fn: 'virsh uri' });
  });

  it('gives the inventory the same cluster as the koffi binding', async () => {
    const hosts = [
      { id: 'a', uri: hostUri('host-a.xml') },
      { id: 'b', uri: hostUri('host-b.xml') },
    ];
    const opts = { concurrency: 2, perHostTimeoutMs: 30_000, sampleIntervalMs: 0 };
    const viaVirsh = await new LibvirtInventory(hosts, { ...opts, connect: virshConnector }).read();
    const viaKoffi = await new LibvirtInventory(hosts, opts).read();
    expect(viaVirsh).toEqual(viaKoffi);
  });
});

describe('virsh output parsers', () => {
  it('parses domstats --raw records', () => {
    const text =
      "Domain: 'a b'\n  state.state=1\n  cpu.time=340000000\n  dirtyrate.calc_mode=page-sampling\n\nDomain: 'c'\n  state.state=5\n";
    expect(parseDomstats(text)).toEqual([
      {
        name: 'a b',
        stats: { 'state.state': 1, 'cpu.time': 340000000, 'dirtyrate.calc_mode': 'page-sampling' },
      },
      { name: 'c', stats: { 'state.state': 5 } },
    ]);
  });
});
