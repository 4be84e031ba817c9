import { z } from 'zod';
import { BUILTIN_DEFAULTS, CONFIG_DEFAULTS } from './defaults.js';
import { bandwidthMiBps, count, durationMs, percent, ratio, sizeGiB, sizeMiB } from './fields.js';
import { hostPowerSchema } from '../power/registry.js';
import { powerDefaultsSchema } from '../power/schema.js';
import { stateSchema } from '../state/schema.js';
import { loggingSchema, reportSchema, scheduleSchema } from '../report/config.js';

/**
 * The YAML configuration (snake_case keys). Every object is strict, so a misspelt key is an error.
 * Values with units are normalised on parse: memory to MiB, disk to GiB, durations to ms, bandwidth
 * to MiB/s, percentages to fractions, `unlimited` to Infinity.
 *
 * Fields a cluster file may also set (standard_instance, overcommit, thresholds, safety,
 * anti_affinity) stay undefined when absent: resolvePolicy fills them with the precedence
 * `plan` flags > config > cluster file > built-in default (BUILTIN_DEFAULTS).
 */

const B = BUILTIN_DEFAULTS;
const fmtLimit = (n: number): string => (Number.isFinite(n) ? String(n) : 'unlimited');

export const standardInstanceSchema = z
  .strictObject({
    vcpus: z.number().positive().meta({ description: 'vCPUs of the standard instance (> 0).' }),
    memory: sizeMiB({ description: 'Memory, e.g. 4GiB (plain number: MiB; > 0).', positive: true }),
    disk: sizeGiB({ description: 'Disk, e.g. 40GiB (plain number: GiB); 0 = disk not counted. Default 0.' })
      .optional()
      .transform((v) => v ?? 0),
  })
  .meta({
    description:
      'The VM shape all thresholds are counted in. ' +
      `Default: the cluster file's, else ${B.standard.cpu} vCPU, ${B.standard.memMiB / 1024}GiB, disk not counted.`,
  });

export const thresholdsSchema = z
  .strictObject({
    minimal: z
      .number()
      .min(0)
      .optional()
      .meta({ description: 'Below this, expand (wake standby hosts). Default: average 2, per_host 2.' }),
    target: z.number().min(0).optional().meta({
      description: 'Above this, squeeze, never below it afterwards. Default: average 4, per_host 2.',
    }),
    mode: z
      .enum(['average', 'per_host'])
      .optional()
      .meta({
        description:
          'average: mean free standard instances per online host; per_host: every online host must take one ' +
          "(factor x standard) instance (Ganeti hsqueeze). Default: the cluster file's (per_host for Ganeti), else average.",
      }),
  })
  .prefault({});

export const overcommitSchema = z
  .strictObject({
    cpu: ratio(
      `vCPUs per hardware thread. Default: the cluster file's, else ${B.overcommit.cpu}.`,
    ).optional(),
    memory: ratio(
      `Memory overcommit ratio. Default: the cluster file's, else ${B.overcommit.mem}.`,
    ).optional(),
    disk: ratio(`Disk overcommit ratio. Default: the cluster file's, else ${B.overcommit.disk}.`).optional(),
  })
  .prefault({});

export const safetySchema = z
  .strictObject({
    min_online_hosts: z
      .number()
      .int()
      .min(1)
      .optional()
      .meta({ description: `Never fewer hosts on than this (>= 1). Default ${B.safety.minOnlineHosts}.` }),
    failover_reserve_hosts: z
      .number()
      .int()
      .min(0)
      .optional()
      .meta({
        description:
          'After a squeeze the cluster must still re-host the VMs of its this-many largest hosts. ' +
          `Default ${B.safety.failoverReserveHosts} (0 for Ganeti files).`,
      }),
    max_power_off_per_run: count({
      description: `Hosts powered off per run at most (or "unlimited"). Default ${fmtLimit(B.safety.maxPowerOffPerRun)}.`,
    }).optional(),
    max_power_on_per_run: count({
      description: `Hosts woken per run at most (or "unlimited"). Default ${fmtLimit(B.safety.maxPowerOnPerRun)}.`,
    }).optional(),
  })
  .prefault({});

const M = CONFIG_DEFAULTS.migration;

export const migrationSchema = z
  .strictObject({
    max_parallel: z
      .number()
      .int()
      .min(1)
      .default(M.maxParallel)
      .meta({ description: `Migrations at once in a wave, cluster-wide. Default ${M.maxParallel}.` }),
    max_per_host: z
      .number()
      .int()
      .min(1)
      .default(M.maxPerHost)
      .meta({ description: `Migrations touching one host (in + out) in a wave. Default ${M.maxPerHost}.` }),
    bandwidth: bandwidthMiBps({
      description: `Bandwidth per migration, e.g. 1000MiB/s or 10Gbit/s (plain number: MiB/s). Default ${M.bandwidth}.`,
    }).prefault(M.bandwidth),
    max_downtime: durationMs('ms', {
      description: `Allowed stop-and-copy downtime, e.g. 300ms (plain number: ms). Default ${M.maxDowntime}.`,
      positive: true,
    }).prefault(M.maxDowntime),
    max_migration_time: durationMs('s', {
      description:
        'Leave out VMs whose migration would take longer, e.g. 10m (plain number: s). Default: no limit.',
      positive: true,
    }).optional(),
    plan_time_budget: durationMs('s', {
      description: 'Longest estimated duration of all waves, e.g. 1h (plain number: s). Default: no limit.',
      positive: true,
    }).optional(),
  })
  .prefault({});

