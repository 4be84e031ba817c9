import { describe, expect, it } from 'vitest';
import { escapeHtml, renderHtml } from '../../src/report/html.js';
import { move, outcome, planOf, squeezePlan } from '../golden/plans.js';

const count = (html: string, needle: string): number => html.split(needle).length - 1;

describe('renderHtml', () => {
  it('is email-client safe: no script, no external resources, no flexbox/grid, no <style> block', () => {
    const html = renderHtml(squeezePlan(), { attachment: 'plan.json' });
    expect(html).not.toMatch(/<script|<link|<style|<img|src=|url\(/i);
    expect(html).not.toMatch(/display:\s*(flex|grid)/i);
    expect(html).toContain('full plan attached as plan.json');
  });

  it('escapes what comes from the cluster (ids, reasons, warnings)', () => {
    const plan = {
      ...squeezePlan(),
      reason: '<b>bold</b> & "quoted"',
      warnings: ['<script>alert(1)</script>'],
    };
    const html = renderHtml(plan);
    expect(html).toContain(escapeHtml('<b>bold</b> & "quoted"'));
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });

  it('one bar pair per running host, none for hosts that are off or unknown', () => {
    const plan = squeezePlan();
    const html = renderHtml(plan);
    expect(count(html, 'powered off</span>')).toBe(1); // kvm-07 standby
    expect(count(html, 'no data (unreachable)')).toBe(1); // kvm-08
    // 6 hosts running at some point, two bars each, each bar a 130 px table.
    expect(count(html, 'width="130"')).toBe(12);
  });

  it('caps long lists, power actions first, and points at the JSON plan for the rest', () => {
    const hosts = Array.from({ length: 1000 }, (_, i) =>
      outcome(`h${i}`, i === 999 ? { stateAfter: 'standby', why: 'emptied' } : { fitAfter: 3 }),
    );
    const waves = [Array.from({ length: 500 }, (_, i) => move(`vm${i}`, 'h999', `h${i}`, 1, 2))];
    const html = renderHtml(planOf({ hosts, waves, decision: 'squeeze' }), {
      maxHostRows: 50,
      maxMigrationRows: 20,
      attachment: 'plan.json',
    });
    expect(html.match(/<b>h\d+<\/b>/g)).toHaveLength(50);
    expect(html.indexOf('<b>h999</b>')).toBeLessThan(html.indexOf('<b>h0</b>'));
    expect(html).toContain('950 more host(s) the plan touches, in the attached plan.json');
    expect(html).toContain('480 more migration(s) in the attached plan.json');
    expect(html.length).toBeLessThan(200_000);
  });
});
