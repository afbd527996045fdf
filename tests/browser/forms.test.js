// What people hit in forms (#15): Enter runs each form's main action, in
// every form of the site; errors name their field and nothing typed is
// lost; a phone number is taken the way people type it.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  startPortal, launchBrowser, newContext, open, signIn, follow, guideCode, axeViolations, formatViolations,
} from './helpers.js';

let portal;
let browser;
let staffPage;
let code;
const PHONE = '13800138011';
const PASSWORD = 'Citiz3n!pw';

before(async () => {
  portal = await startPortal({ label: 'forms' });
  browser = await launchBrowser();
  code = await guideCode(portal.base);
  const staff = await newContext(browser, portal.base, { mode: 'zh-CN' });
  staffPage = await staff.newPage();
  await signIn(staffPage, portal.base);
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

/** A valid one-page PDF of about `size` bytes (as zhiban_store::files::padded_pdf). */
function paddedPdf(size) {
  const filler = '0'.repeat(Math.max(0, size - 400));
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] /Contents 4 0 R >>',
    `<< /Length ${filler.length} >>\nstream\n${filler}\nendstream`,
  ];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objects.forEach((o, i) => {
    offsets.push(out.length);
    out += `${i + 1} 0 obj\n${o}\nendobj\n`;
  });
  const xref = out.length;
  const n = objects.length + 1;
  out += `xref\n0 ${n}\n0000000000 65535 f \n`;
  for (const o of offsets) out += `${String(o).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${n} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** The newest code in the development SMS outbox, as staff see it. */
async function codeFromOutbox() {
  await open(staffPage, `${portal.base}/admin/sms`);
  const body = await staffPage.locator('table.data tbody tr').first().innerText();
  return body.match(/\b(\d{6})\b/)[1];
}

/**
 * Forms on the page where Enter would run something other than the main
 * action: the browser runs a form's first submit button, so that one must
 * not be a secondary one (获取验证码, 上一步, 暂存, 使用电子证照 …) when the
 * form has several.
 */
async function enterTraps(page) {
  return page.evaluate(() => {
    const traps = [];
    for (const form of document.forms) {
      const buttons = [...form.elements].filter(
        (e) => (e.tagName === 'BUTTON' && e.type === 'submit') || (e.tagName === 'INPUT' && e.type === 'submit'),
      );
      const typing = [...form.elements].some((e) => e.tagName === 'INPUT'
        && !['hidden', 'submit', 'button', 'file'].includes(e.type));
      if (buttons.length < 2 || !typing) continue;
      const first = buttons[0];
      const secondary = first.classList.contains('button-secondary')
        || first.classList.contains('button-warning')
        || first.hasAttribute('formaction')
        || ['back', 'save'].includes(first.value)
        || first.value.startsWith('license:') || first.value.startsWith('unlicense:');
      if (secondary) traps.push(`${form.getAttribute('action')}: Enter runs “${first.textContent.trim()}”`);
    }
    return traps;
  });
}

async function expectNoTraps(page, url) {
  await open(page, url);
  assert.deepEqual(await enterTraps(page), [], url);
}

describe('Enter runs the main action', () => {
  let context;
  let page;
  before(async () => {
    context = await newContext(browser, portal.base, { mode: 'zh-CN' });
    page = await context.newPage();
  });
  after(async () => { await context?.close(); });

  it('in every public form', async () => {
    for (const path of ['/', '/services', `/search?q=${encodeURIComponent('身份证')}`, '/progress', '/login',
      '/login?method=sms', '/register', '/reset', `/services/${encodeURIComponent(code)}`]) {
      await expectNoTraps(page, portal.base + path);
    }
  });

  it('on /register every problem is reported at once, each at its field', async () => {
    await open(page, `${portal.base}/register`);
    await page.locator('#r-phone').fill('139 1234');
    await page.locator('#r-password').fill('short');
    await page.locator('#r-password_again').fill('shorter');
    await follow(page, page.getByRole('button', { name: '注册', exact: true }));
    const items = await page.locator('#error-summary li').allInnerTexts();
    for (const field of ['手机号码', '短信验证码', '密码', '隐私政策']) {
      assert.ok(items.some((t) => t.includes(field)), `${field} in ${JSON.stringify(items)}`);
    }
    for (const id of ['r-phone', 'r-sms_code', 'r-password', 'r-password_again']) {
      assert.equal(await page.locator(`#${id}`).getAttribute('aria-invalid'), 'true', id);
    }
    assert.equal(await page.locator('#r-phone').inputValue(), '139 1234', 'the phone is kept');
    const v = await axeViolations(page);
    assert.equal(v.length, 0, formatViolations(v));
  });

  it('on /register: Enter in a password field registers (and keeps the code)', async () => {
    await open(page, `${portal.base}/register`);
    await page.locator('#r-phone').fill(PHONE);
    // Enter in the phone field of the same form still registers: the code
    // has its own button.
    await follow(page, page.getByRole('button', { name: '获取短信验证码' }));
    await page.getByRole('status').filter({ hasText: '验证码已发送' }).waitFor();
    const sms = await codeFromOutbox();
    await page.locator('#r-sms_code').fill(sms);
    await page.locator('#r-password').fill(PASSWORD);
    await page.locator('#r-password_again').fill(PASSWORD);
    await Promise.all([page.waitForNavigation(), page.locator('#r-password_again').press('Enter')]);
    // Registration ran (and wants the privacy notice accepted); no new code
    // was sent and the code typed is still there.
    const summary = await page.locator('#error-summary').innerText();
    assert.match(summary, /隐私政策/);
    assert.match(summary, /密码需要重新输入/, 'the banner says what was not kept');
    assert.equal(await page.locator('#r-sms_code').inputValue(), sms);
    assert.equal(await page.locator('#r-phone').inputValue(), PHONE);
    await page.locator('#r-password').fill(PASSWORD);
    await page.locator('#r-password_again').fill(PASSWORD);
    await page.getByLabel(/我已阅读并同意/).check();
    await Promise.all([page.waitForURL(/\/account/), page.locator('#r-password_again').press('Enter')]);
  });

  it('in the account page: 实名认证 names each field and keeps what was typed', async () => {
    await open(page, `${portal.base}/account`);
    await page.locator('#a-person_name').fill('张3');
    await page.locator('#a-id_number').fill('110105194912310021');
    await Promise.all([page.waitForNavigation(), page.locator('#a-id_number').press('Enter')]);
    const summary = await page.locator('#error-summary').innerText();
    assert.match(summary, /姓名：请填写身份证上的姓名/);
    assert.match(summary, /身份证号码：/);
    assert.match(await page.locator('#e-a-person_name').innerText(), /身份证上的姓名/);
    assert.match(await page.locator('#e-a-id_number').innerText(), /身份证号码|校验/);
    assert.equal(await page.locator('#a-person_name').inputValue(), '张3');
    assert.equal(await page.locator('#a-id_number').inputValue(), '110105194912310021');
    const v = await axeViolations(page);
    assert.equal(v.length, 0, formatViolations(v));
    await page.locator('#a-person_name').fill('张三');
    await page.locator('#a-id_number').fill('11010519491231002X');
    await follow(page, page.getByRole('button', { name: '提交核验' }));
    assert.match(await page.locator('main').innerText(), /L2/);
    await expectNoTraps(page, `${portal.base}/account`);
  });

  it('in the application wizard: Enter goes forward, never back or to 暂存', async () => {
    const path = `${portal.base}/apply/${encodeURIComponent(code)}`;
    await expectNoTraps(page, path);
    await page.locator('[name="address.province"]').fill('重庆市');
    await page.locator('[name="address.city"]').fill('渝州市');
    await page.locator('[name="address.district"]').fill('渝中区');
    await page.locator('[name="address.detail"]').fill('解放碑街道民族路 1 号');
    await Promise.all([
      page.waitForURL(/page=1/),
      page.locator('[name="address.detail"]').press('Enter'),
    ]);
    await expectNoTraps(page, `${path}?page=1`);
    // Enter on a radio button: forward (or this page's problems), not back.
    const radio = page.locator('input[type="radio"]').first();
    await radio.check();
    await Promise.all([page.waitForNavigation(), radio.press('Enter')]);
    const now = new URL(page.url());
    assert.notEqual(now.searchParams.get('page'), '0', `Enter went back: ${now}`);
    assert.ok(now.pathname.startsWith('/apply/'), now.pathname);
    await expectNoTraps(page, `${path}?page=2`);
    await expectNoTraps(page, `${path}?page=3`);
  });

  it('uploads in elder mode on a phone: a big target, the limit up front, the file named after', async () => {
    const path = `${portal.base}/apply/${encodeURIComponent(code)}`;
    await open(page, `${portal.base}/prefs?elder=1&next=${encodeURIComponent('/')}`);
    await page.setViewportSize({ width: 375, height: 812 });
    try {
      // The materials page (after the two pages of answers).
      await open(page, `${path}?page=2`);
      const input = page.locator('input[type="file"]').first();
      const box = await input.boundingBox();
      const column = await page.locator('.upload').first().boundingBox();
      assert.ok(box.height >= 60 && box.width >= column.width * 0.95, `target ${JSON.stringify(box)} in ${JSON.stringify(column)}`);
      const rules = await page.locator('.upload-rules').first().innerText();
      assert.match(rules, /不超过 10 MB/, 'the limit is stated before uploading');
      // Too big: said at once, nothing sent.
      await input.setInputFiles({ name: '户口簿.jpg', mimeType: 'image/jpeg', buffer: Buffer.alloc(11 * 1024 * 1024, 1) });
      const said = page.locator('.upload-chosen').first();
      assert.match(await said.innerText(), /户口簿\.jpg（11\.0 MB）超过 10 MB/);
      assert.equal(await input.evaluate((i) => i.files.length), 0, 'the file is not kept for upload');
      // A real scan: named before and after it is sent.
      const png = await readFile(new URL('../../crates/zhiban-testing/fixtures/photo.png', import.meta.url));
      await input.setInputFiles({ name: '户口簿.png', mimeType: 'image/png', buffer: png });
      assert.match(await said.innerText(), /已选择：户口簿\.png/);
      await follow(page, page.getByRole('button', { name: '暂存' }));
      const list = page.locator('.file-list').first();
      assert.match(await list.innerText(), /户口簿\.png/);
      assert.equal(await list.getByRole('button', { name: /删除/ }).count(), 1);
      assert.match(await page.locator('.upload-more').first().innerText(), /再添加一个文件/);
      // Going on without the other required material names it.
      await follow(page, page.getByRole('button', { name: '保存并继续' }));
      const summary = await page.locator('#error-summary').innerText();
      assert.match(summary, /相片回执[^\n]*：请上传此项材料|：请上传此项材料/);
      assert.doesNotMatch(summary, /^请上传此项材料$/m, 'every problem names its material');
      const v = await axeViolations(page);
      assert.equal(v.length, 0, formatViolations(v));
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
      await open(page, `${portal.base}/prefs?elder=0&next=${encodeURIComponent('/')}`);
    }
  });

  it('a large upload shows its progress on a slow line, then lands like a plain post', async () => {
    const path = `${portal.base}/apply/${encodeURIComponent(code)}`;
    await open(page, `${path}?page=2`);
    const cdp = await page.context().newCDPSession(page);
    // About 1 MB/s up: a 3 MB scan takes a few seconds.
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false, latency: 20, downloadThroughput: -1, uploadThroughput: 1024 * 1024,
    });
    try {
      await page.locator('input[type="file"]').first().setInputFiles({
        name: '户口簿扫描件.pdf', mimeType: 'application/pdf', buffer: paddedPdf(3 * 1024 * 1024),
      });
      await page.getByRole('button', { name: '暂存' }).click();
      const bar = page.locator('.upload-progress progress');
      await bar.waitFor({ state: 'visible' });
      await page.locator('.upload-progress p').filter({ hasText: /正在上传 \d+%/ }).waitFor();
      assert.equal(await page.getByRole('button', { name: '暂存' }).isDisabled(), true, 'no second click while it runs');
      // Then the page the server answered, with the scan listed.
      await page.locator('.file-list').filter({ hasText: '户口簿扫描件.pdf' }).waitFor({ timeout: 20_000 });
      assert.equal(await page.locator('.upload-progress').count(), 0, 'a fresh page, not the old one');
    } finally {
      await cdp.send('Network.emulateNetworkConditions', {
        offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
      });
      await cdp.detach();
    }
  });

  it('in every staff form', async () => {
    const pages = ['/admin/services', `/admin/services/${encodeURIComponent(code)}/edit`,
      `/admin/services/${encodeURIComponent(code)}/form`, '/admin/search', '/admin/staff', '/admin/staff/new',
      '/admin/roles/new', '/admin/org', '/admin/oidc', '/admin/cases', '/admin/notify', '/admin/licenses',
      '/admin/licenses/new?type=id_card', '/admin/licenses/types', '/admin/account', '/admin/import', '/admin/sms',
      '/admin/citizens?phone=13800138000'];
    for (const path of pages) {
      await open(staffPage, portal.base + path);
      assert.deepEqual(await enterTraps(staffPage), [], path);
    }
  });
});

