import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configSchema } from '../../src/config/schema.js';
import { errorOf, parse } from './helpers.js';

describe('config schema defaults', () => {
  it('an empty file is a valid config with operator defaults filled', () => {
    const { config } = parse('');
    expect(config).toEqual({
      mode: 'dry-run',
      thresholds: {},
      overcommit: {},
      safety: {},
      migration: { max_parallel: 4, max_per_host: 2, bandwidth: 1000, max_downtime: 300 },
      state: { path: '/var/lib/virt-squeeze/state.db' },
      power: {
        stagger: 30_000,
        poll_interval: 5_000,
        off_timeout: 300_000,
        wake_timeout: 600_000,
        drills: { enabled: false, quiet_hours: '02:00-05:00', min_interval: 604_800_000 },
      },
      hosts: [],
      schedule: '*/15 * * * *',
      report: { send: 'on_action' },
      logging: { level: 'info', format: 'auto' },
    });
  });

  it('a comment-only file is the same as an empty one', () => {
    expect(parse('# nothing here\n').config).toEqual(parse('').config);
  });

  it('fields a cluster file may also set stay unset, so the file can fill them', () => {
    const { config } = parse('mode: execute\n');
    expect(config.standard_instance).toBeUndefined();
    expect(config.anti_affinity).toBeUndefined();
    expect(config.thresholds.minimal).toBeUndefined();
    expect(config.safety.failover_reserve_hosts).toBeUndefined();
    expect(config.overcommit.cpu).toBeUndefined();
  });

  it('standard instance disk defaults to 0 (not counted) and units are normalised', () => {
    const { config } = parse('standard_instance: {vcpus: 2, memory: 4GiB}\n');
    expect(config.standard_instance).toEqual({ vcpus: 2, memory: 4096, disk: 0 });
    expect(
      parse('standard_instance: {vcpus: 1, memory: 512, disk: 1TiB}\n').config.standard_instance,
    ).toEqual({
      vcpus: 1,
      memory: 512,
      disk: 1024,
    });
  });

  it('the usage section fills its defaults and is enabled when present', () => {
    expect(parse('usage: {}\n').config.usage).toEqual({
      enabled: true,
      cpu_cap: 0.8,
      percentile: 95,
      lookback: 86_400_000,
    });
    expect(parse('').config.usage).toBeUndefined();
  });

  it('normalises migration units: bandwidth to MiB/s, durations to ms', () => {
    const { config } = parse(
      'migration: {bandwidth: 10Gbit/s, max_downtime: 1s, max_migration_time: 10m, plan_time_budget: 3600}\n',
    );
    expect(config.migration.bandwidth).toBeCloseTo(1192.09, 2);
    expect(config.migration.max_downtime).toBe(1000);
    expect(config.migration.max_migration_time).toBe(600_000);
    expect(config.migration.plan_time_budget).toBe(3_600_000);
  });

  it('power limits take "unlimited"', () => {
    expect(parse('safety: {max_power_off_per_run: unlimited}\n').config.safety.max_power_off_per_run).toBe(
      Number.POSITIVE_INFINITY,
    );
  });

  it('hosts keep only what was written', () => {
    const { config } = parse(
      'hosts:\n  - id: kvm01\n    uri: qemu+ssh://root@kvm01/system\n    drain: true\n',
    );
    expect(config.hosts).toEqual([{ id: 'kvm01', uri: 'qemu+ssh://root@kvm01/system', drain: true }]);
  });
});

describe('config schema refusals', () => {
  it.each([
    [
      'standard_instance: {vcpus: 0, memory: 4GiB}\n',
      'c.yaml:1: standard_instance.vcpus: expected a number > 0, got 0',
    ],
    [
      'standard_instance: {vcpus: 2, memory: 0}\n',
      'c.yaml:1: standard_instance.memory: expected a size > 0, got 0',
    ],
    [
      'standard_instance: {vcpus: 2}\n',
      'c.yaml:1: standard_instance.memory: required (expected a size such as 4GiB, 512MiB or a plain number of MiB)',
    ],
    ['safety: {min_online_hosts: 0}\n', 'c.yaml:1: safety.min_online_hosts: expected a number >= 1, got 0'],
    [
      'safety: {failover_reserve_hosts: 1.5}\n',
      'c.yaml:1: safety.failover_reserve_hosts: expected a whole number, got 1.5',
    ],
    ['migration: {max_per_host: 0}\n', 'c.yaml:1: migration.max_per_host: expected a number >= 1, got 0'],
    ['overcommit: {cpu: 0}\n', 'c.yaml:1: overcommit.cpu: expected a number > 0, got 0'],
    ['thresholds: {minimal: -1}\n', 'c.yaml:1: thresholds.minimal: expected a number >= 0, got -1'],
    ['mode: run\n', 'c.yaml:1: mode: expected one of "dry-run", "execute", got "run"'],
    ['anti_affinity: yes\n', 'c.yaml:1: anti_affinity: expected true or false, got "yes"'],
    ['usage: {percentile: 101}\n', 'c.yaml:1: usage.percentile: expected a number <= 100, got 101'],
    ['hosts: {id: a}\n', 'c.yaml:1: hosts: expected a list, got a mapping'],
    ['hosts: [{uri: "qemu:///system"}]\n', 'c.yaml:1: hosts[0].id: required (expected a string)'],
    ['- 1\n', 'c.yaml:1: expected a mapping, got a list'],
  ])('%j', (yaml, message) => {
    expect(errorOf(yaml)).toBe(message);
  });

  it('unknown keys are errors, with a suggestion for a typo', () => {
    expect(errorOf('thresholds:\n  minmal: 2\n')).toBe(
      'c.yaml:2: thresholds.minmal: unknown key (did you mean "minimal"?)',
    );
    expect(errorOf('hosts:\n  - id: a\n    excluded: true\n')).toBe(
      'c.yaml:3: hosts[0].excluded: unknown key (did you mean "exclude"?)',
    );
  });

  it('an unknown key far from any known one lists the allowed keys', () => {
    expect(errorOf('thresholds:\n  zzzzzzzz: 2\n')).toBe(
      'c.yaml:2: thresholds.zzzzzzzz: unknown key (allowed: minimal, target, mode)',
    );
  });

  it('refuses a password inside a libvirt URI without echoing it', () => {
    const message = errorOf('hosts:\n  - id: a\n    uri: qemu+ssh://root:hunter2@kvm01/system\n');
    expect(message).toBe(
      'c.yaml:3: hosts[0].uri: a libvirt URI must not hold a password (use an SSH key or a libvirt auth file)',
    );
    expect(errorOf('hosts:\n  - id: a\n    uri: "hunter2 no scheme"\n')).not.toContain('hunter2');
  });
});

describe('config JSON Schema', () => {
  const schema = z.toJSONSchema(configSchema, { io: 'input' }) as {
    additionalProperties: boolean;
    properties: Record<
      string,
      { default?: unknown; properties?: Record<string, { default?: unknown; type?: unknown }> }
    >;
  };

  it('is strict and shows input-side types and defaults', () => {
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.mode?.default).toBe('dry-run');
    expect(schema.properties.migration?.properties?.bandwidth).toMatchObject({
      default: '1000MiB/s',
      type: ['number', 'string'],
    });
    expect(Object.keys(schema.properties)).toEqual(
      expect.arrayContaining([
        'standard_instance',
        'thresholds',
        'overcommit',
        'safety',
        'migration',
        'hosts',
      ]),
    );
  });
});
