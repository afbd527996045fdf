// Elder mode (适老化) must work with JavaScript off: it is switched by a plain
// link in the top bar, kept in a cookie, and turned off by another link.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, launchBrowser, open } from './helpers.js';

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
    return { classes: [...body.classList], fontSize, lineHeight, navLinks, searchButtons, searchInputs };
  });
}

function assertElderSizes(m, where) {
  assert.ok(m.classes.includes('elder'), `${where}: body should have class "elder", has ${JSON.stringify(m.classes)}`);
  assert.ok(m.fontSize >= 24, `${where}: body font-size ${m.fontSize}px should be at least 24px (18pt)`);
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
    await Promise.all([page.waitForURL(`${portal.base}/`), link.click()]);
    assertElderSizes(await measure(), 'home');
    // The top bar now offers the way back.
    assert.equal(await page.getByRole('link', { name: '退出长者模式', exact: true }).count(), 1);
  });

  it('the setting persists to the next page', async () => {
    await Promise.all([
      page.waitForURL(`${portal.base}/services`),
      page.locator('.mainnav').getByRole('link', { name: '办事服务', exact: true }).click(),
    ]);
    assertElderSizes(await measure(), '/services');
    const cookies = await context.cookies(portal.base);
    assert.equal(cookies.find((c) => c.name === 'zb_elder')?.value, '1', 'zb_elder cookie should be set');
  });

  it('the 退出长者模式 link turns it off and returns to the same page', async () => {
    await Promise.all([
      page.waitForURL(`${portal.base}/services`),
      page.getByRole('link', { name: '退出长者模式', exact: true }).click(),
    ]);
    const m = await measure();
    assert.ok(!m.classes.includes('elder'), `body should leave elder mode, has ${JSON.stringify(m.classes)}`);
    assert.ok(m.fontSize < 24, `body font-size back to normal, got ${m.fontSize}px`);
    await open(page, `${portal.base}/themes`);
    assert.ok(!(await measure()).classes.includes('elder'), 'elder mode should stay off on the next page');
    assert.equal(await page.getByRole('link', { name: '长者模式', exact: true }).count(), 1);
  });
});
