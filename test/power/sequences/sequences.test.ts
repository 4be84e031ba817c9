import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHostPower, hostPowerSchema } from '../../../src/power/registry.js';
import {
  drillIfDue,
  pickDrillHost,
  powerOffHost,
  recoverInterrupted,
  wakeDrill,
  wakeHost,
  wakeHosts,
  type SequenceContext,
} from '../../../src/power/sequences.js';
import type { HostPower } from '../../../src/power/types.js';
import { openStateStore, type SqliteStateStore } from '../../../src/state/index.js';
import { ipmiSection, startBmc, type SimBmc } from '../fixtures/ipmi-sim.js';
import { startSshd, type SshdFixture } from '../fixtures/sshd.js';
import { memoryLogger } from '../helpers.js';
import { testProbe } from './probe.js';

const PASSWORD = 'Seq-bmc-Pa55';
let dir: string;
let store: SqliteStateStore;
const bmcs: Record<string, SimBmc> = {};
const sshds: SshdFixture[] = [];

const ipmi = ipmiSection;
function ssh(s: SshdFixture) {
  return {
    address: s.address,
    port: s.port,
    key_file: s.client.privatePath,
    known_hosts: s.knownHosts,
    timeout: '5s',
  };
}

function context(
  powers: Record<string, HostPower>,
  probe = testProbe({ isUp: (h) => bmcs[h]?.power() === '1' }),
) {
  const { log, text } = memoryLogger();
  const ctx: SequenceContext = {
    store,
    probe,
    powerFor: (h) => powers[h],
    timing: { pollMs: 100, offTimeoutMs: 3000, wakeTimeoutMs: 3000, staggerMs: 200 },
    runId: 'run-1',
    actor: 'run run-1',
    nowMs: Date.now,
    log,
  };
  return { ctx, probe, logText: text };
}

function power(host: string, section: Record<string, unknown>): HostPower {
  return createHostPower(host, hostPowerSchema.parse(section));
}

