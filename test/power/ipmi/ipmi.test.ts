import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackendError } from '../../../src/errors.js';
import { IpmiDriver, ipmiSchema, parseDcmiWatts, type IpmiConfig } from '../../../src/power/ipmi/index.js';
import { freeUdpPort, ipmiSection, startBmc, type SimBmc } from '../fixtures/ipmi-sim.js';
import { childCommandLines, memoryLogger } from '../helpers.js';

const PASSWORD = 'bmc-S3cret-pw';
let bmc: SimBmc;
let stubborn: SimBmc;

function config(b: SimBmc, extra: Partial<Record<string, unknown>> = {}): IpmiConfig {
  return ipmiSchema.parse({ ...ipmiSection(b), ...extra });
}

beforeAll(async () => {
  [bmc, stubborn] = await Promise.all([
    startBmc({ password: PASSWORD }),
    startBmc({ password: PASSWORD, poweredOn: true }),
  ]);
  stubborn.ignoreSoftOff();
});
afterAll(async () => {
  await Promise.all([bmc?.stop(), stubborn?.stop()]);
});

describe('ipmi driver against ipmi_sim', () => {
  it('reads status, powers on, soft-offs and hard-offs (the chassis file really changes)', async () => {
    const d = new IpmiDriver('h1', config(bmc));
    bmc.setPower(false);
    expect(await d.status()).toBe('off');
    await d.powerOn();
    expect(bmc.power()).toBe('1');
    expect(await d.status()).toBe('on');
    await d.powerOff('soft');
    expect(bmc.power()).toBe('0');
    bmc.setPower(true);
    await d.powerOff('hard');
    expect(bmc.power()).toBe('0');
    expect(bmc.calls()).toEqual(
      expect.arrayContaining(['get power', 'set power 1', 'set shutdown 1', 'set power 0']),
    );
  });

  it('power cycle turns the host off and back on', async () => {
    const d = new IpmiDriver('h1', config(bmc));
    bmc.setPower(true);
    const before = bmc.calls().length;
    await d.cycle();
    for (let i = 0; i < 100 && bmc.power() !== '1'; i++) await sleep(50);
    const calls = bmc.calls().slice(before);
    expect(calls).toContain('set power 0');
    await expect.poll(() => bmc.calls().slice(before), { timeout: 5000 }).toContain('set power 1');
  });

  it('a BMC whose host ignores soft-off stays on; only a hard off cuts it', async () => {
    const d = new IpmiDriver('h2', config(stubborn));
    await d.powerOff('soft');
    expect(await d.status()).toBe('on');
    await d.powerOff('hard');
    expect(await d.status()).toBe('off');
  });

  it('reports no DCMI reading where the BMC offers none', async () => {
    expect(await new IpmiDriver('h1', config(bmc)).readPowerWatts()).toBeUndefined();
  });

  it("parses ipmitool's DCMI power reading (ipmi_sim has no DCMI: the text is ipmitool 1.8.19's format)", () => {
    const reading = [
      '',
      '    Instantaneous power reading:                   187 Watts',
      '    Minimum during sampling period:                 92 Watts',
      '    Maximum during sampling period:                301 Watts',
      '    Average power reading over sample period:      164 Watts',
      '    IPMI timestamp:                           Sat Nov 21 11:00:00 2026',
      '    Sampling period:                          00000001 Seconds.',
      '    Power reading state is:                   activated',
    ].join('\n');
    expect(parseDcmiWatts(reading)).toBe(187);
    expect(
      parseDcmiWatts('Power Reading State is: deactivated\nInstantaneous power reading: 0 Watts'),
    ).toBeUndefined();
    expect(parseDcmiWatts('DCMI request failed because: Invalid command (c1)')).toBeUndefined();
  });

  it('a wrong password fails at once with a clear error that does not contain the password', async () => {
    const { writeFileSync } = await import('node:fs');
    const wrong = `${bmc.dir}/wrong-password`;
    writeFileSync(wrong, 'Wr0ng-Pa55word\n', { mode: 0o600 });
    const { log, text } = memoryLogger();
    const d = new IpmiDriver('h1', config(bmc, { password_file: wrong, retries: 3 }), log);
    const started = Date.now();
    const err = await d.status().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(
      /host h1: ipmi chassis power status via 127(\.\d+){3}:\d+: authentication failed/,
    );
    expect((err as Error).message).not.toContain('Wr0ng-Pa55word');
    expect(text()).not.toContain('Wr0ng-Pa55word');
    expect(Date.now() - started).toBeLessThan(5000); // no retries after a refused login
  });

  it('an unreachable BMC fails within the bounded time (timeout x attempts), password never in argv, logs or error', async () => {
    const port = await freeUdpPort();
    const { log, text } = memoryLogger();
    const d = new IpmiDriver('h9', config(bmc, { port, timeout: '2s', retries: 1 }), log);
    const seen: string[] = [];
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        seen.push(...childCommandLines().filter((c) => c.startsWith('ipmitool')));
        await sleep(20);
      }
    })();
    const started = Date.now();
    const err = await d.status().catch((e: unknown) => e);
    const tookMs = Date.now() - started;
    watching = false;
    await watcher;
    expect(err).toBeInstanceOf(BackendError);
    expect((err as Error).message).toMatch(/unreachable|no answer/);
    expect((err as Error).message).toMatch(/after 2 attempts/);
    expect(tookMs).toBeLessThan(2 * (2000 + 3000) + 1000);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen[0]).toContain(`-U admin -E`);
    for (const cmdline of seen) expect(cmdline).not.toContain(PASSWORD);
    expect(text()).toContain('ipmitool failed');
    expect(text()).not.toContain(PASSWORD);
    expect((err as Error).message).not.toContain(PASSWORD);
  });

  it('refuses a password file others can read (config error) and re-checks it before each call', async () => {
    const { chmodSync } = await import('node:fs');
    const open = `${bmc.dir}/password`;
    const cfg = config(bmc);
    chmodSync(open, 0o644);
    try {
      const parsed = ipmiSchema.safeParse({ address: '127.0.0.1', username: 'admin', password_file: open });
      expect(parsed.success).toBe(false);
      expect(JSON.stringify(parsed.error?.issues)).toMatch(/accessible to all users \(mode 644\)/);
      const d = new IpmiDriver('h1', cfg);
      await expect(d.status()).rejects.toThrow(/password_file: .* accessible to all users/);
    } finally {
      chmodSync(open, 0o600);
    }
  });
});
