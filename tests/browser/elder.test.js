// Elder mode (适老化) must work with JavaScript off: it is switched by a plain
// link in the top bar, kept in a cookie, and turned off by another link.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, launchBrowser, open, follow, ARTIFACTS, ensureArtifacts } from './helpers.js';

let portal;
let browser;
let context;
let page;

before(async () => {
  portal = await startPortal({ label: 'elder' });
  browser = await launchBrowser();
  context = await browser.newContext({
    javaScriptEnabled: false,
    locale: 'zh-CN',
    viewport: { width: 1280, height: 900 },
  });
  page = await context.newPage();
});

after(async () => {
  await context?.close();
  await browser?.close();
  await portal?.stop();
});

/** Computed sizes that the elder-mode rules promise, read without page scripts. */
async function measure() {
  // page.evaluate runs in Playwright's utility world, which works with page JS off.
  return page.evaluate(() => {
    const body = document.body;
    const cs = getComputedStyle(body);
    const fontSize = parseFloat(cs.fontSize);
    // "normal" would make the check meaningless: line-height must be explicit.
    const lineHeight = cs.lineHeight === 'normal' ? NaN : parseFloat(cs.lineHeight);
    const height = (el) => el.getBoundingClientRect().height;
    const navLinks = [...document.querySelectorAll('.mainnav a')].map((a) => ({ text: a.textContent.trim(), h: height(a) }));
    const searchButtons = [...document.querySelectorAll('form[role="search"] button[type="submit"]')].map(height);
    const searchInputs = [...document.querySelectorAll('form[role="search"] input[type="search"]')].map(height);
    const rootFontSize = parseFloat(getComputedStyle(document.documentElement).fontSize);
    return { classes: [...body.classList], rootFontSize, fontSize, lineHeight, navLinks, searchButtons, searchInputs };
  });
}

/** Visible text set smaller than 24px (18pt), with the offending elements named. */
function smallText() {
  return page.evaluate(() => {
    const out = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      if (!n.textContent.trim()) continue;
      const el = n.parentElement;
      const r = el.getBoundingClientRect();
      if (r.width <= 1 || r.height <= 1 || el.closest('[hidden], .visually-hidden, script, style')) continue;
      const cs = getComputedStyle(el);
      if (cs.visibility === 'hidden' || cs.display === 'none') continue;
      const size = parseFloat(cs.fontSize);
      if (size < 24) {
        const cls = el.classList.length ? `.${[...el.classList].join('.')}` : '';
        out.push(`${el.tagName.toLowerCase()}${cls} ${size}px "${n.textContent.trim().slice(0, 20)}"`);
      }
    }
    return [...new Set(out)];
  });
}

function assertElderSizes(m, where) {
  assert.ok(m.classes.includes('elder'), `${where}: body should have class "elder", has ${JSON.stringify(m.classes)}`);
  assert.ok(m.fontSize >= 24, `${where}: body font-size ${m.fontSize}px should be at least 24px (18pt)`);
  // Sizes in rem follow the root element: it must grow too, or headings and buttons stay small.
  assert.ok(m.rootFontSize >= 24, `${where}: root font-size ${m.rootFontSize}px should be at least 24px`);
  assert.ok(m.lineHeight >= 1.3 * m.fontSize,
    `${where}: line-height ${m.lineHeight}px should be at least 1.3 × ${m.fontSize}px`);
  assert.ok(m.navLinks.length >= 5, `${where}: expected the main navigation links, got ${m.navLinks.length}`);
  for (const l of m.navLinks) {
    assert.ok(l.h >= 60, `${where}: main-nav link "${l.text}" is ${l.h}px tall, should be at least 60px`);
  }
  assert.ok(m.searchButtons.length >= 1, `${where}: expected a search button`);
  for (const h of m.searchButtons) assert.ok(h >= 60, `${where}: search button is ${h}px tall, should be at least 60px`);
  for (const h of m.searchInputs) assert.ok(h >= 60, `${where}: search box is ${h}px tall, should be at least 60px`);
}