describe('phone numbers as people type them', () => {
  it('/progress takes “139 1234 5678” whole', async () => {
    const context = await newContext(browser, portal.base, { mode: 'zh-CN' });
    try {
      const page = await context.newPage();
      await open(page, `${portal.base}/progress`);
      await page.locator('#p-phone').fill('+86 139 1234 5678');
      assert.equal(await page.locator('#p-phone').inputValue(), '+86 139 1234 5678');
    } finally {
      await context.close();
    }
  });
});

describe('results before filters', () => {
  it('on a 375 px phone the first result is on the first screen, filters folded above', async () => {
    const context = await newContext(browser, portal.base, { mode: 'zh-CN', viewport: { width: 375, height: 812 } });
    try {
      const page = await context.newPage();
      for (const path of [`/search?q=${encodeURIComponent('身份证')}`, '/services']) {
        await open(page, portal.base + path);
        const first = await page.locator('#results .service-item').first().boundingBox();
        assert.ok(first && first.y + 40 < 812, `${path}: first result at ${first?.y}`);
        assert.equal(await page.locator('details.filters').getAttribute('open'), null, `${path}: folded`);
        // One tap opens them.
        await page.locator('details.filters summary').click();
        assert.notEqual(await page.locator('details.filters').getAttribute('open'), null);
      }
    } finally {
      await context.close();
    }
  });

  it('on a desktop the filters are open beside the results, and a keyboard skips them', async () => {
    const context = await newContext(browser, portal.base, { mode: 'zh-CN', viewport: { width: 1440, height: 900 } });
    try {
      const page = await context.newPage();
      await open(page, `${portal.base}/search?q=${encodeURIComponent('身份证')}`);
      assert.notEqual(await page.locator('details.filters').getAttribute('open'), null);
      // From the search button, Tab reaches the skip link, which lands on
      // the results.
      await page.locator('.page-search button[type="submit"]').focus();
      let found = false;
      for (let i = 0; i < 15 && !found; i++) {
        await page.keyboard.press('Tab');
        found = await page.evaluate(() => document.activeElement?.getAttribute('href') === '#results');
      }
      assert.ok(found, 'a skip link to the results');
      await page.keyboard.press('Enter');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'results');
      await page.keyboard.press('Tab');
      assert.match(await page.evaluate(() => document.activeElement?.closest('.service-item') ? 'result' : document.activeElement?.outerHTML), /^result$/);
      const v = await axeViolations(page);
      assert.equal(v.length, 0, formatViolations(v));
    } finally {
      await context.close();
    }
  });
});

