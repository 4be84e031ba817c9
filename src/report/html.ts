import type { HostOutcome, Migration, Plan } from '../planner/plan.js';
import {
  formatCount,
  formatDuration,
  formatGiB,
  formatNumber,
  headline,
  metricLabel,
  selectHosts,
  waveMemMiB,
  waveSeconds,
} from './format.js';
import { kwhPerDay } from './json.js';

/**
 * The HTML report (`plan --format html`, the email body). Email-client safe: tables and inline
 * styles only (no flexbox, grid, external CSS, scripts or images), at most 680 px wide and
 * readable down to 600 px; bars are table cells with a background colour.
 */

/** What the run around the plan adds to the report. */
export interface HtmlOptions {
  /** Where the cluster came from (`file:demo-cluster.json`, `libvirt`). */
  readonly cluster?: string;
  readonly allHosts?: boolean;
  readonly runId?: string;
  /** Shown in the footer as UTC. */
  readonly generatedAt?: Date;
  readonly mode?: 'dry-run' | 'execute';
  /** What the run did with the plan, e.g. `executed: 4 migrations done` or `failed: ...`. */
  readonly outcome?: { readonly ok: boolean; readonly text: string };
  /** At most this many migration rows (the JSON plan has all); default 300. */
  readonly maxMigrationRows?: number;
  /** At most this many host rows; default 300. */
  readonly maxHostRows?: number;
  /** File name of the JSON plan attached to the email, if any; the notes point there. */
  readonly attachment?: string;
}

/** An email stays a few hundred KiB: longer lists are cut with a note pointing at the JSON plan. */
const DEFAULT_MAX_ROWS = 300;

const COLOR = {
  text: '#1f2328',
  muted: '#59636e',
  line: '#d1d9e0',
  panel: '#f6f8fa',
  barEmpty: '#e6eaef',
  barBefore: '#8c959f',
  barAfter: '#0969da',
  barHigh: '#cf222e',
  warnBg: '#fff8c5',
  warnLine: '#d4a72c',
  errBg: '#ffebe9',
  errLine: '#cf222e',
  okBg: '#dafbe1',
  okLine: '#1a7f37',
} as const;

const DECISION_COLOR: Record<Plan['decision'], string> = {
  squeeze: '#1a7f37',
  expand: '#9a6700',
  none: '#0969da',
};

const FONT = "font-family:-apple-system,'Segoe UI',Helvetica,Arial,sans-serif";
const CELL = `padding:4px 6px;border-bottom:1px solid ${COLOR.line};vertical-align:top;font-size:13px`;
const HEAD = `${CELL};text-align:left;color:${COLOR.muted};font-weight:600;font-size:12px`;
const H2 = `margin:22px 0 8px;font-size:16px;color:${COLOR.text}`;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** The full HTML document. */
export function renderHtml(plan: Plan, opts: HtmlOptions = {}): string {
  const body = [
    banner(plan, opts),
    outcomeBox(opts.outcome),
    summaryCards(plan),
    warningsBox(plan.warnings),
    powerSection(plan),
    hostsSection(plan, opts.allHosts ?? false, opts.maxHostRows ?? DEFAULT_MAX_ROWS, fullPlan(opts)),
    migrationsSection(plan, opts.maxMigrationRows ?? DEFAULT_MAX_ROWS, fullPlan(opts)),
    leftOutSection(plan),
    footer(opts),
  ].join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(`virt-squeeze ${headline(plan)}`)}</title>
</head>
<body style="margin:0;padding:0;background:#ffffff;color:${COLOR.text};${FONT}">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"><tr><td align="center" style="padding:12px">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:680px;${FONT}"><tr><td style="word-break:break-word;overflow-wrap:anywhere">
${body}
</td></tr></table>
</td></tr></table>
</body>
</html>
`;
}

function banner(plan: Plan, opts: HtmlOptions): string {
  const m = plan.metric;
  const where = opts.cluster ? ` &middot; ${escapeHtml(opts.cluster)}` : '';
  const mode = opts.mode ? ` &middot; ${escapeHtml(opts.mode)}` : '';
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-left:6px solid ${DECISION_COLOR[plan.decision]};background:${COLOR.panel}"><tr><td style="padding:12px 14px">
<div style="font-size:12px;color:${COLOR.muted}">virt-squeeze${where}${mode}</div>
<div style="font-size:22px;font-weight:700;color:${DECISION_COLOR[plan.decision]};margin:2px 0 6px">${escapeHtml(plan.decision.toUpperCase())}</div>
<div style="font-size:14px;margin-bottom:6px">${escapeHtml(plan.reason)}</div>
<div style="font-size:13px;color:${COLOR.muted}">${escapeHtml(metricLabel(m.mode))}: <b style="color:${COLOR.text}">${formatNumber(m.before)} &rarr; ${formatNumber(m.after)}</b> (minimal ${formatNumber(m.minimal)}, target ${formatNumber(m.target)})</div>
</td></tr></table>`;
}

