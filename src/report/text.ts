import type { HostOutcome, Migration, Plan } from '../planner/plan.js';
import {
  formatCount,
  formatDuration,
  formatGiB,
  formatNumber,
  formatPower,
  metricLabel,
  selectHosts,
  waveMemMiB,
  waveSeconds,
} from './format.js';
import { kwhPerDay } from './json.js';

/** Options of the text report. */
export interface TextOptions {
  /** ANSI colours (a terminal); off for files and email. */
  readonly color?: boolean;
  /** Where the cluster came from (`file:demo-cluster.json`, `libvirt`), shown in the header. */
  readonly cluster?: string;
  /** List every host, even in a large cluster (CLI `--all-hosts`). */
  readonly allHosts?: boolean;
}

type Align = 'left' | 'right';

/** Lists are wrapped at this width so they read well in an 80-100 column terminal or mail client. */
const WRAP_COLUMNS = 96;
const INDENT = '  ';

const ANSI = { bold: '1', dim: '2', red: '31', green: '32', yellow: '33', cyan: '36' } as const;
type Style = keyof typeof ANSI;

/** The text report (`plan --format text`, the email's plain-text part). Plain ASCII unless `color`. */
export function renderText(plan: Plan, opts: TextOptions = {}): string {
  const paint = (text: string, style: Style): string =>
    opts.color ? `\u001b[${ANSI[style]}m${text}\u001b[0m` : text;
  const sections = [
    header(plan, opts.cluster, paint),
    summary(plan, paint),
    warnings(plan, paint),
    powerActions(plan, paint),
    migrations(plan, paint),
    hosts(plan, opts.allHosts ?? false, paint),
    leftOut(plan, paint),
  ];
  return (
    sections
      .filter((lines) => lines.length > 0)
      .map((lines) => lines.join('\n'))
      .join('\n\n') + '\n'
  );
}

type Paint = (text: string, style: Style) => string;

const DECISION_STYLE: Record<Plan['decision'], Style> = { squeeze: 'green', expand: 'yellow', none: 'cyan' };

function header(plan: Plan, cluster: string | undefined, paint: Paint): string[] {
  const title = `virt-squeeze plan${cluster ? ` for ${cluster}` : ''}`;
  const m = plan.metric;
  return [
    paint(title, 'bold'),
    '='.repeat(title.length),
    `Decision:  ${paint(plan.decision.toUpperCase(), DECISION_STYLE[plan.decision])}`,
    `Why:       ${plan.reason}`,
    `Metric:    ${metricLabel(m.mode)} [${m.mode}]`,
    `           ${formatNumber(m.before)} -> ${formatNumber(m.after)}` +
      `   (minimal ${formatNumber(m.minimal)}, target ${formatNumber(m.target)})`,
  ];
}

function summary(plan: Plan, paint: Paint): string[] {
  const s = plan.summary;
  const delta = s.hostsOnAfter - s.hostsOnBefore;
  const deltaText = delta === 0 ? '' : ` (${delta > 0 ? '+' : ''}${delta})`;
  const rows: Array<[string, string]> = [
    ['hosts on', `${formatCount(s.hostsOnBefore)} -> ${formatCount(s.hostsOnAfter)}${deltaText}`],
    ['power on / off', `${plan.powerOn.length} / ${plan.powerOff.length}`],
    ['migrations', `${formatCount(s.migrations)} in ${s.waves} wave(s), ${formatGiB(s.migratedMemMiB)} GiB`],
    ['est. duration', formatDuration(s.estMakespanSeconds)],
    powerRow(s.estPowerSavedWatts),
    ['planned in', `${formatCount(s.planMs)} ms`],
  ];
  const width = longest(rows.map(([k]) => k));
  return [paint('Summary', 'bold'), ...rows.map(([k, v]) => `${INDENT}${k.padEnd(width)}  ${v}`)];
}

function powerRow(savedWatts: number): [string, string] {
  return savedWatts >= 0
    ? ['est. power saved', formatPower(savedWatts, kwhPerDay(savedWatts))]
    : ['est. extra power', formatPower(-savedWatts, kwhPerDay(-savedWatts))];
}

function warnings(plan: Plan, paint: Paint): string[] {
  if (plan.warnings.length === 0) return [];
  return [
    paint(`Warnings (${plan.warnings.length})`, 'bold'),
    ...plan.warnings.map((w) => `${INDENT}${paint('!', 'red')} ${w}`),
  ];
}

function powerActions(plan: Plan, paint: Paint): string[] {
  const list = (ids: readonly string[]): string[] =>
    ids.length === 0 ? [`${INDENT}${INDENT}none`] : wrapList(ids, `${INDENT}${INDENT}`);
  return [
    paint('Power actions', 'bold'),
    `${INDENT}power on, first (each verified up before use): ${plan.powerOn.length}`,
    ...list(plan.powerOn),
    `${INDENT}power off, last (each re-checked empty, then standby): ${plan.powerOff.length}`,
    ...list(plan.powerOff),
  ];
}