describe('staff pages on a phone', () => {
  it('have a staff header of their own and nothing wider than the screen', async () => {
    await staffPage.setViewportSize({ width: 375, height: 812 });
    try {
      for (const path of ['/admin/services', '/admin/cases', '/admin/staff', '/admin/search']) {
        await open(staffPage, portal.base + path);
        const wide = await staffPage.evaluate(() => document.documentElement.scrollWidth);
        const culprits = await staffPage.evaluate(() => [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > 376 && (!(e.parentElement && e.parentElement.closest('.table-wrap')) || getComputedStyle(e).position !== 'static'))
          .slice(0, 6).map((e) => `${e.tagName}.${e.className} ${Math.round(e.getBoundingClientRect().right)}`));
        assert.ok(wide <= 375, `${path}: ${wide} px wide: ${culprits.join(', ')}`);
        assert.equal(await staffPage.locator('.staff-head').count(), 1, path);
        assert.equal(await staffPage.locator('a[href="/my/cases"]').count(), 0, `${path}: no citizen links`);
      }
    } finally {
      await staffPage.setViewportSize({ width: 1280, height: 900 });
    }
  });
});


describe('what the browser receives', () => {
  it('hot searches ignore one address searching an advert 35 times', async () => {
    const context = await newContext(browser, portal.base, { mode: 'zh-CN' });
    try {
      const page = await context.newPage();
      const ad = '身份证代办加微信abc123';
      for (let i = 0; i < 35; i++) {
        await page.goto(`${portal.base}/search?q=${encodeURIComponent(ad)}`);
      }
      for (const path of ['/', `/search?q=${encodeURIComponent('护照')}`]) {
        await open(page, portal.base + path);
        const hot = await page.locator('.hot a').allInnerTexts();
        assert.ok(hot.length > 0, `${path}: hot searches shown`);
        assert.ok(!hot.some((h) => h.includes('微信')), `${path}: ${hot}`);
      }
    } finally {
      await context.close();
    }
  });

  it('text comes compressed and assets are cached for a year; English pages mark Chinese content', async () => {
    const context = await newContext(browser, portal.base, { mode: 'en' });
    try {
      const page = await context.newPage();
      const seen = {};
      page.on('response', (r) => { seen[new URL(r.url()).pathname] = r.headers(); });
      await open(page, `${portal.base}/services/${encodeURIComponent(code)}`);
      assert.match(seen[`/services/${code}`]?.['content-encoding'] ?? '', /br|gzip/);
      const css = seen['/assets/site.css'];
      assert.ok(css, 'the stylesheet was loaded');
      assert.match(css['content-encoding'] ?? '', /br|gzip/);
      assert.equal(css['cache-control'], 'public, max-age=31536000, immutable');
      assert.equal(await page.locator('html').getAttribute('lang'), 'en');
      // The item's English name heads the page; its Chinese name and the
      // guide's Chinese text are marked as such.
      assert.equal(await page.locator('#guide-title').getAttribute('lang'), null);
      assert.equal(await page.locator('.guide-name-zh').getAttribute('lang'), 'zh-Hans');
      const v = await axeViolations(page);
      assert.equal(v.length, 0, formatViolations(v));
    } finally {
      await context.close();
    }
  });
});
