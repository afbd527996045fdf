// Phones to desktop: no page may scroll sideways, in any display mode.
// Also saves full-page screenshots to artifacts/ for a human to look at.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  startPortal, launchBrowser, newContext, open, guideCode, ensureArtifacts,
} from './helpers.js';

let portal;
let browser;
let code;
let artifacts;

before(async () => {
  portal = await startPortal({ label: 'responsive' });
  browser = await launchBrowser();
  code = await guideCode(portal.base);
  artifacts = await ensureArtifacts();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

// Paths are functions: the guide's code is only known once the server runs.
const pages = [
  ['home', () => '/'],
  ['services', () => '/services'],
  ['guide', () => `/services/${encodeURIComponent(code)}`],
];

/** Horizontal overflow, with the widest offenders named for debugging. */
function overflow(page) {
  return page.evaluate(() => {
    const vw = window.innerWidth;
    const sw = document.documentElement.scrollWidth;
    const offenders = [];
    if (sw > vw) {
      for (const el of document.body.querySelectorAll('*')) {
        const r = el.getBoundingClientRect();
        if (r.right > vw + 0.5 && r.width > 0) {
          const id = el.id ? `#${el.id}` : '';
          const cls = el.classList.length ? `.${[...el.classList].join('.')}` : '';
          offenders.push(`${el.tagName.toLowerCase()}${id}${cls} right=${Math.round(r.right)}`);
        }
        if (offenders.length >= 8) break;
      }
    }
    return { vw, sw, offenders };
  });
}

const cases = [
  // [mode, widths]
  ['zh-CN', [320, 375, 1440]],
  ['elder', [320, 375, 1440]],
  ['en', [320, 375]],
  ['zh-HK', [320]],
  ['contrast', [320]],
];

for (const [mode, widths] of cases) {
  for (const width of widths) {
    describe(`no horizontal scroll at ${width}px, ${mode}`, () => {
      let context;
      let page;
      before(async () => {
        context = await newContext(browser, portal.base, { mode, viewport: { width, height: 800 } });
        page = await context.newPage();
      });
      after(async () => { await context?.close(); });

      for (const [name, pathOf] of pages) {
        it(name, async () => {
          const p = pathOf();
          await open(page, portal.base + p);
          const o = await overflow(page);
          assert.ok(o.sw <= o.vw,
            `${p} at ${width}px [${mode}] scrolls sideways: scrollWidth ${o.sw} > innerWidth ${o.vw}\n  ${o.offenders.join('\n  ')}`);
        });
      }
    });
  }
}

describe('screenshots', () => {
  const shots = () => [
    ['home', '/', 'zh-CN', 375], ['home', '/', 'zh-CN', 1440],
    ['services', '/services', 'zh-CN', 375], ['services', '/services', 'zh-CN', 1440],
    ['guide', `/services/${encodeURIComponent(code)}`, 'zh-CN', 375],
    ['guide', `/services/${encodeURIComponent(code)}`, 'zh-CN', 1440],
    ['home-elder', '/', 'elder', 375],
  ];

  it('saves full-page PNGs to artifacts/', async (t) => {
    for (const [name, p, mode, width] of shots()) {
      await t.test(`${name} ${width}px`, async () => {
        const context = await newContext(browser, portal.base, { mode, viewport: { width, height: 900 } });
        try {
          const page = await context.newPage();
          await open(page, portal.base + p);
          await page.evaluate(() => document.fonts.ready);
          const file = path.join(artifacts, `${name}-${width}.png`);
          const png = await page.screenshot({ path: file, fullPage: true });
          assert.ok(png.length > 10_000, `${file} looks empty (${png.length} bytes)`);
        } finally {
          await context.close();
        }
      });
    }
  });
});
