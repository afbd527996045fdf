// 好差评 end to end in a real browser (issue #18): a counter clerk texts a
// visitor the link to rate the visit (一次一评); the visitor, on an old phone
// in elder mode, gives a bad rating — refused at first without a reason,
// with nothing chosen lost — then the unit puts it right and calls back, and
// the visitor reads the outcome and appeals once in English; the public
// figures. Every page is checked with axe in normal, elder and en modes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startPortal, launchBrowser, newContext, open, signIn, follow, axeViolations, formatViolations, totpCode,
} from './helpers.js';

const PHONE = '13800138077';

let portal;
let browser;
let staff;
let clerk;
let link;

/** A counter clerk of 户政管理总队, made by the administrator, signed in
 * for the first time (authenticator, own password). */
async function counterClerk() {
  await open(staff, `${portal.base}/admin/staff/new`);
  await staff.locator('#f-username').fill('hz.window01');
  await staff.locator('#f-display_name').fill('窗口 01 号 王晓敏');
  const unit = staff.locator('#f-unit_id');
  await unit.selectOption(await unit.locator('option', { hasText: '户政管理总队' }).first().getAttribute('value'));
  await staff.getByLabel('办件人员', { exact: true }).check();
  await staff.locator('#f-password').fill('Init1al!pw');
  await follow(staff, staff.getByRole('button', { name: '保存', exact: true }));
  const page = await (await newContext(browser, portal.base, { mode: 'zh-CN' })).newPage();
  await open(page, `${portal.base}/admin/login`);
  await page.locator('#username').fill('hz.window01');
  await page.locator('#password').fill('Init1al!pw');
  await follow(page, page.locator('form[action="/admin/login"] button[type="submit"]'));
  const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
  await page.locator('#code').fill(totpCode(secret, Math.floor(Date.now() / 30000)));
  await follow(page, page.locator('form[action="/admin/login/verify"] button[type="submit"]'));
  await page.locator('#current_password').fill('Init1al!pw');
  await page.locator('#password').fill('Own!chos3n');
  await page.locator('#password_again').fill('Own!chos3n');
  await follow(page, page.getByRole('button', { name: '保存新密码' }));
  return page;
}

