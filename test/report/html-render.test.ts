import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadContext } from '../../src/app/context.js';
import { planRun } from '../../src/app/plan-run.js';
import type { Plan } from '../../src/planner/plan.js';
import { composeEmail, createEmailNotifier } from '../../src/report/email.js';
import { selectHosts } from '../../src/report/format.js';
import { renderHtml } from '../../src/report/html.js';
import { expandPlan, largePlan, squeezePlan } from '../golden/plans.js';
import { render, startChromium } from './chromium.js';
import { readPng } from './png.js';
import { settingsFor, startSmtp } from './smtp-fixture.js';

/**
 * The HTML report as a mail client would show it: rendered in headless Debian Chromium at phone-ish
 * and desktop widths. Checks: no horizontal overflow, a non-blank screenshot of the expected width,
 * every listed host and its why visible. `UPDATE_SCREENSHOT=1` also writes docs/report-screenshot.png
 * from the email as received over SMTP.
 */
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WIDTHS = [600, 800] as const;

let chrome: Awaited<ReturnType<typeof startChromium>>;
beforeAll(async () => {
  chrome = await startChromium();
});
afterAll(async () => chrome?.close());

async function checkLayout(html: string, plan: Plan, width: number): Promise<Buffer> {
  const r = await render(chrome.browser, html, width);
  expect(r.overflowing, `elements wider than ${width}px`).toEqual([]);
  expect(r.scrollWidth).toBeLessThanOrEqual(width);
  const png = readPng(r.png);
  expect(png.width).toBe(width);
  expect(png.height).toBeGreaterThan(400);
  expect(png.colours, 'screenshot looks blank').toBeGreaterThan(20);
  expect(r.text).toContain(plan.decision.toUpperCase());
  expect(r.text).toContain(plan.reason);
  for (const h of selectHosts(plan).shown) {
    expect(r.text).toContain(h.id);
    expect(r.text).toContain(h.why);
  }
  for (const m of plan.waves.flat()) expect(r.text).toContain(m.vm);
  return r.png;
}

describe('HTML report in headless Chromium', () => {
  for (const [name, plan] of [
    ['squeeze', squeezePlan()],
    ['expand', expandPlan()],
    ['large', largePlan()],
  ] as const) {
    for (const width of WIDTHS) {
      it(`${name} at ${width}px: no overflow, non-blank, all content visible`, async () => {
        await checkLayout(renderHtml(plan, { cluster: 'file:demo-cluster.json' }), plan, width);
      });
    }
  }

  it('long unbroken ids and reasons wrap instead of widening the page', async () => {
    const long = 'x'.repeat(120);
    const base = squeezePlan();
    const plan: Plan = {
      ...base,
      reason: `${base.reason} ${long}`,
      warnings: [long],
      hosts: base.hosts.map((h, i) => (i === 0 ? { ...h, id: `host-${long}`, why: long } : h)),
    };
    await checkLayout(renderHtml(plan), plan, 600);
  });

  it('the demo cluster email as received over SMTP renders cleanly; saved as the README screenshot when asked', async () => {
    const ctx = await loadContext({ configPath: path.join(repoRoot, 'config/example.yaml') });
    const { plan } = await planRun(ctx, { format: 'text' });
    expect(plan.decision).toBe('squeeze');
    const smtp = await startSmtp();
    try {
      const notifier = await createEmailNotifier(settingsFor(smtp));
      const run = {
        plan,
        cluster: ctx.cluster.source,
        runId: '20261121T030000Z-4f2a9c',
        at: new Date('2026-11-21T03:00:00Z'),
        mode: 'dry-run' as const,
        outcome: { ok: true, text: 'dry run: nothing was changed' },
      };
      await notifier.send(composeEmail(run));
      notifier.close();
      const got = await smtp.next();
      expect(typeof got.mail.html).toBe('string');
      const png = await checkLayout(got.mail.html || '', plan, 720);
      if (process.env.UPDATE_SCREENSHOT) {
        mkdirSync(path.join(repoRoot, 'docs'), { recursive: true });
        writeFileSync(path.join(repoRoot, 'docs/report-screenshot.png'), png);
      }
    } finally {
      await smtp.close();
    }
  });
});
