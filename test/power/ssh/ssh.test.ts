import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { BackendError } from '../../../src/errors.js';
import { SshDriver, SshTrustError, sshSchema, type SshConfig } from '../../../src/power/ssh/index.js';
import { startFakeSshHost, type FakeSshHost } from '../fixtures/ssh2-host.js';
import { writeKeyPair } from '../fixtures/keys.js';
import { startSshd, type SshdFixture } from '../fixtures/sshd.js';

function cfg(
  h: { address: string; port: number; client: { privatePath: string }; knownHosts: string },
  extra: Record<string, unknown> = {},
): SshConfig {
  return sshSchema.parse({
    address: h.address,
    port: h.port,
    key_file: h.client.privatePath,
    known_hosts: h.knownHosts,
    timeout: '5s',
    ...extra,
  });
}

describe('ssh driver against a real OpenSSH sshd (ForceCommand fake host)', () => {
  const started: SshdFixture[] = [];
  afterEach(async () => {
    for (const s of started.splice(0)) await s.stop();
  });
  async function sshd(opts: { bmcPowerFile?: string } = {}): Promise<SshdFixture> {
    const s = await startSshd(opts);
    started.push(s);
    return s;
  }

  it('shuts the host down gracefully: systemctl poweroff is asked, then the host stops answering', async () => {
    const bmcDir = mkdtempSync(join(tmpdir(), 'vs-bmcfile-'));
    const bmcPower = join(bmcDir, 'power');
    writeFileSync(bmcPower, '1\n');
    onTestFinished(() => rmSync(bmcDir, { recursive: true, force: true }));
    const s = await sshd({ bmcPowerFile: bmcPower });
    const d = new SshDriver('h1', cfg(s));
    expect(await d.answers()).toBe(true);
    await d.powerOff('graceful');
    expect(s.commands()).toEqual(['systemctl poweroff']);
    await expect.poll(() => s.running(), { timeout: 10_000 }).toBe(false);
    expect(await d.answers()).toBe(false);
    expect(readFileSync(bmcPower, 'utf8').trim()).toBe('0');
  });

  it('runs the configured shutdown command instead of the default', async () => {
    const s = await sshd();
    await new SshDriver('h1', cfg(s, { command: 'shutdown -h now' })).powerOff('graceful');
    expect(s.commands()).toEqual(['shutdown -h now']);
  });

  it('reports a failing shutdown command with its exit code', async () => {
    const s = await sshd();
    const err = await new SshDriver('h1', cfg(s, { command: 'halt -p' }))
      .powerOff('graceful')
      .catch((e) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/"halt -p" exited 127: halt -p: command not found/);
  });

  it('refuses a host whose key is not the one in known_hosts, before running anything', async () => {
    const s = await sshd();
    const impostor = writeKeyPair(s.dir, 'other_hostkey');
    const kh = join(s.dir, 'known_hosts_wrong');
    writeFileSync(kh, `[${s.address}]:${s.port} ${impostor.publicLine}\n`);
    const d = new SshDriver('h1', cfg(s, { known_hosts: kh }));
    await expect(d.powerOff('graceful')).rejects.toThrow(SshTrustError);
    await expect(d.answers()).rejects.toThrow(/host key does not match known_hosts: refused/);
    expect(s.commands()).toEqual([]);
  });

  it('refuses a host that known_hosts does not list at all', async () => {
    const s = await sshd();
    const kh = join(s.dir, 'known_hosts_other');
    writeFileSync(kh, `[${s.address}]:${s.port + 1} ${writeKeyPair(s.dir, 'k2').publicLine}\n`);
    await expect(new SshDriver('h1', cfg(s, { known_hosts: kh })).answers()).rejects.toThrow(
      /no key for \[127(\.\d+){3}\]:\d+ in .*: refused/,
    );
  });

  it('reports a client key the host does not accept', async () => {
    const s = await sshd();
    const stranger = writeKeyPair(s.dir, 'stranger');
    await expect(new SshDriver('h1', cfg(s, { key_file: stranger.privatePath })).answers()).rejects.toThrow(
      /key authentication refused for user root/,
    );
  });
});

describe('ssh driver against the ssh2 Server (slow and dropped connections)', () => {
  let host: FakeSshHost;
  beforeAll(async () => {
    host = await startFakeSshHost();
  });
  afterAll(async () => {
    await host?.stop();
  });
  afterEach(() => {
    host.handler = () => ({ code: 0 });
    host.refuseHandshake = false;
    host.commands.length = 0;
  });

  it('a host that never answers the command fails within the timeout', async () => {
    host.handler = () => ({ delayMs: 10_000 });
    const started = Date.now();
    const err = await new SshDriver('h2', cfg(host, { timeout: '1s' })).powerOff('graceful').catch((e) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/no answer to "systemctl poweroff" within 1000 ms/);
    expect(Date.now() - started).toBeLessThan(8000);
  });

  it('a connection dropped mid-shutdown counts as accepted (the host went down)', async () => {
    host.handler = () => ({ drop: true, delayMs: 50 });
    await new SshDriver('h2', cfg(host)).powerOff('graceful');
    expect(host.commands).toEqual(['systemctl poweroff']);
  });

  it('a host that drops connections before login does not answer', async () => {
    host.refuseHandshake = true;
    expect(await new SshDriver('h2', cfg(host, { timeout: '2s' })).answers()).toBe(false);
  });

  it('nothing listening: does not answer, and a shutdown fails with a clear error', async () => {
    const gone = cfg(host, { port: 1, known_hosts: host.knownHosts });
    writeFileSync(join(host.dir, 'kh1'), `[127.0.0.1]:1 ${host.client.publicLine}\n`);
    const d = new SshDriver('h3', { ...gone, known_hosts: join(host.dir, 'kh1') });
    expect(await d.answers()).toBe(false);
    await expect(d.powerOff('graceful')).rejects.toThrow(
      /host h3: ssh root@127\.0\.0\.1:1: not answering .*ECONNREFUSED/,
    );
  });
});
