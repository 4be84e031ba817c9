import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (scripts/deps/ops.list), driven by playwright-core; never a downloaded browser. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/** Flags that keep Chromium off the network and quiet on a closed, loaded machine. */
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** What the page looked like at one viewport width. */
export interface Rendering {
  readonly viewportWidth: number;
  /** Document width: larger than the viewport means horizontal overflow. */
  readonly scrollWidth: number;
  readonly scrollHeight: number;
  /** Elements whose right edge lies beyond the viewport (tag#index), empty when none. */
  readonly overflowing: readonly string[];
  /** The visible text, as a reader would copy it. */
  readonly text: string;
  readonly png: Buffer;
}

/** A headless Chromium with a fresh profile directory; `close()` ends it and removes the profile. */
export async function startChromium(): Promise<{ browser: Browser; close: () => Promise<void> }> {
  const profile = mkdtempSync(path.join(tmpdir(), 'vs-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: FLAGS,
    timeout: 60_000,
  });
  const browser = context.browser();
  if (!browser) {
    await context.close();
    throw new Error('chromium: no browser handle');
  }
  return {
    browser,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Runs in the page (a string: the project's TypeScript has no DOM types): sizes and overflowing elements. */
const MEASURE = `(() => {
  const vw = document.documentElement.clientWidth;
  const overflowing = [];
  document.querySelectorAll('body *').forEach((el, i) => {
    if (el.getBoundingClientRect().right > vw + 0.5) overflowing.push(el.tagName.toLowerCase() + '#' + i);
  });
  return {
    scrollWidth: document.documentElement.scrollWidth,
    scrollHeight: document.documentElement.scrollHeight,
    overflowing,
    text: document.body.innerText,
  };
})()`;

/** Renders `html` (no network: the email is self-contained) at `width` px and takes a full-page screenshot. */
export async function render(browser: Browser, html: string, width: number): Promise<Rendering> {
  const page = await browser.newPage({ viewport: { width, height: 800 } });
  try {
    await page.route('**/*', (route) => route.abort());
    await page.setContent(html, { waitUntil: 'load' });
    const m = await page.evaluate<Omit<Rendering, 'viewportWidth' | 'png'>>(MEASURE);
    const png = await page.screenshot({ fullPage: true, type: 'png' });
    return { viewportWidth: width, ...m, png };
  } finally {
    await page.close();
  }
}
