import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { Plan } from '../../src/planner/plan.js';
import { renderText, type TextOptions } from '../../src/report/text.js';
import { expandPlan, largePlan, nothingPlan, squeezePlan } from './plans.js';

/**
 * Golden text reports. A change in wording or layout shows up as a diff here; after reviewing it,
 * regenerate with `UPDATE_GOLDEN=1 npx vitest run test/golden`.
 */
const here = path.dirname(fileURLToPath(import.meta.url));

function golden(name: string, plan: Plan, opts: TextOptions): void {
  const file = path.join(here, `${name}.txt`);
  const actual = renderText(plan, opts);
  if (process.env.UPDATE_GOLDEN) writeFileSync(file, actual);
  expect(existsSync(file), `${file} missing: run with UPDATE_GOLDEN=1`).toBe(true);
  expect(actual).toBe(readFileSync(file, 'utf8'));
}

describe('text report goldens', () => {
  it('squeeze with warnings and a left-out VM', () =>
    golden('squeeze', squeezePlan(), { cluster: 'file:demo-cluster.json' }));
  it('expand in per_host mode', () => golden('expand', expandPlan(), { cluster: 'libvirt' }));
  it('nothing to do', () => golden('nothing', nothingPlan(), {}));
  it('large cluster lists only the hosts the plan touches', () => golden('large', largePlan(), {}));
  it('large cluster with --all-hosts lists every host', () =>
    golden('large-all-hosts', largePlan(), { allHosts: true }));
});

describe('text report properties', () => {
  it('is plain ASCII without colour', () => {
    const text = renderText(squeezePlan());
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
  });

  it('colours only when asked, and stripping the colour gives the plain report', () => {
    const coloured = renderText(squeezePlan(), { color: true });
    expect(coloured).toContain('\u001b[');
    // eslint-disable-next-line no-control-regex
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).toBe(renderText(squeezePlan()));
  });

  it('has one table row per listed host, each with its why', () => {
    const plan = squeezePlan();
    const text = renderText(plan);
    for (const h of plan.hosts) {
      const row = text.split('\n').find((l) => l.startsWith(`  ${h.id} `));
      expect(row, h.id).toBeDefined();
      expect(row).toContain(h.why);
    }
  });

  it('large: hidden hosts are counted, and the count plus the listed rows is the whole cluster', () => {
    const text = renderText(largePlan());
    const listed = text.split('\n').filter((l) => /^ {2}node-\d{3} /.test(l));
    expect(listed).toHaveLength(3);
    expect(text).toContain('197 more host(s) unchanged');
    const all = renderText(largePlan(), { allHosts: true });
    expect(all.split('\n').filter((l) => /^ {2}node-\d{3} /.test(l))).toHaveLength(200);
  });

  it('columns of the wave table line up', () => {
    const lines = renderText(squeezePlan()).split('\n');
    const rows = lines.filter((l) => /^ {4}\S+ +kvm-0\d +-> +kvm-0\d/.test(l));
    expect(rows).toHaveLength(4);
    expect(new Set(rows.map((r) => r.indexOf('->'))).size).toBe(1);
    expect(new Set(rows.map((r) => r.length)).size).toBe(1);
  });
});
