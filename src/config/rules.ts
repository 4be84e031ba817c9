import { BUILTIN_DEFAULTS } from './defaults.js';
import type { Config } from './schema.js';

/**
 * Cross-field rules over a parsed config. Field-level bounds (standard instance > 0,
 * min_online_hosts >= 1, max_per_host >= 1, ...) are in the schema; these need several fields.
 */

export type ConfigPath = readonly (string | number)[];

export interface RuleIssue {
  /** Where the issue is, for the YAML line: `['thresholds', 'minimal']`, `['hosts', 2, 'id']`. */
  readonly path: ConfigPath;
  readonly message: string;
}

export interface RuleResult {
  readonly errors: RuleIssue[];
  readonly warnings: RuleIssue[];
}

type Rule = (config: Config, out: RuleResult) => void;

/**
 * minimal <= target. As in resolvePolicy, a threshold left to its default follows the one that is
 * set when they cross; only two written values that cross are an error.
 */
const thresholdOrder: Rule = (config, out) => {
  const mode = config.thresholds.mode ?? BUILTIN_DEFAULTS.mode;
  const defaults = BUILTIN_DEFAULTS.thresholds[mode];
  const { minimal, target } = config.thresholds;
  const path = minimal !== undefined ? ['thresholds', 'minimal'] : ['thresholds', 'target'];
  const deadBand = 'hosts may be woken and powered off on alternate runs (set target above minimal)';
  if (minimal !== undefined && target !== undefined) {
    if (minimal > target)
      out.errors.push({
        path,
        message: `${minimal} is above thresholds.target ${target}: expected minimal <= target`,
      });
    else if (minimal === target)
      out.warnings.push({ path, message: `no dead band: minimal = target = ${minimal}; ${deadBand}` });
    return;
  }
  const m = minimal ?? defaults.minimal;
  const t = target ?? defaults.target;
  const which = minimal !== undefined ? 'target' : 'minimal';
  if (m > t)
    out.warnings.push({
      path,
      message:
        `no dead band: ${minimal ?? target} crosses the default ${which} for ${mode} (${defaults[which]}), ` +
        `so ${which} is ${minimal ?? target} too; ${deadBand}`,
    });
  else if (m === t)
    out.warnings.push({
      path,
      message: `no dead band: minimal = target = ${m} (${minimal === undefined && target === undefined ? 'defaults' : 'with the default'} for ${mode}); ${deadBand}`,
    });
};

const migrationLimits: Rule = (config, out) => {
  const m = config.migration;
  if (m.max_per_host > m.max_parallel)
    out.warnings.push({
      path: ['migration', 'max_per_host'],
      message: `max_per_host ${m.max_per_host} is above max_parallel ${m.max_parallel}: at most ${m.max_parallel} run at once`,
    });
  if (
    m.plan_time_budget !== undefined &&
    m.max_migration_time !== undefined &&
    m.plan_time_budget < m.max_migration_time
  )
    out.warnings.push({
      path: ['migration', 'plan_time_budget'],
      message: `plan_time_budget (${m.plan_time_budget / 1000} s) is shorter than max_migration_time (${m.max_migration_time / 1000} s)`,
    });
};

const overcommitSanity: Rule = (config, out) => {
  const mem = config.overcommit.memory;
  if (mem !== undefined && mem > 1)
    out.warnings.push({
      path: ['overcommit', 'memory'],
      message: `memory overcommit ${mem} relies on ballooning or swap: guests may be OOM-killed and live migrations may not converge`,
    });
};

const powerLimits: Rule = (config, out) => {
  if (config.safety.max_power_off_per_run === 0)
    out.warnings.push({
      path: ['safety', 'max_power_off_per_run'],
      message: 'max_power_off_per_run is 0: no host will ever be powered off',
    });
  if (config.safety.max_power_on_per_run === 0)
    out.warnings.push({
      path: ['safety', 'max_power_on_per_run'],
      message: 'max_power_on_per_run is 0: standby hosts will never be woken, even when capacity runs out',
    });
};

const hostEntries: Rule = (config, out) => {
  const firstIndex = new Map<string, number>();
  config.hosts.forEach((h, i) => {
    const seen = firstIndex.get(h.id);
    if (seen !== undefined)
      out.errors.push({
        path: ['hosts', i, 'id'],
        message: `duplicate host id "${h.id}" (also hosts[${seen}])`,
      });
    else firstIndex.set(h.id, i);
    if ((h.idle_w === undefined) !== (h.max_w === undefined))
      out.errors.push({
        path: ['hosts', i, h.idle_w === undefined ? 'max_w' : 'idle_w'],
        message: `host "${h.id}": idle_w and max_w go together (linear power model)`,
      });
    else if (h.idle_w !== undefined && h.max_w !== undefined && h.idle_w > h.max_w)
      out.errors.push({
        path: ['hosts', i, 'idle_w'],
        message: `host "${h.id}": idle_w ${h.idle_w} W is above max_w ${h.max_w} W`,
      });
    if (h.exclude && h.drain)
      out.errors.push({
        path: ['hosts', i, 'drain'],
        message: `host "${h.id}" is both excluded (never touched) and drained (evacuated): choose one`,
      });
  });
};

const hostCounts: Rule = (config, out) => {
  if (config.cluster_file !== undefined) return;
  const n = config.hosts.length;
  if (n === 0) {
    out.warnings.push({
      path: ['hosts'],
      message: 'neither hosts nor cluster_file is set: plans need --cluster FILE',
    });
    return;
  }
  const minOnline = config.safety.min_online_hosts ?? BUILTIN_DEFAULTS.safety.minOnlineHosts;
  if (minOnline >= n)
    out.warnings.push({
      path: ['safety', 'min_online_hosts'],
      message: `min_online_hosts ${minOnline} with ${n} host(s) listed: no host can ever be powered off`,
    });
};

const modeAndSource: Rule = (config, out) => {
  if (config.mode === 'execute' && config.cluster_file !== undefined)
    out.warnings.push({
      path: ['mode'],
      message: 'mode is execute but cluster_file is set: a cluster file is only planned, nothing is executed',
    });
};

const RULES: readonly Rule[] = [
  thresholdOrder,
  migrationLimits,
  overcommitSanity,
  powerLimits,
  hostEntries,
  hostCounts,
  modeAndSource,
];

/** Every cross-field rule, errors and warnings apart. */
export function checkRules(config: Config): RuleResult {
  const out: RuleResult = { errors: [], warnings: [] };
  for (const rule of RULES) rule(config, out);
  return out;
}

/** `thresholds.minimal`, `hosts[2].id`: how paths appear in messages. */
export function formatPath(path: ConfigPath): string {
  let text = '';
  for (const segment of path)
    text += typeof segment === 'number' ? `[${segment}]` : text === '' ? segment : `.${segment}`;
  return text;
}
