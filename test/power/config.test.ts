import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { estimateSavings } from '../../src/power/energy.js';
import { hostPowerSchema } from '../../src/power/registry.js';
import { drillPolicy, powerDefaultsSchema, powerTiming } from '../../src/power/schema.js';
import { drillDue } from '../../src/power/sequences.js';

let dir: string;
let pw: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vs-pcfg-'));
  pw = join(dir, 'pw');
  writeFileSync(pw, 'x\n', { mode: 0o600 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ipmi = () => ({ address: '10.0.0.5', username: 'admin', password_file: pw });

function issues(input: unknown): string[] {
  const r = hostPowerSchema.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('per-host power: section', () => {
  it('fills defaults: on by BMC then WoL, off gracefully (never a hard cut unless listed)', () => {
    const p = hostPowerSchema.parse({
      ipmi: ipmi(),
      wol: { mac: '52:54:00:00:00:01' },
      ssh: { address: 'h', key_file: pw, known_hosts: '/etc/ssh/ssh_known_hosts' },
    });
    expect(p.on).toEqual(['ipmi', 'wol']);
    expect(p.off).toEqual(['ssh', 'ipmi-soft']);
    expect(p.ipmi).toEqual(
      expect.objectContaining({ port: 623, cipher_suite: 3, timeout: 10_000, retries: 2 }),
    );
    expect(p.wol).toEqual({
      mac: '52:54:00:00:00:01',
      broadcast: '255.255.255.255',
      port: 9,
      count: 3,
      interval: 100,
    });
    expect(p.ssh).toEqual(
      expect.objectContaining({ port: 22, user: 'root', command: 'systemctl poweroff', timeout: 30_000 }),
    );
  });

  it('an unknown driver or method is a config error naming the known ones', () => {
    expect(issues({ ipmi: ipmi(), redfish: {} })).toEqual([
      ': unknown power driver "redfish" (known: ipmi, wol, ssh, command; plus on, off)',
    ]);
    expect(issues({ ipmi: ipmi(), off: ['ipmi-soft', 'magic'] })[0]).toMatch(
      /^off.1: unknown power-off method "magic" \(known: ipmi-soft, ipmi-hard, ssh, command\)/,
    );
  });

  it('a method needs its driver section, and some driver must be configured', () => {
    expect(issues({ ipmi: ipmi(), on: ['wol'] })).toEqual(['on.0: wol needs a "wol:" section']);
    expect(issues({})).toEqual([': configure at least one power driver (ipmi, wol, ssh, command)']);
  });

  it('refuses secrets given inline or in files others can read', () => {
    expect(issues({ ipmi: { ...ipmi(), password: 'x' } })[0]).toMatch(/Unrecognized key.*password/);
    const open = join(dir, 'open');
    writeFileSync(open, 'x\n');
    chmodSync(open, 0o604);
    expect(issues({ ipmi: { ...ipmi(), password_file: open } })).toEqual([
      `ipmi.password_file: ${open} is accessible to all users (mode 604): chmod o-rwx ${open}`,
    ]);
    expect(issues({ ipmi: { ...ipmi(), password_file: 'pw' } })).toEqual([
      'ipmi.password_file: must be an absolute path, got "pw"',
    ]);
  });
});

describe('top-level power: defaults', () => {
  it('parses durations with units and fills every default', () => {
    const p = powerDefaultsSchema.parse({
      stagger: '10s',
      drills: { enabled: true, quiet_hours: '23:30-04:00' },
    });
    expect(powerTiming(p)).toEqual({
      pollMs: 5000,
      offTimeoutMs: 300_000,
      wakeTimeoutMs: 600_000,
      staggerMs: 10_000,
    });
    expect(drillPolicy(p)).toEqual({
      enabled: true,
      startMin: 1410,
      endMin: 240,
      minIntervalMs: 7 * 86_400_000,
    });
    expect(powerDefaultsSchema.parse({}).drills.enabled).toBe(false);
    expect(powerDefaultsSchema.safeParse({ drills: { quiet_hours: '25:00-04:00' } }).success).toBe(false);
  });
});

describe('drillDue', () => {
  const policy = { enabled: true, startMin: 23 * 60, endMin: 4 * 60, minIntervalMs: 86_400_000 };
  it('runs only inside quiet hours (spanning midnight) and not twice within the interval', () => {
    expect(drillDue(policy, 10 * 86_400_000, 23 * 60 + 30)).toBe(true);
    expect(drillDue(policy, 10 * 86_400_000, 3 * 60)).toBe(true);
    expect(drillDue(policy, 10 * 86_400_000, 12 * 60)).toBe(false);
    expect(drillDue(policy, 10 * 86_400_000, 60, 10 * 86_400_000 - 1000)).toBe(false);
    expect(drillDue({ ...policy, enabled: false }, 10 * 86_400_000, 60)).toBe(false);
  });
  it('never runs outside the window, for any window and minute', () => {
    fc.assert(
      fc.property(fc.nat(1439), fc.nat(1439), fc.nat(1439), (start, end, minute) => {
        const inside = start <= end ? minute >= start && minute < end : minute >= start || minute < end;
        expect(drillDue({ ...policy, startMin: start, endMin: end }, 0, minute)).toBe(inside);
      }),
    );
  });
});

describe('estimateSavings', () => {
  it('uses the DCMI reading, else idle_w, else max_w, and reports kWh per day', () => {
    const s = estimateSavings([
      { id: 'a', measuredWatts: 120, idleWatts: 100 },
      { id: 'b', idleWatts: 80, maxWatts: 300 },
      { id: 'c', maxWatts: 250 },
      { id: 'd' },
    ]);
    expect(s.watts).toBe(120 + 80 + 250);
    expect(s.kWhPerDay).toBeCloseTo((450 * 24) / 1000);
    expect(s.basis).toEqual({ a: 'dcmi', b: 'idle_w', c: 'max_w', d: 'unknown' });
    expect(estimateSavings([{ id: 'a', idleWatts: 100 }], 8).watts).toBe(92);
  });
});
