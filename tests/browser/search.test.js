// Smart search in a real browser: suggestions as you type (JavaScript),
// and the page without JavaScript.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, launchBrowser } from './helpers.js';

describe('search', () => {
  let portal;
  let browser;
  before(async () => {
    portal = await startPortal();
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await portal?.stop();
  });

  it('suggests titles while typing pinyin initials', async () => {
    const context = await browser.newContext({ locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`${portal.base}/search`);
    const input = page.locator('#search-q');
    await input.pressSequentially('gjj', { delay: 30 });
    const option = page.locator('#search-suggestions option').first();
    await option.waitFor({ state: 'attached' });
    assert.match(await option.getAttribute('value'), /公积金/);
    await context.close();
  });

  it('works without JavaScript: colloquial query, highlight, did-you-mean', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false, locale: 'zh-CN' });
    const page = await context.newPage();
    await page.goto(`${portal.base}/search?q=${encodeURIComponent('驾使证换证')}`);
    assert.match(await page.locator('.did-you-mean').innerText(), /驾驶证换证/);
    const first = page.locator('.search-results .service-item-title a').first();
    assert.match(await first.innerText(), /驾驶证/);
    assert.ok(await page.locator('.search-results mark').count() > 0);
    await first.click();
    await page.waitForURL(/\/services\//);
    assert.match(await page.locator('h1').innerText(), /驾驶证/);
    await context.close();
  });
});
