import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { HostState } from '../model/cluster.js';
import type { Plan } from '../planner/plan.js';
import { kwhPerDay } from './json.js';

/**
 * Prometheus textfile (node_exporter's textfile collector): one file rewritten atomically after each
 * run. Gauges describe the last run; `_total` counters accumulate across runs by reading the previous
 * file back (a lost or corrupt file restarts them at 0, which Prometheus treats as a counter reset).
 */

/** One action the run carried out (the executor's ActionOutcome, structurally). */
export interface ActionDone {
  readonly kind: 'power_on' | 'migrate' | 'power_off';
  readonly ok: boolean;
}

/** What the metrics file says about one run. */
export interface MetricsInput {
  /** When the run finished. */
  readonly at: Date;
  readonly durationMs: number;
  readonly mode: 'dry-run' | 'execute';
  /** The process exit code of the run (0 ok, 2 bad input, 3 actions failed, 4 locked, 1 unexpected). */
  readonly exitCode: number;
  /** Absent when the run failed before it could plan. */
  readonly plan?: Plan;
  /** Actions carried out (execute mode); absent or empty in a dry run. */
  readonly actions?: readonly ActionDone[];
  /** Hosts tagged wake-failed (quarantined) after the run. */
  readonly quarantinedHosts?: number;
}

type Labels = Readonly<Record<string, string>>;

interface Family {
  readonly name: string;
  readonly type: 'gauge' | 'counter';
  readonly help: string;
  readonly samples: ReadonlyArray<readonly [Labels, number]>;
}

/** Counter values by series key (`name{labels}`), as read back from a previous file. */
export type Counters = ReadonlyMap<string, number>;

const PREFIX = 'virt_squeeze_';
const RESULT_BY_EXIT: Record<number, string> = {
  0: 'ok',
  1: 'error',
  2: 'bad_input',
  3: 'actions_failed',
  4: 'locked',
};
const HOST_STATES: readonly HostState[] = ['on', 'standby', 'off', 'unknown'];
const OUTCOMES = ['planned', 'done', 'failed', 'not_started'] as const;

/** The run's result as a label value. */
export function resultLabel(exitCode: number): string {
  return RESULT_BY_EXIT[exitCode] ?? 'error';
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `name{a="x",b="y"}`: also the key of a series. */
function seriesKey(name: string, labels: Labels): string {
  const parts = Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k] ?? '')}"`);
  return parts.length === 0 ? name : `${name}{${parts.join(',')}}`;
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}

/** Reads the `_total` counters of a previous file; unparsable lines are ignored. */
export function parseCounters(text: string): Counters {
  const counters = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(virt_squeeze_[a-z0-9_]*_total(?:\{[^}]*\})?) (\S+)$/.exec(line);
    if (!m?.[1] || !m[2]) continue;
    const value = Number(m[2]);
    if (Number.isFinite(value) && value >= 0) counters.set(m[1], value);
  }
  return counters;
}