before(async () => {
  portal = await startPortal({ label: 'ratings' });
  browser = await launchBrowser();
  staff = await (await newContext(browser, portal.base, { mode: 'zh-CN' })).newPage();
  await signIn(staff, portal.base);
  clerk = await counterClerk();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

async function expectAccessible(page) {
  const v = await axeViolations(page);
  assert.equal(v.length, 0, `axe on ${page.url()}:\n${formatViolations(v)}`);
}

/** The rating link texted to PHONE, read from the development outbox. */
async function linkFromOutbox() {
  for (let i = 0; i < 40; i += 1) {
    await open(staff, `${portal.base}/admin/sms`);
    const rows = await staff.locator('table.data tbody tr').allInnerTexts();
    const row = rows.find((r) => r.includes('/rate/'));
    if (row) return new URL(row.match(/https?:\/\/\S+\/rate\/[0-9a-f]+/)[0]).pathname;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('no rating link in the outbox');
}

describe('一次一评 at a counter, a bad rating put right', () => {
  it('a clerk texts the visitor the link to rate the visit', async () => {
    await open(clerk, `${portal.base}/admin/ratings`);
    await expectAccessible(clerk);
    await follow(clerk, clerk.getByRole('link', { name: '邀请窗口评价' }));
    await expectAccessible(clerk);
    await clerk.getByLabel(/办事群众手机号码/).fill('1380013');
    await follow(clerk, clerk.getByRole('button', { name: '发送评价短信' }));
    await clerk.locator('#error-summary').waitFor();
    assert.equal(await clerk.getByLabel(/办事群众手机号码/).inputValue(), '1380013', 'kept as typed');
    await expectAccessible(clerk);
    await clerk.getByLabel(/办事群众手机号码/).fill(PHONE);
    await clerk.getByLabel('办理事项').selectOption({ label: '居民身份证补领' });
    await follow(clerk, clerk.getByRole('button', { name: '发送评价短信' }));
    assert.match(await clerk.getByRole('status').innerText(), /评价短信已发送/);
    link = await linkFromOutbox();
  });

  it('on an old phone in elder mode, a bad rating needs a reason and nothing chosen is lost', async () => {
    const ctx = await newContext(browser, portal.base, {
      mode: 'elder', viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true,
    });
    const page = await ctx.newPage();
    await open(page, portal.base + link);
    assert.match(await page.locator('h1').innerText(), /窗口服务评价/);
    await expectAccessible(page);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `no sideways scrolling (${overflow}px)`);
    await page.getByLabel('非常不满意').check();
    await follow(page, page.getByRole('button', { name: '提交评价' }));
    await page.locator('#error-summary').waitFor();
    assert.match(await page.locator('#error-summary').innerText(), /请选择需要改进的问题/);
    assert.ok(await page.getByLabel('非常不满意').isChecked(), 'the level is still chosen');
    await expectAccessible(page);
    await page.getByLabel('等待时间长').check();
    await page.getByLabel('评价内容').fill('取号后等了一个半小时，只开了一个窗口。');
    await follow(page, page.getByRole('button', { name: '提交评价' }));
    const text = await page.locator('main').innerText();
    assert.match(text, /感谢您的评价/);
    assert.match(text, /待核实/);
    await expectAccessible(page);
    await ctx.close();
  });

  it('the unit fixes it and records the call-back', async () => {
    await open(clerk, `${portal.base}/admin/ratings`);
    // Today's (the demo's own bad ratings are older).
    const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
    await follow(clerk, clerk.locator('table.data tbody tr').filter({ hasText: today }).first().getByRole('link'));
    assert.match(await clerk.locator('main').innerText(), /只开了一个窗口/);
    await expectAccessible(clerk);
    await clerk.getByLabel('整改完成').check();
    await follow(clerk, clerk.getByRole('button', { name: '提交', exact: true }));
    await clerk.locator('#error-summary').waitFor();
    await clerk.getByLabel('整改完成').check();
    await clerk.getByLabel('说明', { exact: true }).fill('高峰时段增开两个窗口，并在大厅公示叫号情况。');
    await follow(clerk, clerk.getByRole('button', { name: '提交', exact: true }));
    assert.match(await clerk.getByRole('status').innerText(), /已记录整改情况/);
    assert.match(await clerk.locator('main').innerText(), /待回访/);
    await clerk.getByLabel('说明', { exact: true }).fill('电话回访，群众表示认可。');
    await follow(clerk, clerk.getByRole('button', { name: '提交', exact: true }));
    assert.match(await clerk.locator('main').innerText(), /已办结/);
    await expectAccessible(clerk);
  });

  it('the visitor reads the outcome in English and appeals once', async () => {
    const ctx = await newContext(browser, portal.base, { mode: 'en' });
    const page = await ctx.newPage();
    await open(page, portal.base + link);
    const text = await page.locator('main').innerText();
    assert.match(text, /What was done/);
    assert.match(text, /增开两个窗口/);
    await expectAccessible(page);
    await page.getByLabel(/appeal once/).fill('今天去还是只开了一个窗口。');
    await follow(page, page.getByRole('button', { name: 'Appeal', exact: true }));
    assert.match(await page.getByRole('status').innerText(), /appeal has been sent/);
    assert.equal(await page.getByRole('button', { name: 'Appeal', exact: true }).count(), 0, 'only once');
    await expectAccessible(page);
    await ctx.close();
  });

  it('the public figures read well in every mode', async () => {
    for (const mode of ['zh-CN', 'elder', 'en']) {
      const ctx = await newContext(browser, portal.base, { mode });
      const page = await ctx.newPage();
      await open(page, `${portal.base}/ratings`);
      assert.ok(await page.locator('table.data').count() >= 2, `tables in ${mode}`);
      await expectAccessible(page);
      await ctx.close();
    }
  });
});
