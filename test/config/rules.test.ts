import { describe, expect, it } from 'vitest';
import { checkRules, formatPath } from '../../src/config/rules.js';
import { configSchema } from '../../src/config/schema.js';
import { errorOf, warningsOf } from './helpers.js';

describe('cross-field rules: thresholds', () => {
  it('minimal above target is an error at thresholds.minimal', () => {
    expect(errorOf('thresholds:\n  minimal: 5\n  target: 3\n')).toBe(
      'c.yaml:2: thresholds.minimal: 5 is above thresholds.target 3: expected minimal <= target',
    );
  });

  it('a threshold left to its default follows the written one when they cross (warning)', () => {
    expect(warningsOf('cluster_file: x\nthresholds:\n  minimal: 5\n')).toEqual([
      'c.yaml:3: thresholds.minimal: no dead band: 5 crosses the default target for average (4), so target is 5 too; ' +
        'hosts may be woken and powered off on alternate runs (set target above minimal)',
    ]);
    expect(warningsOf('cluster_file: x\nthresholds:\n  mode: per_host\n  target: 1\n')[0]).toBe(
      'c.yaml:4: thresholds.target: no dead band: 1 crosses the default minimal for per_host (2), so minimal is 1 too; ' +
        'hosts may be woken and powered off on alternate runs (set target above minimal)',
    );
  });

  it('minimal equal to target is a warning: no dead band', () => {
    expect(warningsOf('cluster_file: c.yaml\nthresholds:\n  minimal: 3\n  target: 3\n')).toEqual([
      'c.yaml:3: thresholds.minimal: no dead band: minimal = target = 3; ' +
        'hosts may be woken and powered off on alternate runs (set target above minimal)',
    ]);
    expect(warningsOf('cluster_file: c.yaml\nthresholds:\n  minimal: 4\n')[0]).toContain(
      'no dead band: minimal = target = 4 (with the default for average)',
    );
  });

  it('per_host defaults (hsqueeze 2 / 2) warn about the missing dead band', () => {
    expect(warningsOf('cluster_file: c.yaml\nthresholds: {mode: per_host}\n')).toEqual([
      'c.yaml:2: thresholds.target: no dead band: minimal = target = 2 (defaults for per_host); ' +
        'hosts may be woken and powered off on alternate runs (set target above minimal)',
    ]);
  });

  it('minimal below target gives no warning', () => {
    expect(warningsOf('cluster_file: c.yaml\nthresholds: {minimal: 1, target: 3}\n')).toEqual([]);
  });
});

describe('cross-field rules: hosts', () => {
  it('duplicate host ids are an error at the second one', () => {
    expect(errorOf('hosts:\n  - id: a\n  - id: b\n  - id: a\n')).toBe(
      'c.yaml:4: hosts[2].id: duplicate host id "a" (also hosts[0])',
    );
  });

  it('idle_w above max_w is an error', () => {
    expect(errorOf('hosts:\n  - id: a\n    idle_w: 300\n    max_w: 200\n')).toBe(
      'c.yaml:3: hosts[0].idle_w: host "a": idle_w 300 W is above max_w 200 W',
    );
  });

  it('idle_w without max_w (and the reverse) is an error', () => {
    expect(errorOf('hosts:\n  - id: a\n    idle_w: 100\n')).toBe(
      'c.yaml:3: hosts[0].idle_w: host "a": idle_w and max_w go together (linear power model)',
    );
    expect(errorOf('hosts:\n  - id: a\n    max_w: 100\n')).toBe(
      'c.yaml:3: hosts[0].max_w: host "a": idle_w and max_w go together (linear power model)',
    );
  });

  it('a host both excluded and drained is an error', () => {
    expect(errorOf('hosts:\n  - id: a\n    exclude: true\n    drain: true\n')).toBe(
      'c.yaml:4: hosts[0].drain: host "a" is both excluded (never touched) and drained (evacuated): choose one',
    );
  });

  it('idle_w equal to max_w is fine', () => {
    expect(warningsOf('hosts:\n  - {id: a, idle_w: 100, max_w: 100}\n  - {id: b}\n  - {id: c}\n')).toEqual(
      [],
    );
  });

  it('without hosts or cluster_file, plans need --cluster', () => {
    expect(warningsOf('mode: dry-run\n')).toEqual([
      'c.yaml: hosts: neither hosts nor cluster_file is set: plans need --cluster FILE',
    ]);
  });

  it('min_online_hosts at or above the number of hosts listed leaves nothing to power off', () => {
    expect(warningsOf('hosts:\n  - id: a\n  - id: b\n')).toEqual([
      'c.yaml: safety.min_online_hosts: min_online_hosts 2 with 2 host(s) listed: no host can ever be powered off',
    ]);
  });
});

describe('cross-field rules: migration, overcommit, power, mode', () => {
  it('max_per_host above max_parallel is a warning', () => {
    expect(warningsOf('cluster_file: x\nmigration: {max_parallel: 2, max_per_host: 3}\n')).toEqual([
      'c.yaml:2: migration.max_per_host: max_per_host 3 is above max_parallel 2: at most 2 run at once',
    ]);
  });

  it('a plan budget shorter than one migration is a warning', () => {
    expect(
      warningsOf('cluster_file: x\nmigration: {max_migration_time: 10m, plan_time_budget: 5m}\n'),
    ).toEqual([
      'c.yaml:2: migration.plan_time_budget: plan_time_budget (300 s) is shorter than max_migration_time (600 s)',
    ]);
  });

  it('memory overcommit above 1 is a warning', () => {
    expect(warningsOf('cluster_file: x\novercommit: {memory: 1.5}\n')[0]).toMatch(
      /^c\.yaml:2: overcommit\.memory: memory overcommit 1\.5 relies on ballooning/,
    );
  });

  it('zero power limits are warnings', () => {
    expect(
      warningsOf('cluster_file: x\nsafety: {max_power_off_per_run: 0, max_power_on_per_run: 0}\n'),
    ).toEqual([
      'c.yaml:2: safety.max_power_off_per_run: max_power_off_per_run is 0: no host will ever be powered off',
      'c.yaml:2: safety.max_power_on_per_run: max_power_on_per_run is 0: standby hosts will never be woken, even when capacity runs out',
    ]);
  });

  it('execute mode with a cluster file is a warning', () => {
    expect(warningsOf('mode: execute\ncluster_file: x\n')).toEqual([
      'c.yaml:1: mode: mode is execute but cluster_file is set: a cluster file is only planned, nothing is executed',
    ]);
  });
});

describe('checkRules', () => {
  it('keeps errors and warnings apart', () => {
    const config = configSchema.parse({
      thresholds: { minimal: 9, target: 1 },
      overcommit: { memory: 2 },
      cluster_file: 'x',
    });
    const result = checkRules(config);
    expect(result.errors.map((e) => formatPath(e.path))).toEqual(['thresholds.minimal']);
    expect(result.warnings.map((w) => formatPath(w.path))).toEqual(['overcommit.memory']);
  });

  it('formats paths with indexes', () => {
    expect(formatPath(['hosts', 3, 'power', 'user'])).toBe('hosts[3].power.user');
    expect(formatPath([])).toBe('');
  });
});