function outcomeBox(outcome: HtmlOptions['outcome']): string {
  if (!outcome) return '';
  const [bg, line] = outcome.ok ? [COLOR.okBg, COLOR.okLine] : [COLOR.errBg, COLOR.errLine];
  return box(bg, line, `<b>${outcome.ok ? 'Run result' : 'Run failed'}:</b> ${escapeHtml(outcome.text)}`);
}

function box(bg: string, line: string, inner: string): string {
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin-top:12px;background:${bg};border:1px solid ${line}"><tr><td style="padding:8px 12px;font-size:13px">${inner}</td></tr></table>`;
}

function summaryCards(plan: Plan): string {
  const s = plan.summary;
  const saved = s.estPowerSavedWatts;
  const cards: Array<[string, string, string]> = [
    [
      'Hosts on',
      `${formatCount(s.hostsOnBefore)} &rarr; ${formatCount(s.hostsOnAfter)}`,
      `wake ${plan.powerOn.length} &middot; standby ${plan.powerOff.length}`,
    ],
    ['Migrations', formatCount(s.migrations), `${formatGiB(s.migratedMemMiB)} GiB in ${s.waves} wave(s)`],
    ['Est. duration', formatDuration(s.estMakespanSeconds), `planned in ${formatCount(s.planMs)} ms`],
    [
      saved >= 0 ? 'Est. power saved' : 'Est. extra power',
      `${formatCount(Math.abs(saved))} W`,
      `${formatNumber(kwhPerDay(Math.abs(saved)))} kWh/day`,
    ],
  ];
  const cells = cards
    .map(
      ([label, value, sub]) =>
        `<td width="25%" style="padding:8px;border:1px solid ${COLOR.line};vertical-align:top"><div style="font-size:11px;color:${COLOR.muted};text-transform:uppercase">${label}</div><div style="font-size:20px;font-weight:700;margin:2px 0">${value}</div><div style="font-size:11px;color:${COLOR.muted}">${sub}</div></td>`,
    )
    .join('');
  return `<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="margin-top:12px;border-collapse:collapse;table-layout:fixed"><tr>${cells}</tr></table>`;
}

function warningsBox(warnings: readonly string[]): string {
  if (warnings.length === 0) return '';
  const items = warnings.map((w) => `<li style="margin:2px 0">${escapeHtml(w)}</li>`).join('');
  return box(
    COLOR.warnBg,
    COLOR.warnLine,
    `<b>Warnings (${warnings.length})</b><ul style="margin:4px 0 0;padding-left:18px">${items}</ul>`,
  );
}

function powerSection(plan: Plan): string {
  const row = (label: string, ids: readonly string[]): string =>
    `<tr><td style="${CELL};width:150px;white-space:nowrap"><b>${label}</b></td><td style="${CELL};word-break:break-word">${ids.length === 0 ? `<span style="color:${COLOR.muted}">none</span>` : ids.map(escapeHtml).join(', ')}</td></tr>`;
  return `<h2 style="${H2}">Power actions</h2>
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse">
${row(`Power on (${plan.powerOn.length})`, plan.powerOn)}
${row(`Power off (${plan.powerOff.length})`, plan.powerOff)}
</table>
<div style="font-size:12px;color:${COLOR.muted};margin-top:4px">Order: power-ons first (each verified up), then the waves, then power-offs (each host re-checked empty, then tagged standby).</div>`;
}

/** Where the complete plan is, for the notes under shortened lists. */
function fullPlan(opts: HtmlOptions): string {
  return opts.attachment ? `the attached ${opts.attachment}` : '`virt-squeeze plan --format json`';
}