const U = CONFIG_DEFAULTS.usage;

export const usageSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .meta({ description: 'Pack by observed load. Default true when the section is present.' }),
    cpu_cap: percent({
      description: `Observed CPU load a host may reach, of its hardware threads. Default ${U.cpuCap}.`,
      positive: true,
    }).prefault(U.cpuCap),
    percentile: z
      .number()
      .gt(0)
      .max(100)
      .default(U.percentile)
      .meta({
        description: `Percentile of each VM's load over the look-back window. Default ${U.percentile}.`,
      }),
    lookback: durationMs('s', {
      description: `Usage history considered, e.g. 24h (plain number: s). Default ${U.lookback}.`,
      positive: true,
    }).prefault(U.lookback),
  })
  .meta({ description: 'Usage-aware packing (optional): omit to pack by allocation only.' });

/** A libvirt URI such as `qemu+ssh://root@kvm01/system`; no password in it (URIs end up in logs). */
const libvirtUri = z
  .string()
  .regex(/^[a-z][a-z0-9+.-]*:\/\/[^\s]*$/i, {
    error: 'expected a libvirt URI such as qemu+ssh://root@kvm01/system',
  })
  .refine((uri) => !/^[^:]+:\/\/[^/@]*:[^/@]*@/.test(uri), {
    error: 'a libvirt URI must not hold a password (use an SSH key or a libvirt auth file)',
  })
  .meta({ description: 'libvirt URI of the host, e.g. qemu+ssh://root@kvm01/system.' });

/**
 * Per-host fields. Exported as a shape so modules can add their own per-host section
 * (src/power adds `power:` here: one line in this object).
 */
export const hostShape = {
  id: z
    .string()
    .regex(/^\S+$/, { error: 'expected a host id without spaces' })
    .meta({ description: 'Host id, as in the cluster file or libvirt hostname.' }),
  uri: libvirtUri.optional(),
  peer_uri: libvirtUri.optional().meta({
    description:
      "URI the other hosts' libvirt daemons use to reach this one as a migration destination (peer-to-peer), when it differs from uri. Default: uri.",
  }),
  migrate_uri: z
    .string()
    .regex(/^[a-z]+:\/\/\S+$/i, { error: 'expected a migration stream URI such as tcp://10.0.0.2' })
    .optional()
    .meta({
      description:
        'QEMU migration stream target on this host (e.g. tcp://10.0.0.2 for a dedicated network). Default: libvirt chooses.',
    }),
  idle_w: z.number().min(0).optional().meta({ description: 'Power draw idle, watts (with max_w).' }),
  max_w: z.number().min(0).optional().meta({ description: 'Power draw at 100 % CPU, watts (with idle_w).' }),
  exclude: z
    .boolean()
    .optional()
    .meta({ description: 'Never powered down and never given VMs. Default: as the source says (false).' }),
  drain: z
    .boolean()
    .optional()
    .meta({ description: 'Must be evacuated; receives nothing. Default: as the source says (false).' }),
  // Extension point: per-host `power:` section (src/power).
  power: hostPowerSchema.optional(),
};

export const hostSchema = z.strictObject(hostShape);

/**
 * Top-level sections. Extension point: other modules add their sections here (`report`, `schedule`,
 * `state`, `logging`), each a strict object with defaults built from ./fields.ts.
 */
export const configShape = {
  mode: z
    .enum(['dry-run', 'execute'])
    .default('dry-run')
    .meta({ description: 'dry-run (default): plan and report only; execute: act on the plan.' }),
  cluster_file: z
    .string()
    .min(1)
    .optional()
    .meta({
      description:
        'Plan against this cluster file (squeeze-scenario/v1 JSON or Ganeti text) instead of live libvirt; ' +
        "relative to the config file's directory.",
    }),
  standard_instance: standardInstanceSchema.optional(),
  thresholds: thresholdsSchema,
  overcommit: overcommitSchema,
  safety: safetySchema,
  migration: migrationSchema,
  anti_affinity: z
    .boolean()
    .optional()
    .meta({ description: "Honour VM anti-affinity groups. Default: the cluster file's, else true." }),
  usage: usageSchema.optional(),
  state: stateSchema.prefault({}),
  power: powerDefaultsSchema.prefault({}),
  hosts: z
    .array(hostSchema)
    .default([])
    .meta({ description: 'Hosts: ids, libvirt URIs and per-host settings.' }),
  schedule: scheduleSchema,
  report: reportSchema,
  logging: loggingSchema,
};

export const configSchema = z.strictObject(configShape).meta({
  title: 'virt-squeeze configuration',
  description: 'Configuration of virt-squeeze, the power-aware squeeze scheduler for libvirt/KVM clusters.',
});

/** The configuration after parsing: units normalised, config-only defaults filled. */
export type Config = z.output<typeof configSchema>;
/** One entry of `hosts:`. */
export type HostConfig = z.output<typeof hostSchema>;
/** What an operator writes (before normalisation). */
export type ConfigInput = z.input<typeof configSchema>;