beforeAll(async () => {
  const [a, b, c] = await Promise.all([
    startBmc({ password: PASSWORD }),
    startBmc({ password: PASSWORD }),
    startBmc({ password: PASSWORD }),
  ]);
  Object.assign(bmcs, { a: a!, b: b!, c: c! });
});
afterAll(async () => {
  await Promise.all(Object.values(bmcs).map((b) => b.stop()));
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'vs-seq-'));
  store = openStateStore(join(dir, 'state.db'));
  for (const b of Object.values(bmcs)) b.setPower(true);
});
afterEach(async () => {
  store.close();
  for (const s of sshds.splice(0)) await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function sshdFor(b: SimBmc): Promise<SshdFixture> {
  const s = await startSshd({ bmcPowerFile: join(b.dir, 'power') });
  sshds.push(s);
  return s;
}

describe('power-off sequence (real BMC and sshd)', () => {
  it('shuts down over ssh, sees the BMC report off, tags standby with who/why, journals intent and outcome', async () => {
    const s = await sshdFor(bmcs.a!);
    const { ctx, probe } = context({
      a: power('a', { off: ['ssh', 'ipmi-soft'], ipmi: ipmi(bmcs.a!), ssh: ssh(s) }),
    });
    const out = await powerOffHost(ctx, 'a', 'squeeze: emptied');
    expect(out).toEqual({ ok: true, host: 'a', method: 'ssh' });
    expect(probe.domainLooks).toEqual(['a']);
    expect(s.commands()).toEqual(['systemctl poweroff']);
    expect(bmcs.a!.power()).toBe('0');
    expect(bmcs.a!.calls()).not.toContain('set shutdown 1'); // the graceful step sufficed
    expect(store.tags('a')).toEqual([
      expect.objectContaining({ tag: 'standby', by: 'run run-1', why: 'squeeze: emptied' }),
    ]);
    expect(store.powerHistory('a')[0]).toEqual(expect.objectContaining({ kind: 'off', detail: 'ssh' }));
    expect(store.journalEntries('run-1').map((e) => `${e.action}:${e.phase}`)).toEqual([
      'power-off:intent',
      'power-off:done',
    ]);
  });

  it('never powers off a host the fresh look finds holding a domain, nor an unreachable one', async () => {
    const s = await sshdFor(bmcs.a!);
    const probe = testProbe({ domains: { a: 1 }, unreachable: new Set(['b']), isUp: () => true });
    const { ctx } = context(
      {
        a: power('a', { off: ['ssh', 'ipmi-soft', 'ipmi-hard'], ipmi: ipmi(bmcs.a!), ssh: ssh(s) }),
        b: power('b', { off: ['ipmi-hard'], ipmi: ipmi(bmcs.b!) }),
      },
      probe,
    );
    const callsBefore = bmcs.a!.calls().length;
    expect(await powerOffHost(ctx, 'a', 'x')).toEqual(
      expect.objectContaining({
        ok: false,
        kind: 'refused',
        reason: 'fresh look: host still holds 1 domain(s)',
      }),
    );
    expect(await powerOffHost(ctx, 'b', 'x')).toEqual(
      expect.objectContaining({ ok: false, kind: 'refused' }),
    );
    expect(s.commands()).toEqual([]);
    expect(bmcs.a!.calls().slice(callsBefore)).toEqual([]);
    expect(bmcs.a!.power()).toBe('1');
    expect(bmcs.b!.power()).toBe('1');
    expect(store.tags()).toEqual([]);
    expect(store.journalEntries('run-1').map((e) => e.phase)).toEqual([
      'intent',
      'failed',
      'intent',
      'failed',
    ]);
  });

  it('falls back to IPMI soft-off when ssh does not answer', async () => {
    const s = await sshdFor(bmcs.a!);
    const { ctx } = context({ a: power('a', { ipmi: ipmi(bmcs.a!), ssh: ssh(s) }) }); // default off: ssh, ipmi-soft
    await s.kill(); // sshd gone: the graceful step fails at once
    const out = await powerOffHost(ctx, 'a', 'squeeze');
    expect(out).toEqual({ ok: true, host: 'a', method: 'ipmi-soft' });
    expect(bmcs.a!.calls()).toContain('set shutdown 1');
  });

  it('a host that ignores soft-off is not cut unless ipmi-hard is configured', async () => {
    bmcs.c!.ignoreSoftOff();
    try {
      const soft = context({ c: power('c', { off: ['ipmi-soft'], ipmi: ipmi(bmcs.c!) }) });
      const out = await powerOffHost(soft.ctx, 'c', 'squeeze');
      expect(out).toEqual(expect.objectContaining({ ok: false, kind: 'failed' }));
      expect(out.ok || out.reason).toMatch(/ipmi-soft: not confirmed off within 3000 ms/);
      expect(bmcs.c!.power()).toBe('1');
      expect(store.tags('c')).toEqual([]);
      expect(store.powerHistory('c')[0]?.kind).toBe('off-failed');

      const hard = context({ c: power('c', { off: ['ipmi-soft', 'ipmi-hard'], ipmi: ipmi(bmcs.c!) }) });
      expect(await powerOffHost(hard.ctx, 'c', 'squeeze')).toEqual({
        ok: true,
        host: 'c',
        method: 'ipmi-hard',
      });
      expect(bmcs.c!.power()).toBe('0');
    } finally {
      rmSync(join(bmcs.c!.dir, 'power.soft-ignored'), { force: true });
    }
  });
});

describe('wake sequence with verification', () => {
  it('wakes over IPMI, waits for BMC on, SSH and libvirt capacity, then removes standby', async () => {
    bmcs.a!.setPower(false);
    const s = await sshdFor(bmcs.a!);
    store.addTag({ host: 'a', tag: 'standby', by: 'run r0', atMs: 1, why: 'squeeze' });
    const { ctx } = context({ a: power('a', { ipmi: ipmi(bmcs.a!), ssh: ssh(s) }) });
    const out = await wakeHost(ctx, 'a', 'expand');
    expect(out).toEqual(
      expect.objectContaining({
        ok: true,
        host: 'a',
        method: 'ipmi',
        capacity: { cpu: 32, memMiB: 262144, diskGiB: 2000 },
      }),
    );
    expect(bmcs.a!.power()).toBe('1');
    expect(store.tags('a')).toEqual([]);
    expect(store.powerHistory('a')[0]).toEqual(expect.objectContaining({ kind: 'on', detail: 'ipmi' }));
  });

  it('a host that never comes up is quarantined and the next standby host is woken instead; it is never picked again', async () => {
    bmcs.a!.setPower(false);
    bmcs.b!.setPower(false);
    bmcs.a!.neverPowersOn();
    const callsBefore = bmcs.a!.calls().length;
    try {
      for (const h of ['a', 'b'])
        store.addTag({ host: h, tag: 'standby', by: 'run r0', atMs: 1, why: 'squeeze' });
      const powers = { a: power('a', { ipmi: ipmi(bmcs.a!) }), b: power('b', { ipmi: ipmi(bmcs.b!) }) };
      const { ctx, logText } = context(powers);
      const report = await wakeHosts(ctx, ['a', 'b'], 1, 4, 'expand: below minimal');
      expect(report.woken.map((w) => w.host)).toEqual(['b']);
      expect(report.failed).toEqual([expect.objectContaining({ host: 'a', stage: 'bmc' })]);
      expect(report.shortBy).toBe(0);
      expect(
        store
          .tags('a')
          .map((t) => t.tag)
          .sort(),
      ).toEqual(['standby', 'wake-failed']);
      expect(store.tags('a').find((t) => t.tag === 'wake-failed')?.why).toMatch(
        /^bmc: not reported on within 3000 ms/,
      );
      expect(store.tags('b')).toEqual([]);
      expect(logText()).toContain('host quarantined');

      // Next run: a is never picked again, even when it is the only candidate.
      const again = await wakeHosts(context(powers).ctx, ['a'], 1, 4, 'expand');
      expect(again).toEqual({ woken: [], failed: [], shortBy: 1 });
      expect(
        bmcs
          .a!.calls()
          .slice(callsBefore)
          .filter((c) => c === 'set power 1'),
      ).toHaveLength(1);
    } finally {
      rmSync(join(bmcs.a!.dir, 'power.stuck-off'), { force: true });
    }
  });

  it('bounds power actions per run and staggers them', async () => {
    for (const h of ['a', 'b', 'c']) {
      bmcs[h]!.setPower(false);
      store.addTag({ host: h, tag: 'standby', by: 'run r0', atMs: 1, why: 'squeeze' });
    }
    const powers = Object.fromEntries(['a', 'b', 'c'].map((h) => [h, power(h, { ipmi: ipmi(bmcs[h]!) })]));
    const { ctx } = context(powers);
    const started = Date.now();
    const report = await wakeHosts(ctx, ['a', 'b', 'c'], 3, 2, 'expand');
    expect(report.woken.map((w) => w.host)).toEqual(['a', 'b']);
    expect(report.shortBy).toBe(1);
    expect(bmcs.c!.power()).toBe('0');
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
  });

  it('fails the ssh stage (and quarantines) when the OS never answers', async () => {
    bmcs.a!.setPower(false);
    const s = await sshdFor(bmcs.a!);
    const { ctx } = context({ a: power('a', { ipmi: ipmi(bmcs.a!), ssh: ssh(s) }) });
    await s.kill();
    const out = await wakeHost(ctx, 'a', 'expand');
    expect(out).toEqual(expect.objectContaining({ ok: false, stage: 'ssh' }));
    expect(out.ok || out.reason).toMatch(/SSH did not answer within 3000 ms \(not yet\)/);
    expect(store.tags('a').map((t) => t.tag)).toEqual(['wake-failed']);
  });

  it('a BMC refusing the password quarantines the host without the password in tags, journal or logs', async () => {
    const { writeFileSync } = await import('node:fs');
    const wrong = join(dir, 'bmc-password');
    writeFileSync(wrong, 'Not-The-Real-One-42\n', { mode: 0o600 });
    const { ctx, logText } = context({ a: power('a', { ipmi: { ...ipmi(bmcs.a!), password_file: wrong } }) });
    const out = await wakeHost(ctx, 'a', 'expand');
    expect(out).toEqual(expect.objectContaining({ ok: false, stage: 'power-on' }));
    expect(out.ok || out.reason).toMatch(/authentication failed/);
    const everything =
      JSON.stringify([store.tags(), store.journalEntries(), store.powerHistory('a')]) + logText();
    expect(everything).toContain('authentication failed');
    for (const secret of ['Not-The-Real-One-42', PASSWORD]) expect(everything).not.toContain(secret);
  });
});

describe('wake drill', () => {
  it('wakes the standby host off longest, verifies it and puts it back to standby', async () => {
    for (const [h, offAt] of [
      ['a', 5000],
      ['b', 1000],
    ] as const) {
      bmcs[h]!.setPower(false);
      store.addTag({ host: h, tag: 'standby', by: 'run r0', atMs: offAt, why: 'squeeze' });
      store.recordPower({ host: h, atMs: offAt, kind: 'off', detail: 'ssh' });
    }
    const powers = {
      a: power('a', { ipmi: ipmi(bmcs.a!) }),
      b: power('b', { off: ['ipmi-soft'], ipmi: ipmi(bmcs.b!) }),
    };
    const { ctx } = context(powers);
    expect(pickDrillHost(store, ['a', 'b'])).toBe('b');
    const drill = await wakeDrill(ctx, ['a', 'b']);
    expect(drill?.host).toBe('b');
    expect(drill?.wake.ok).toBe(true);
    expect(drill?.back?.ok).toBe(true);
    expect(bmcs.b!.calls()).toEqual(expect.arrayContaining(['set power 1', 'set shutdown 1']));
    expect(bmcs.b!.power()).toBe('0');
    expect(store.tags('b').map((t) => t.tag)).toEqual(['standby']);
    expect(
      store
        .powerHistory('b')
        .map((e) => e.kind)
        .slice(0, 3),
    ).toEqual(['drill-ok', 'off', 'on']);
    expect(pickDrillHost(store, ['a', 'b'])).toBe('a'); // b is now the most recently off
    // The run's hook (quiet hours = the whole day here): not again within min_interval, then due.
    const policy = { enabled: true, startMin: 0, endMin: 24 * 60, minIntervalMs: 3_600_000 };
    const soon = new Date(Date.now() + 60_000);
    const callsBefore = bmcs.a!.calls().length;
    expect(await drillIfDue(ctx, policy, ['a', 'b'], soon)).toBeUndefined();
    expect(bmcs.a!.calls().slice(callsBefore)).toEqual([]);
    const later = new Date(Date.now() + 2 * 3_600_000);
    const next = await drillIfDue(ctx, policy, ['a', 'b'], later);
    expect(next).toEqual(expect.objectContaining({ host: 'a', back: expect.objectContaining({ ok: true }) }));
  });
});

describe('recovery of actions a killed run left open', () => {
  it('tags a host found off after an interrupted power-off, closes one found on, redoes an interrupted wake', async () => {
    bmcs.a!.setPower(false); // the killed run got as far as powering a off
    bmcs.b!.setPower(true); // ... but b never went down
    bmcs.c!.setPower(false); // ... and c's wake was cut short
    store.addTag({ host: 'c', tag: 'standby', by: 'run r0', atMs: 1, why: 'squeeze' });
    for (const [action, target] of [
      ['power-off', 'a'],
      ['power-off', 'b'],
      ['wake', 'c'],
    ] as const)
      store.journal({ runId: 'killed', atMs: 1, action, target, phase: 'intent' });
    const powers = Object.fromEntries(['a', 'b', 'c'].map((h) => [h, power(h, { ipmi: ipmi(bmcs[h]!) })]));
    const { ctx } = context(powers);
    const recovered = await recoverInterrupted(ctx);
    expect(recovered.map((r) => `${r.host}:${r.result}`)).toEqual([
      'a:host is off: tagged standby',
      'b:interrupted; host is on: not tagged',
      'c:woken and verified',
    ]);
    expect(store.tags('a').map((t) => t.tag)).toEqual(['standby']);
    expect(store.tags('b')).toEqual([]);
    expect(store.tags('c')).toEqual([]);
    expect(bmcs.c!.power()).toBe('1');
    expect(store.unfinishedActions()).toEqual([]);
    expect(await recoverInterrupted(ctx)).toEqual([]);
  });
});
