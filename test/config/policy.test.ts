import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BUILTIN_DEFAULTS, GANETI_DEFAULT_HINTS } from '../../src/config/defaults.js';
import { applyHostOverrides, resolvePolicy } from '../../src/config/policy.js';
import { type Config, configSchema } from '../../src/config/schema.js';
import { ConfigError } from '../../src/errors.js';
import type { SourceHints } from '../../src/inventory/types.js';
import { cluster, host } from '../builders.js';

const config = (input: unknown): Config => configSchema.parse(input);

/** Ganeti-like hints: the file's ipolicy std spec and vcpu_ratio, plus Ganeti's decision defaults. */
const ganeti: SourceHints = {
  standard: { cpu: 1, memMiB: 128, diskGiB: 1 },
  overcommit: { cpu: 4 },
  ...GANETI_DEFAULT_HINTS,
};

function configErrorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('resolvePolicy: defaults and sources', () => {
  it('without config or hints, the built-in defaults apply', () => {
    expect(resolvePolicy(undefined, {}, {})).toEqual({
      standard: { cpu: 2, memMiB: 4096, diskGiB: 0 },
      overcommit: { cpu: 4, mem: 1, disk: 1 },
      thresholds: { minimal: 2, target: 4, mode: 'average' },
      safety: {
        minOnlineHosts: 2,
        failoverReserveHosts: 1,
        maxPowerOffPerRun: 4,
        maxPowerOnPerRun: Number.POSITIVE_INFINITY,
      },
      migration: { maxParallel: 4, maxPerHost: 2, bandwidthMiBps: 1000, maxDowntimeMs: 300 },
      antiAffinity: true,
    });
  });

  it('a Ganeti file planned without a config uses its instance policy and Ganeti defaults', () => {
    const p = resolvePolicy(undefined, ganeti, {});
    expect(p.standard).toEqual({ cpu: 1, memMiB: 128, diskGiB: 1 });
    expect(p.overcommit).toEqual({ cpu: 4, mem: 1, disk: 1 });
    expect(p.thresholds).toEqual({ minimal: 2, target: 2, mode: 'per_host' });
    expect(p.safety).toEqual(GANETI_DEFAULT_HINTS.safety);
  });

  it('a scenario file fills overcommit and anti-affinity when the config leaves them out', () => {
    const hints: SourceHints = { overcommit: { cpu: 1, mem: 1, disk: 1 }, antiAffinity: false };
    const p = resolvePolicy(config({ overcommit: { memory: 1.2 } }), hints, {});
    expect(p.overcommit).toEqual({ cpu: 1, mem: 1.2, disk: 1 });
    expect(p.antiAffinity).toBe(false);
    expect(resolvePolicy(config({ anti_affinity: true }), hints, {}).antiAffinity).toBe(true);
  });

  it('the config standard instance replaces the file one whole', () => {
    const p = resolvePolicy(config({ standard_instance: { vcpus: 4, memory: '8GiB' } }), ganeti, {});
    expect(p.standard).toEqual({ cpu: 4, memMiB: 8192, diskGiB: 0 });
  });

  it('hint thresholds belong to their mode: a config in average mode ignores Ganeti per_host numbers', () => {
    const p = resolvePolicy(config({ thresholds: { mode: 'average' } }), ganeti, {});
    expect(p.thresholds).toEqual({ minimal: 2, target: 4, mode: 'average' });
  });

  it('converts migration durations to the policy units and usage only when enabled', () => {
    const p = resolvePolicy(
      config({ migration: { max_migration_time: '10m', plan_time_budget: '1h' }, usage: { cpu_cap: '70%' } }),
      {},
      {},
    );
    expect(p.migration.maxMigrationSeconds).toBe(600);
    expect(p.migration.planBudgetSeconds).toBe(3600);
    expect(p.usage).toEqual({ cpuCap: 0.7 });
    expect(resolvePolicy(config({ usage: { enabled: false } }), {}, {}).usage).toBeUndefined();
  });
});