/** The host count by state the cluster is in after the run: the plan's result only if it was carried out in full. */
function hostStates(input: MetricsInput, plan: Plan): Map<HostState, number> {
  const applied = input.mode === 'execute' && input.exitCode === 0;
  const counts = new Map<HostState, number>(HOST_STATES.map((s) => [s, 0]));
  for (const h of plan.hosts) {
    const state = applied ? h.stateAfter : h.stateBefore;
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  return counts;
}

/** Planned / done / failed / not started, per action kind. */
function actionCounts(
  input: MetricsInput,
): Map<ActionDone['kind'], Record<(typeof OUTCOMES)[number], number>> {
  const plan = input.plan;
  const planned: Record<ActionDone['kind'], number> = {
    power_on: plan?.powerOn.length ?? 0,
    migrate: plan?.summary.migrations ?? 0,
    power_off: plan?.powerOff.length ?? 0,
  };
  const out = new Map<ActionDone['kind'], Record<(typeof OUTCOMES)[number], number>>();
  for (const kind of ['power_on', 'migrate', 'power_off'] as const) {
    const mine = (input.actions ?? []).filter((a) => a.kind === kind);
    const done = mine.filter((a) => a.ok).length;
    const failed = mine.length - done;
    const notStarted = input.mode === 'execute' ? Math.max(0, planned[kind] - mine.length) : 0;
    out.set(kind, { planned: planned[kind], done, failed, not_started: notStarted });
  }
  return out;
}

function planFamilies(input: MetricsInput, plan: Plan): Family[] {
  const fitSum = (side: 'fitBefore' | 'fitAfter', state: 'stateBefore' | 'stateAfter'): number =>
    plan.hosts.reduce((sum, h) => (h[state] === 'on' ? sum + h[side] : sum), 0);
  const m = plan.metric;
  return [
    {
      name: `${PREFIX}free_standard_instances`,
      type: 'gauge',
      help: 'Standard instances the online hosts can still accept, summed, before and after the last plan.',
      samples: [
        [{ when: 'before' }, fitSum('fitBefore', 'stateBefore')],
        [{ when: 'after' }, fitSum('fitAfter', 'stateAfter')],
      ],
    },
    {
      name: `${PREFIX}capacity_metric`,
      type: 'gauge',
      help: 'The threshold metric (mode average: mean free standard instances per online host) before and after the last plan.',
      samples: [
        [{ mode: m.mode, when: 'before' }, m.before],
        [{ mode: m.mode, when: 'after' }, m.after],
      ],
    },
    {
      name: `${PREFIX}capacity_threshold`,
      type: 'gauge',
      help: 'Configured thresholds: below minimal the cluster expands, above target it squeezes.',
      samples: [
        [{ threshold: 'minimal' }, m.minimal],
        [{ threshold: 'target' }, m.target],
      ],
    },
    {
      name: `${PREFIX}hosts`,
      type: 'gauge',
      help: 'Hosts by state after the last run (the planned states only when an executed plan completed).',
      samples: [...hostStates(input, plan)].map(([state, n]) => [{ state }, n] as const),
    },
    {
      name: `${PREFIX}estimated_power_saved_watts`,
      type: 'gauge',
      help: 'Power the last plan saves by its estimate (negative: a wake adds power), watts.',
      samples: [[{}, plan.summary.estPowerSavedWatts]],
    },
    {
      name: `${PREFIX}estimated_energy_saved_kwh_per_day`,
      type: 'gauge',
      help: 'Energy the last plan saves per day if the saving holds for 24 hours, kWh.',
      samples: [[{}, kwhPerDay(plan.summary.estPowerSavedWatts)]],
    },
  ];
}

function runFamilies(input: MetricsInput): Family[] {
  const result = resultLabel(input.exitCode);
  const families: Family[] = [
    {
      name: `${PREFIX}last_run_timestamp_seconds`,
      type: 'gauge',
      help: 'Unix time the last run finished.',
      samples: [[{}, input.at.getTime() / 1000]],
    },
    {
      name: `${PREFIX}last_run_duration_seconds`,
      type: 'gauge',
      help: 'Wall time of the last run.',
      samples: [[{}, input.durationMs / 1000]],
    },
    {
      name: `${PREFIX}last_run_success`,
      type: 'gauge',
      help: '1 when the last run exited 0, else 0.',
      samples: [[{}, input.exitCode === 0 ? 1 : 0]],
    },
    {
      name: `${PREFIX}last_run_exit_code`,
      type: 'gauge',
      help: 'Exit code of the last run: 0 ok, 1 unexpected, 2 bad config or input, 3 actions failed, 4 locked.',
      samples: [[{}, input.exitCode]],
    },
    {
      name: `${PREFIX}last_run_info`,
      type: 'gauge',
      help: 'Always 1; the labels describe the last run.',
      samples: [[{ decision: input.plan?.decision ?? 'unknown', mode: input.mode, result }, 1]],
    },
    {
      name: `${PREFIX}hosts_quarantined`,
      type: 'gauge',
      help: 'Hosts quarantined after failing to wake (tag wake-failed); an admin clears them.',
      samples: [[{}, input.quarantinedHosts ?? 0]],
    },
  ];
  const counts = actionCounts(input);
  const lastRun = (kind: ActionDone['kind'], label: Labels) =>
    OUTCOMES.map((outcome) => [{ ...label, outcome }, counts.get(kind)?.[outcome] ?? 0] as const);
  families.push(
    {
      name: `${PREFIX}last_run_migrations`,
      type: 'gauge',
      help: 'Migrations of the last run by outcome (planned, done, failed, not_started).',
      samples: lastRun('migrate', {}),
    },
    {
      name: `${PREFIX}last_run_power_actions`,
      type: 'gauge',
      help: 'Power actions of the last run by action (on, off) and outcome.',
      samples: [...lastRun('power_on', { action: 'on' }), ...lastRun('power_off', { action: 'off' })],
    },
  );
  return families;
}

/** Counters: this run's increments added to the previous values. */
function counterFamilies(input: MetricsInput, previous: Counters): Family[] {
  const counts = actionCounts(input);
  const add = (name: string, labels: Labels, increment: number): readonly [Labels, number] => [
    labels,
    (previous.get(seriesKey(name, labels)) ?? 0) + increment,
  ];
  const runs = `${PREFIX}runs_total`;
  const migrations = `${PREFIX}migrations_total`;
  const power = `${PREFIX}power_actions_total`;
  const result = resultLabel(input.exitCode);
  return [
    {
      name: runs,
      type: 'counter',
      help: 'Runs by result.',
      samples: Object.values(RESULT_BY_EXIT).map((r) => add(runs, { result: r }, r === result ? 1 : 0)),
    },
    {
      name: migrations,
      type: 'counter',
      help: 'Migrations carried out, by outcome.',
      samples: (['done', 'failed'] as const).map((o) =>
        add(migrations, { outcome: o }, counts.get('migrate')?.[o] ?? 0),
      ),
    },
    {
      name: power,
      type: 'counter',
      help: 'Power actions carried out, by action and outcome.',
      samples: (['on', 'off'] as const).flatMap((action) =>
        (['done', 'failed'] as const).map((o) =>
          add(
            power,
            { action, outcome: o },
            counts.get(action === 'on' ? 'power_on' : 'power_off')?.[o] ?? 0,
          ),
        ),
      ),
    },
  ];
}

/** The textfile contents for one run. Pure: time comes from the input. */
export function renderMetrics(input: MetricsInput, previous: Counters = new Map()): string {
  const families = [
    ...runFamilies(input),
    ...(input.plan ? planFamilies(input, input.plan) : []),
    ...counterFamilies(input, previous),
  ];
  const lines: string[] = [];
  for (const f of families) {
    lines.push(`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`);
    for (const [labels, value] of f.samples) lines.push(`${seriesKey(f.name, labels)} ${formatValue(value)}`);
  }
  return lines.join('\n') + '\n';
}

/**
 * Writes the metrics file atomically: a temporary file in the same directory (a name node_exporter
 * ignores: it reads only `*.prom`), flushed to disk, mode 0644, then renamed over the target, so the
 * collector never reads a half-written file.
 */
export async function writeMetricsFile(file: string, input: MetricsInput): Promise<void> {
  const previous = await readFile(file, 'utf8').then(parseCounters, () => new Map<string, number>());
  const text = renderMetrics(input, previous);
  const tmp = path.join(
    path.dirname(file),
    `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`,
  );
  const handle = await open(tmp, 'wx', 0o644);
  try {
    await handle.writeFile(text);
    await handle.chmod(0o644);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}