function migrationsSection(plan: Plan, maxRows: number, full: string): string {
  const s = plan.summary;
  if (plan.waves.length === 0)
    return `<h2 style="${H2}">Migrations</h2><div style="font-size:13px">none</div>`;
  const parts = [
    `<h2 style="${H2}">Migrations by wave <span style="font-weight:400;color:${COLOR.muted};font-size:13px">${formatCount(s.migrations)}, est. ${formatDuration(s.estMakespanSeconds)} in total; waves run one after another</span></h2>`,
    `<table width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse">`,
    `<tr><th style="${HEAD}">VM</th><th style="${HEAD}">From &rarr; to</th><th style="${HEAD};text-align:right">GiB</th><th style="${HEAD};text-align:right">Est.</th></tr>`,
  ];
  let rows = 0;
  for (const [i, wave] of plan.waves.entries()) {
    if (rows >= maxRows) break;
    parts.push(
      `<tr><td colspan="4" style="${CELL};background:${COLOR.panel};font-weight:600">Wave ${i + 1} of ${plan.waves.length} <span style="font-weight:400;color:${COLOR.muted}">&middot; ${wave.length} migration(s) &middot; ${formatGiB(waveMemMiB(wave))} GiB &middot; est. ${formatDuration(waveSeconds(wave))}</span></td></tr>`,
    );
    for (const m of wave.slice(0, maxRows - rows)) parts.push(migrationRow(m));
    rows += Math.min(wave.length, maxRows - rows);
  }
  parts.push('</table>');
  if (rows < s.migrations)
    parts.push(note(`${formatCount(s.migrations - rows)} more migration(s) in ${full}`));
  return parts.join('\n');
}

function migrationRow(m: Migration): string {
  const warn = m.converges === false ? ` <span style="color:${COLOR.barHigh}">(may not converge)</span>` : '';
  return `<tr><td style="${CELL};word-break:break-word">${escapeHtml(m.vm)}${warn}</td><td style="${CELL};word-break:break-word">${escapeHtml(m.from)} &rarr; ${escapeHtml(m.to)}</td><td style="${CELL};text-align:right">${formatGiB(m.memMiB)}</td><td style="${CELL};text-align:right;white-space:nowrap">${formatDuration(m.estSeconds)}</td></tr>`;
}

function note(text: string): string {
  return `<div style="font-size:12px;color:${COLOR.muted};margin-top:4px">${escapeHtml(text)}</div>`;
}

function hostsSection(plan: Plan, allHosts: boolean, maxRows: number, full: string): string {
  const { shown, hidden } = selectHosts(plan, allHosts);
  const title =
    hidden === 0
      ? `Hosts (${formatCount(shown.length)})`
      : `Hosts the plan touches (${formatCount(shown.length)} of ${formatCount(plan.hosts.length)})`;
  // Over the row limit, hosts that change state (power on/off) come first: they matter most.
  const listed =
    shown.length <= maxRows
      ? shown
      : [
          ...shown.filter((h) => h.stateBefore !== h.stateAfter),
          ...shown.filter((h) => h.stateBefore === h.stateAfter),
        ].slice(0, maxRows);
  const notes: string[] = [];
  if (listed.length < shown.length)
    notes.push(
      note(`${formatCount(shown.length - listed.length)} more host(s) the plan touches, in ${full}`),
    );
  if (hidden > 0)
    notes.push(
      note(`${formatCount(hidden)} more host(s) unchanged by the plan; every host's why is in ${full}`),
    );
  const legend = `<span style="color:${COLOR.muted};font-weight:400;font-size:12px">bars: memory allocated, <span style="color:${COLOR.barBefore}">&#9632;</span> before, <span style="color:${COLOR.barAfter}">&#9632;</span> after</span>`;
  return `<h2 style="${H2}">${title} ${legend}</h2>
<table width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse">
<tr><th style="${HEAD}">Host</th><th style="${HEAD}">Memory / CPU</th><th style="${HEAD};text-align:right;white-space:nowrap">Free std</th><th style="${HEAD}">Why / why not</th></tr>
${listed.map(hostRow).join('\n')}
</table>${notes.join('')}`;
}