function migrations(plan: Plan, paint: Paint): string[] {
  const s = plan.summary;
  if (plan.waves.length === 0) return [paint('Migrations', 'bold'), `${INDENT}none`];
  const title = `Migrations by wave (${formatCount(s.migrations)}, est. ${formatDuration(s.estMakespanSeconds)} in total; waves run one after another)`;
  // One table over all waves so the columns line up from the first wave to the last.
  const [head = '', ...rows] = table(
    ['VM', 'FROM', '', 'TO', 'GiB', 'EST', ''],
    plan.waves.flatMap((wave) => wave.map(migrationRow)),
    ['left', 'left', 'left', 'left', 'right', 'right', 'left'],
    `${INDENT}${INDENT}`,
  );
  const lines = [paint(title, 'bold')];
  let next = 0;
  plan.waves.forEach((wave, i) => {
    lines.push(
      `${INDENT}wave ${i + 1} of ${plan.waves.length}: ${wave.length} migration(s), ` +
        `${formatGiB(waveMemMiB(wave))} GiB, est. ${formatDuration(waveSeconds(wave))}`,
      head,
      ...rows.slice(next, next + wave.length),
    );
    next += wave.length;
  });
  return lines;
}

function migrationRow(m: Migration): string[] {
  return [
    m.vm,
    m.from,
    '->',
    m.to,
    formatGiB(m.memMiB),
    formatDuration(m.estSeconds),
    m.converges === false ? 'may not converge' : '',
  ];
}

function hosts(plan: Plan, allHosts: boolean, paint: Paint): string[] {
  const { shown, hidden } = selectHosts(plan, allHosts);
  const title =
    hidden === 0
      ? `Hosts (${formatCount(shown.length)})`
      : `Hosts the plan touches (${formatCount(shown.length)} of ${formatCount(plan.hosts.length)})`;
  const lines = [paint(title, 'bold')];
  if (shown.length > 0) {
    const fit = pairs(shown.map((h) => onlyOn(h, String(h.fitBefore), String(h.fitAfter))));
    const mem = pairs(shown.map((h) => onlyOn(h, pct(h.memPctBefore), pct(h.memPctAfter))));
    const cpu = pairs(shown.map((h) => onlyOn(h, pct(h.cpuPctBefore), pct(h.cpuPctAfter))));
    const rows = shown.map((h, i) => [h.id, stateText(h), fit[i] ?? '', mem[i] ?? '', cpu[i] ?? '', h.why]);
    lines.push(
      ...table(
        ['HOST', 'STATE', 'FIT (std)', 'MEM', 'CPU', 'WHY / WHY NOT'],
        rows,
        ['left', 'left', 'right', 'right', 'right', 'left'],
        INDENT,
      ),
    );
  }
  if (hidden > 0) {
    lines.push(
      `${INDENT}${formatCount(hidden)} more host(s) unchanged by the plan, not listed (--all-hosts lists every host)`,
    );
  }
  return lines;
}

function leftOut(plan: Plan, paint: Paint): string[] {
  if (plan.leftOut.length === 0) return [];
  const rows = plan.leftOut.map((l) => [l.kind, l.id, l.reason]);
  return [
    paint(`Left out (${plan.leftOut.length}): the planner would have, but a limit stopped it`, 'bold'),
    ...table(['KIND', 'ID', 'LIMIT'], rows, ['left', 'left', 'left'], INDENT),
  ];
}

function stateText(h: HostOutcome): string {
  return h.stateBefore === h.stateAfter ? h.stateBefore : `${h.stateBefore} -> ${h.stateAfter}`;
}

/** Capacity figures mean nothing for a host that is not on: show `-` on that side. */
function onlyOn(h: HostOutcome, before: string, after: string): [string, string] {
  return [h.stateBefore === 'on' ? before : '-', h.stateAfter === 'on' ? after : '-'];
}

function pct(value: number): string {
  return `${Math.round(value)}%`;
}

/** `before -> after` cells with both sides aligned across rows; one value when unchanged. */
function pairs(values: ReadonlyArray<readonly [string, string]>): string[] {
  const wBefore = longest(values.map(([b]) => b));
  const wAfter = longest(values.map(([, a]) => a));
  const width = wBefore + 4 + wAfter;
  return values.map(([b, a]) =>
    b === '-' && a === '-' ? '-'.padStart(width) : `${b.padStart(wBefore)} -> ${a.padStart(wAfter)}`,
  );
}

/** Length of the longest string (a loop: a spread of 100k+ arguments would overflow the stack). */
function longest(texts: readonly string[]): number {
  let max = 0;
  for (const t of texts) max = Math.max(max, t.length);
  return max;
}

/** Aligned columns, two spaces apart; trailing blanks trimmed. */
function table(
  head: readonly string[],
  rows: ReadonlyArray<readonly string[]>,
  align: readonly Align[],
  indent: string,
): string[] {
  const widths = head.map((h, c) => Math.max(h.length, longest(rows.map((r) => r[c] ?? ''))));
  const line = (cells: readonly string[]): string =>
    (
      indent +
      cells
        .map((cell, c) =>
          align[c] === 'right' ? cell.padStart(widths[c] ?? 0) : cell.padEnd(widths[c] ?? 0),
        )
        .join('  ')
    ).trimEnd();
  return [line(head), ...rows.map(line)];
}

/** Comma-separated ids wrapped at {@link WRAP_COLUMNS}. */
function wrapList(ids: readonly string[], indent: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const [i, id] of ids.entries()) {
    const item = i < ids.length - 1 ? `${id},` : id;
    if (current && indent.length + current.length + 1 + item.length > WRAP_COLUMNS) {
      lines.push(indent + current);
      current = item;
    } else {
      current = current ? `${current} ${item}` : item;
    }
  }
  if (current) lines.push(indent + current);
  return lines;
}