describe('elder mode without JavaScript', () => {
  it('is off by default', async () => {
    await open(page, `${portal.base}/`);
    const m = await measure();
    assert.ok(!m.classes.includes('elder'), 'body should not start in elder mode');
    assert.ok(m.fontSize < 24, `default body font-size is ${m.fontSize}px`);
  });

  it('the 长者模式 link turns it on, with large text and targets', async () => {
    await open(page, `${portal.base}/`);
    const link = page.getByRole('link', { name: '长者模式', exact: true });
    assert.equal((await follow(page, link)).href, `${portal.base}/`, 'back on the home page');
    assertElderSizes(await measure(), 'home');
    // The top bar now offers the way back.
    assert.equal(await page.getByRole('link', { name: '退出长者模式', exact: true }).count(), 1);
  });

  it('no visible text on home, /services or a guide is smaller than 18pt', async () => {
    const list = await (await fetch(`${portal.base}/api/v1/services?limit=1`)).json();
    for (const p of ['/', '/services', `/services/${encodeURIComponent(list.items[0].code)}`]) {
      await open(page, portal.base + p);
      assert.ok((await measure()).classes.includes('elder'));
      const small = await smallText();
      assert.equal(small.length, 0, `${p}: text below 24px in elder mode:\n  ${small.join('\n  ')}`);
    }
    await open(page, `${portal.base}/`);
  });

  it('the setting persists to the next page', async () => {
    const url = await follow(page, page.locator('.mainnav').getByRole('link', { name: '办事服务', exact: true }));
    assert.equal(url.pathname, '/services');
    assertElderSizes(await measure(), '/services');
    const cookies = await context.cookies(portal.base);
    assert.equal(cookies.find((c) => c.name === 'zb_elder')?.value, '1', 'zb_elder cookie should be set');
  });

  it('the 退出长者模式 link turns it off and returns to the same page', async () => {
    const url = await follow(page, page.getByRole('link', { name: '退出长者模式', exact: true }));
    assert.equal(url.href, `${portal.base}/services`, 'back on the same page');
    const m = await measure();
    assert.ok(!m.classes.includes('elder'), `body should leave elder mode, has ${JSON.stringify(m.classes)}`);
    assert.ok(m.fontSize < 24, `body font-size back to normal, got ${m.fontSize}px`);
    await open(page, `${portal.base}/themes`);
    assert.ok(!(await measure()).classes.includes('elder'), 'elder mode should stay off on the next page');
    assert.equal(await page.getByRole('link', { name: '长者模式', exact: true }).count(), 1);
  });
});

describe('elder mode on a 375 × 812 phone', () => {
  let phone;
  let p;
  before(async () => {
    await ensureArtifacts();
    phone = await browser.newContext({ javaScriptEnabled: false, locale: 'zh-CN', viewport: { width: 375, height: 812 } });
    p = await phone.newPage();
    await open(p, `${portal.base}/prefs?elder=1&next=%2F`);
  });
  after(async () => { await phone?.close(); });

  /** Whether the whole element lies on the first screen. */
  async function onFirstScreen(locator) {
    const box = await locator.first().boundingBox();
    return box !== null && box.y >= 0 && box.y + box.height <= 812;
  }

  it('the home page opens with its search box and the most used services', async () => {
    await open(p, `${portal.base}/`);
    assert.ok(await onFirstScreen(p.locator('#hero-q')), 'the search box');
    const tile = await p.locator('.elder-tile').first().boundingBox();
    assert.ok(tile.y + 60 <= 812, `the first service tile starts on the first screen (${tile.y})`);
    // Nothing scrolls sideways but the rows meant to.
    const wide = await p.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(wide <= 375, `page width ${wide}`);
    // My cases and the hotline are among the tiles, each a big target.
    const mine = await p.locator('.elder-tile-mine').boundingBox();
    assert.ok(mine.height >= 60, JSON.stringify(mine));
    assert.equal(await p.locator('.elder-tile-call').getAttribute('href'), 'tel:12345');
    await p.screenshot({ path: `${ARTIFACTS}/elder-home-375.png` });
  });

  it('a guide opens with its title and 在线申请', async () => {
    await open(p, `${portal.base}/search?q=${encodeURIComponent('身份证补领')}`);
    assert.ok(await onFirstScreen(p.locator('#search-q')), 'the search box on the search page');
    await follow(p, p.locator('#results .service-item a').first());
    assert.ok(await onFirstScreen(p.locator('#guide-title')), 'the title');
    assert.ok(await onFirstScreen(p.getByRole('link', { name: '在线申请' })), '在线申请');
    await p.screenshot({ path: `${ARTIFACTS}/elder-guide-375.png` });
  });
});