describe('resolvePolicy: overrides (plan flags)', () => {
  const cfg = config({ thresholds: { minimal: 3, target: 6 }, safety: { failover_reserve_hosts: 2 } });

  it('flags beat the config', () => {
    const p = resolvePolicy(cfg, {}, { minimal: 1, target: 8, failoverReserveHosts: 0 });
    expect(p.thresholds).toEqual({ minimal: 1, target: 8, mode: 'average' });
    expect(p.safety.failoverReserveHosts).toBe(0);
  });

  it('a config without a mode takes the Ganeti file mode, with the config numbers', () => {
    expect(resolvePolicy(cfg, ganeti, {}).thresholds).toEqual({ minimal: 3, target: 6, mode: 'per_host' });
  });

  it('--threshold-mode per_host takes the per_host defaults', () => {
    expect(resolvePolicy(undefined, {}, { mode: 'per_host' }).thresholds).toEqual({
      minimal: 2,
      target: 2,
      mode: 'per_host',
    });
  });

  it('a flag crossing a default or file threshold moves it along (hsqueeze --target-resources=1)', () => {
    expect(resolvePolicy(undefined, ganeti, { target: 1 }).thresholds).toEqual({
      minimal: 1,
      target: 1,
      mode: 'per_host',
    });
    expect(resolvePolicy(undefined, {}, { minimal: 9 }).thresholds).toEqual({
      minimal: 9,
      target: 9,
      mode: 'average',
    });
    expect(resolvePolicy(config({ thresholds: { target: 3 } }), {}, {}).thresholds).toEqual({
      minimal: 2,
      target: 3,
      mode: 'average',
    });
  });

  it('two explicit thresholds that cross are an error naming both sources', () => {
    expect(configErrorOf(() => resolvePolicy(cfg, {}, { minimal: 10 }))).toBe(
      '--minimal 10 is above thresholds.target (config) 6: expected minimal <= target',
    );
    expect(configErrorOf(() => resolvePolicy(cfg, {}, { target: 1 }))).toBe(
      'thresholds.minimal (config) 3 is above --target 1: expected minimal <= target',
    );
    expect(configErrorOf(() => resolvePolicy(undefined, ganeti, { target: 1.5, minimal: 1.6 }))).toBe(
      '--minimal 1.6 is above --target 1.5: expected minimal <= target',
    );
  });

  it.each([
    [{ minimal: -1 }, '--minimal: expected a number >= 0, got -1'],
    [{ target: Number.NaN }, '--target: expected a number >= 0, got NaN'],
    [{ mode: 'both' as never }, '--threshold-mode: expected average or per_host, got "both"'],
    [{ failoverReserveHosts: 1.5 }, '--failover-reserve: expected a whole number >= 0, got 1.5'],
    [{ failoverReserveHosts: -1 }, '--failover-reserve: expected a whole number >= 0, got -1'],
  ])('refuses %j naming the flag', (overrides, message) => {
    expect(configErrorOf(() => resolvePolicy(undefined, {}, overrides))).toBe(message);
  });

  it('precedence holds for every combination of sources (override > config > file > default)', () => {
    const plusOne = (n: number | undefined) => (n === undefined ? undefined : n + 1);
    const layer = fc.option(fc.integer({ min: 0, max: 5 }), { nil: undefined });
    fc.assert(
      fc.property(layer, layer, layer, (flag, fromConfig, fromFile) => {
        const p = resolvePolicy(
          config({
            safety: { failover_reserve_hosts: fromConfig },
            overcommit: { cpu: plusOne(fromConfig) },
          }),
          { safety: { failoverReserveHosts: fromFile }, overcommit: { cpu: plusOne(fromFile) } },
          { failoverReserveHosts: flag },
        );
        expect(p.safety.failoverReserveHosts).toBe(
          flag ?? fromConfig ?? fromFile ?? BUILTIN_DEFAULTS.safety.failoverReserveHosts,
        );
        expect(p.overcommit.cpu).toBe(
          plusOne(fromConfig) ?? plusOne(fromFile) ?? BUILTIN_DEFAULTS.overcommit.cpu,
        );
      }),
    );
  });
});

describe('applyHostOverrides', () => {
  const base = cluster(
    [host('a', 8, 32), host('b', 8, 32, { idleWatts: 50, maxWatts: 200, drain: true }), host('c', 8, 32)],
    [],
  );

  it('lays exclude, drain and power figures over the matching hosts only', () => {
    const { cluster: patched, warnings } = applyHostOverrides(base, [
      { id: 'a', exclude: true, idle_w: 90, max_w: 300 },
      { id: 'b', drain: false },
    ]);
    expect(warnings).toEqual([]);
    expect(patched.hosts[0]).toMatchObject({
      id: 'a',
      exclude: true,
      drain: false,
      idleWatts: 90,
      maxWatts: 300,
    });
    expect(patched.hosts[1]).toMatchObject({ id: 'b', drain: false, idleWatts: 50, maxWatts: 200 });
    expect(patched.hosts[2]).toBe(base.hosts[2]);
    expect(base.hosts[1]!.drain).toBe(true);
  });

  it('warns about config hosts the cluster does not have', () => {
    const { warnings } = applyHostOverrides(base, [{ id: 'zz', exclude: true }]);
    expect(warnings).toEqual([
      `hosts: "zz" is not in the cluster (${base.source}); its settings are ignored`,
    ]);
  });

  it('returns the cluster unchanged without config hosts', () => {
    expect(applyHostOverrides(base, []).cluster).toBe(base);
  });
});