function hostRow(h: HostOutcome): string {
  const state =
    h.stateBefore === h.stateAfter
      ? escapeHtml(h.stateBefore)
      : `${escapeHtml(h.stateBefore)} &rarr; <b>${escapeHtml(h.stateAfter)}</b>`;
  const fit = `${h.stateBefore === 'on' ? h.fitBefore : '&ndash;'} &rarr; ${h.stateAfter === 'on' ? h.fitAfter : '&ndash;'}`;
  return `<tr><td style="${CELL};width:96px;word-break:break-word"><b>${escapeHtml(h.id)}</b><div style="font-size:11px;color:${COLOR.muted}">${state}</div></td><td style="${CELL};width:140px">${capacityBars(h)}</td><td style="${CELL};text-align:right;white-space:nowrap">${fit}</td><td style="${CELL}">${escapeHtml(h.why)}</td></tr>`;
}

/** Two memory bars (before, after) and the memory and CPU figures; a dash for a side where the host is not on. */
function capacityBars(h: HostOutcome): string {
  const on = [h.stateBefore === 'on', h.stateAfter === 'on'] as const;
  if (!on[0] && !on[1]) {
    const what = h.stateBefore === 'unknown' ? 'no data (unreachable)' : 'powered off';
    return `<span style="font-size:12px;color:${COLOR.muted}">${what}</span>`;
  }
  const mem = [on[0] ? h.memPctBefore : undefined, on[1] ? h.memPctAfter : undefined] as const;
  const cpu = [on[0] ? h.cpuPctBefore : undefined, on[1] ? h.cpuPctAfter : undefined] as const;
  const caption = `<div style="font-size:11px;color:${COLOR.muted};white-space:nowrap">mem ${pctText(mem[0])} &rarr; ${pctText(mem[1])}<br>cpu ${pctText(cpu[0])} &rarr; ${pctText(cpu[1])}</div>`;
  return `${bar(mem[0], COLOR.barBefore)}${bar(mem[1], COLOR.barAfter)}${caption}`;
}

function pctText(pct: number | undefined): string {
  return pct === undefined ? '&ndash;' : `${Math.round(pct)}%`;
}

/** A 130 px bar: a filled cell and an empty cell; no zero-width cells (some clients render those 1 px wide). */
function bar(pct: number | undefined, color: string): string {
  const filled = pct === undefined ? 0 : Math.max(0, Math.min(100, Math.round(pct)));
  const fill = filled >= 90 ? COLOR.barHigh : color;
  const cells =
    (filled > 0
      ? `<td width="${filled}%" style="background:${fill};height:8px;font-size:0;line-height:0">&nbsp;</td>`
      : '') +
    (filled < 100
      ? `<td style="background:${COLOR.barEmpty};height:8px;font-size:0;line-height:0">&nbsp;</td>`
      : '');
  return `<table role="presentation" width="130" cellpadding="0" cellspacing="0" border="0" style="margin:2px 0;width:130px"><tr>${cells}</tr></table>`;
}

function leftOutSection(plan: Plan): string {
  if (plan.leftOut.length === 0) return '';
  const rows = plan.leftOut
    .map(
      (l) =>
        `<tr><td style="${CELL}">${l.kind}</td><td style="${CELL};word-break:break-word">${escapeHtml(l.id)}</td><td style="${CELL}">${escapeHtml(l.reason)}</td></tr>`,
    )
    .join('\n');
  return `<h2 style="${H2}">Left out (${plan.leftOut.length}) <span style="font-weight:400;color:${COLOR.muted};font-size:13px">the planner would have, but a limit stopped it</span></h2>
<table width="100%" cellpadding="0" cellspacing="0" border="0" style="border-collapse:collapse">
<tr><th style="${HEAD}">Kind</th><th style="${HEAD}">Id</th><th style="${HEAD}">Limit</th></tr>
${rows}
</table>`;
}

function footer(opts: HtmlOptions): string {
  const parts = ['virt-squeeze'];
  if (opts.runId) parts.push(`run ${opts.runId}`);
  if (opts.generatedAt)
    parts.push(
      `${opts.generatedAt
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')}`,
    );
  if (opts.attachment) parts.push(`full plan attached as ${opts.attachment}`);
  return `<div style="margin-top:24px;padding-top:8px;border-top:1px solid ${COLOR.line};font-size:11px;color:${COLOR.muted}">${escapeHtml(parts.join(' · '))}</div>`;
}
