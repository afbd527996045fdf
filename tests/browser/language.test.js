// The language links in the top bar switch the whole interface and the
// <html lang> attribute; the choice is kept for the next pages.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, launchBrowser, open, follow } from './helpers.js';

let portal;
let browser;

before(async () => {
  portal = await startPortal({ label: 'lang' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

const navTexts = (page) => page.locator('.mainnav a').allTextContents().then((a) => a.map((s) => s.trim()));
const htmlLang = (page) => page.locator('html').getAttribute('lang');

describe('language switch', () => {
  let context;
  let page;

  before(async () => {
    context = await browser.newContext({ locale: 'zh-CN' });
    page = await context.newPage();
  });
  after(async () => { await context?.close(); });

  it('starts in Simplified Chinese', async () => {
    await open(page, `${portal.base}/`);
    assert.equal(await htmlLang(page), 'zh-Hans');
    assert.ok((await navTexts(page)).includes('办事服务'));
  });

  it('the English link switches to English', async () => {
    const link = page.locator('.prefs').getByRole('link', { name: 'English', exact: true });
    assert.equal(await link.getAttribute('lang'), 'en', 'the language link is marked with its own language');
    assert.equal((await follow(page, link)).href, `${portal.base}/`);
    assert.equal(await htmlLang(page), 'en');
    const nav = await navTexts(page);
    assert.ok(nav.includes('Services'), `nav should read "Services": ${JSON.stringify(nav)}`);
    assert.ok(!nav.some((t) => /[\u4e00-\u9fff]/.test(t)), `no Chinese left in the nav: ${JSON.stringify(nav)}`);
    // The current language is shown, not linked.
    await assert.doesNotReject(page.locator('.prefs [aria-current="true"]', { hasText: 'English' }).waitFor());
  });

  it('English is kept on the next page', async () => {
    const url = await follow(page, page.locator('.mainnav').getByRole('link', { name: 'Services', exact: true }));
    assert.equal(url.pathname, '/services');
    assert.equal(await htmlLang(page), 'en');
    assert.match(await page.locator('h1').innerText(), /[A-Za-z]/);
  });

  it('繁體中文 switches to Traditional Chinese (Hong Kong)', async () => {
    const url = await follow(page, page.locator('.prefs').getByRole('link', { name: '繁體中文', exact: true }));
    assert.equal(url.href, `${portal.base}/services`);
    assert.equal(await htmlLang(page), 'zh-Hant-HK');
    const nav = await navTexts(page);
    assert.ok(nav.includes('辦事服務'), `nav should read 辦事服務: ${JSON.stringify(nav)}`);
    assert.ok(!nav.includes('办事服务'), 'no simplified 办事服务 in the nav');
    const bodyText = await page.locator('body').innerText();
    assert.ok(bodyText.includes('辦事服務'), 'traditional text in the page');
  });

  it('简体中文 switches back', async () => {
    const url = await follow(page, page.locator('.prefs').getByRole('link', { name: '简体中文', exact: true }));
    assert.equal(url.href, `${portal.base}/services`);
    assert.equal(await htmlLang(page), 'zh-Hans');
    assert.ok((await navTexts(page)).includes('办事服务'));
  });
});

describe('default language from Accept-Language', () => {
  for (const [locale, lang, services] of [
    ['en-GB', 'en', 'Services'],
    ['zh-HK', 'zh-Hant-HK', '辦事服務'],
    ['fr-FR', 'zh-Hans', '办事服务'],
  ]) {
    it(`${locale} → ${lang}`, async () => {
      const context = await browser.newContext({ locale });
      try {
        const page = await context.newPage();
        await open(page, `${portal.base}/`);
        assert.equal(await htmlLang(page), lang);
        assert.ok((await navTexts(page)).includes(services));
      } finally {
        await context.close();
      }
    });
  }
});
