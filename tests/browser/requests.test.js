// 政民互动 end to end in a real browser (issue #17): a citizen starts
// writing about a fire and is shown 119 before anything is sent, then
// writes a noise complaint; the hotline dispatches it with the router's
// category, the unit signs and answers, the citizen rates the answer; the
// new pages have no axe violations in normal, elder and English modes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startPortal, launchBrowser, newContext, open, signIn, follow, axeViolations, formatViolations,
  registerCitizen, prefCookies, totpCode,
} from './helpers.js';

const PHONE = '13800138177';
const PASSWORD = 'Citiz3n!pw';
const NOISE = '观音桥建新北路的烧烤店每天晚上外放音响到凌晨两点，吵得孩子根本睡不着，希望管一管';
const ANSWER = '经执法人员连续三晚夜间巡查，已责令该烧烤店停止外放音响，并纳入夜间重点巡查。';

let portal;
let browser;
let staff;
let citizen;
let number;

before(async () => {
  portal = await startPortal({ label: 'requests' });
  browser = await launchBrowser();
  staff = await (await newContext(browser, portal.base, { mode: 'zh-CN' })).newPage();
  await signIn(staff, portal.base);
  citizen = await (await newContext(browser, portal.base, { mode: 'zh-CN' })).newPage();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

async function expectAccessible(page) {
  const v = await axeViolations(page);
  assert.equal(v.length, 0, `axe on ${page.url()}:\n${formatViolations(v)}`);
}

async function staffStep(action, fill = async () => {}) {
  await open(staff, `${portal.base}/admin/requests/${number}`);
  const form = staff.locator(`form:has(input[name="action"][value="${action}"])`);
  const details = staff.locator('details.action').filter({ has: form });
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
  await fill(form);
  await follow(staff, form.locator('button[type="submit"]'));
  await staff.getByRole('status').first().waitFor();
}

describe('a request from the citizen to the unit and back', () => {
  it('shows the emergency lines while the person types, before anything is sent', async () => {
    await registerCitizen(citizen, staff, portal.base, PHONE, PASSWORD);

    await open(citizen, `${portal.base}/requests`);
    await expectAccessible(citizen);
    await follow(citizen, citizen.getByRole('link', { name: '投诉' }).first());
    const banner = citizen.locator('#emergency-banner');
    assert.equal(await banner.isVisible(), false);
    await citizen.locator('#q-request_body').fill('我家楼下着火了，烟好大');
    await banner.waitFor({ state: 'visible' });
    assert.match(await banner.innerText(), /119/);
    await expectAccessible(citizen);
    await citizen.locator('#q-request_body').fill(NOISE);
    await banner.waitFor({ state: 'hidden' });
  });

  it('files a complaint with its place and shows the number and the deadline', async () => {
    await citizen.getByLabel('投诉').check();
    // A tap on the district map sets the point and chooses its district;
    // the arrow keys move it; a street of that district is kept.
    const map = citizen.getByRole('application', { name: '地图选点' });
    await map.scrollIntoViewIfNeeded();
  const label = await map.locator('text.district-label', { hasText: '江北区' }).boundingBox();
    await citizen.mouse.click(label.x + label.width / 2, label.y + label.height / 2);
    const point = citizen.locator('input[data-point]');
    const tapped = await point.inputValue();
    assert.match(tapped, /^29\.\d{6},106\.\d{6}$/);
    const district = await citizen.locator('#q-request_place').inputValue();
    assert.equal(
      await citizen.locator(`#q-request_place option[value="${district}"]`).innerText(),
      '江北区（街道不确定）',
    );
    await map.focus();
    await citizen.keyboard.press('ArrowRight');
    assert.ok(Number((await point.inputValue()).split(',')[1]) > Number(tapped.split(',')[1]), 'moved east');
    await citizen.locator('#q-request_place').selectOption({ label: '江北区 观音桥街道' });
    await citizen.locator('#q-address').fill('建新北路 66 号');
    await citizen.locator('#q-contact_name').fill('王先生');
    await citizen.getByLabel(/同意在“公开选登”中公开/).check();
    await follow(citizen, citizen.getByRole('button', { name: '提交诉求' }));
    await citizen.getByRole('heading', { name: '诉求已提交' }).waitFor();
    number = (await citizen.locator('.case-number').innerText()).trim();
    assert.match(number, /^SQ\d{13}$/);
    await expectAccessible(citizen);
  });

  it('lets the hotline dispatch it with the proposed category and the unit answer it', async () => {
    await open(staff, `${portal.base}/admin/requests`);
    await staff.getByRole('link', { name: number }).waitFor();
    await expectAccessible(staff);
    await open(staff, `${portal.base}/admin/requests/${number}`);
    assert.match(await staff.locator('#prop-title + ul').innerText(), /噪声扰民/);
    assert.match(await staff.locator('.point-text').innerText(), /^29\.\d{5},106\.\d{5}$/);
    await staff.getByRole('img', { name: /地图上标出的位置/ }).waitFor();
    await expectAccessible(staff);
    await staffStep('dispatch');
    assert.match(await staff.locator('dl.kv').first().innerText(), /渝州市城市管理局/);
    await staffStep('sign');
    await staffStep('answer', (form) => form.locator('textarea[name="reason"]').fill(ANSWER));
    assert.match(await staff.locator('dl.kv').first().innerText(), /已答复/);
  });

  it('lets the citizen read the answer and rate it', async () => {
    await open(citizen, `${portal.base}/my/requests`);
    await follow(citizen, citizen.getByRole('link', { name: /烧烤店/ }));
    assert.match(await citizen.locator('#answer-title + p').innerText(), /夜间巡查/);
    await expectAccessible(citizen);
    await citizen.getByLabel('基本满意').check();
    await follow(citizen, citizen.getByRole('button', { name: '提交评价' }));
    await citizen.getByText('感谢您的评价，诉求已办结。').waitFor();
    assert.match(await citizen.locator('dl.kv').innerText(), /已办结/);
  });

  for (const mode of ['elder', 'en']) {
    it(`keeps the signed-in request pages accessible in ${mode} mode`, async () => {
      await citizen.context().addCookies(prefCookies(portal.base, mode));
      for (const path of ['/requests/new', '/my/requests', `/my/requests/${number}`]) {
        await open(citizen, `${portal.base}${path}`);
        await expectAccessible(citizen);
      }
    });

    it(`has no axe violations on the new pages in ${mode} mode`, async () => {
      const ctx = await newContext(browser, portal.base, { mode });
      const page = await ctx.newPage();
      for (const path of ['/requests', '/login?next=/requests/new']) {
        await open(page, `${portal.base}${path}`);
        await expectAccessible(page);
      }
      // A published answer from the demo hotline.
      await open(page, `${portal.base}/requests`);
      await follow(page, page.locator('ul.history a').first());
      await expectAccessible(page);
      await ctx.close();
    });
  }
});

describe('an anonymous police tip followed up with its code', () => {
  let receipt;
  let secret;

  it('files a tip without an account and shows the code and the secret once', async () => {
    const ctx = await newContext(browser, portal.base, { mode: 'zh-CN' });
    const page = await ctx.newPage();
    await open(page, `${portal.base}/police`);
    await follow(page, page.getByRole('link', { name: '线索举报' }));
    await page.getByText('您未登录，本次为匿名举报。').waitFor();
    await expectAccessible(page);
    await page.getByLabel('电信诈骗').check();
    await page.locator('#t-tip_content').fill('有人冒充快递客服打电话，让我下载会议软件共享屏幕，号码是外地的');
    await follow(page, page.getByRole('button', { name: '提交线索' }));
    await page.getByRole('heading', { name: '线索已收到' }).waitFor();
    receipt = (await page.locator('#tip-receipt').innerText()).trim();
    secret = (await page.locator('#tip-secret').innerText()).trim();
    assert.match(receipt, /^XS[2-9A-Z]{10}$/);
    assert.equal(secret.length, 12);
    await expectAccessible(page);
    await ctx.close();
  });

  it('opens it again in another browser with the two codes and answers there', async () => {
    for (const mode of ['elder', 'en']) {
      const ctx = await newContext(browser, portal.base, { mode });
      const page = await ctx.newPage();
      await open(page, `${portal.base}/tips/follow`);
      await expectAccessible(page);
      await page.locator('#f-receipt').fill(receipt.toLowerCase());
      await page.locator('#f-secret').fill(secret);
      await follow(page, page.locator('form[action="/tips/follow"] button[type="submit"]'));
      assert.match(await page.locator('dl.kv').innerText(), new RegExp(receipt));
      await expectAccessible(page);
      if (mode === 'elder') {
        await page.locator('#f-message').fill('对方自称姓王，说话带口音');
        await follow(page, page.locator('form[action="/tips/follow"] button[type="submit"]'));
        assert.match(await page.locator('ol.timeline').innerText(), /姓王/);
      }
      await ctx.close();
    }
  });

  it('is read by a new handler of the unit once they chose their password, and the reporter reads the question', async () => {
    // The administrator makes the account; the key is not theirs to give.
    await open(staff, `${portal.base}/admin/staff/new`);
    await staff.locator('#f-username').fill('xs.liu');
    await staff.locator('#f-display_name').fill('刘警官');
    await staff.locator('#f-unit_id').selectOption({ label: '　渝州市公安局' });
    await staff.getByLabel('线索核查员', { exact: true }).check();
    await staff.locator('#f-password').fill('Init1al!pw');
    await follow(staff, staff.getByRole('button', { name: '保存', exact: true }));
    const res = await staff.goto(`${portal.base}/admin/tips/${receipt}`);
    assert.equal(res.status(), 403, 'the administrator does not read tips');

    const ctx = await newContext(browser, portal.base, { mode: 'zh-CN' });
    const page = await ctx.newPage();
    await open(page, `${portal.base}/admin/login`);
    await page.locator('#username').fill('xs.liu');
    await page.locator('#password').fill('Init1al!pw');
    await follow(page, page.locator('form[action="/admin/login"] button[type="submit"]'));
    const secretKey = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
    await page.locator('#code').fill(totpCode(secretKey, Math.floor(Date.now() / 30000)));
    let url = await follow(page, page.locator('form[action="/admin/login/verify"] button[type="submit"]'));
    assert.equal(url.pathname, '/admin/account/password');
    await page.locator('#current_password').fill('Init1al!pw');
    await page.locator('#password').fill('Own!chos3n');
    await page.locator('#password_again').fill('Own!chos3n');
    await follow(page, page.getByRole('button', { name: '保存新密码' }));

    await open(page, `${portal.base}/admin/tips`);
    assert.match(await page.locator('main').innerText(), /您持有本单位密钥/);
    await expectAccessible(page);
    await follow(page, page.getByRole('link', { name: receipt }));
    assert.match(await page.locator('main').innerText(), /会议软件/);
    assert.match(await page.locator('main').innerText(), /姓王/);
    await expectAccessible(page);
    await page.locator('textarea[name="message"]').fill('请问对方让您下载的软件叫什么名字？');
    await follow(page, page.locator('form[action$="/message"] button[type="submit"]').first());
    await ctx.close();

    const reporter = await (await newContext(browser, portal.base, { mode: 'zh-CN' })).newPage();
    await open(reporter, `${portal.base}/tips/follow`);
    await reporter.locator('#f-receipt').fill(receipt);
    await reporter.locator('#f-secret').fill(secret);
    await follow(reporter, reporter.locator('form[action="/tips/follow"] button[type="submit"]'));
    assert.match(await reporter.locator('ol.timeline').innerText(), /软件叫什么名字/);
    await reporter.context().close();
  });
});


describe('a report without an account, followed with its number and secret', () => {
  let number;
  let secret;

  it('files a report anonymously and shows the number and the secret once', async () => {
    const ctx = await newContext(browser, portal.base, { mode: 'elder', viewport: { width: 375, height: 740 } });
    const page = await ctx.newPage();
    await open(page, `${portal.base}/requests`);
    await follow(page, page.getByRole('link', { name: '不登录匿名反映' }));
    await expectAccessible(page);
    // Too short: told so, the text kept.
    await page.getByLabel('诉求内容').fill('有人赌博');
    await follow(page, page.getByRole('button', { name: '匿名提交' }));
    await page.locator('#error-summary').waitFor();
    assert.equal(await page.getByLabel('诉求内容').inputValue(), '有人赌博');
    await page.getByLabel('诉求内容').fill('观音桥某小区地下车库有人私设赌场，每晚十点以后人员进出频繁。');
    await page.getByLabel('发生地点').selectOption({ index: 1 });
    // The place may be tapped on the map; the device's location is never asked.
    assert.equal(await page.locator('[data-point-button]').count(), 0);
    const map = page.getByRole('application', { name: '地图选点' });
    await map.scrollIntoViewIfNeeded();
    const label = await map.locator('text.district-label', { hasText: '江北区' }).boundingBox();
    await page.mouse.click(label.x + label.width / 2, label.y + label.height / 2);
    assert.match(await page.locator('input[data-point]').inputValue(), /^29\.\d{6},106\.\d{6}$/);
    await follow(page, page.getByRole('button', { name: '匿名提交' }));
    await page.getByRole('heading', { name: '已收到您的匿名反映' }).waitFor();
    number = (await page.locator('#anon-number').innerText()).trim();
    secret = (await page.locator('#anon-secret').innerText()).trim();
    assert.match(number, /^SQ\d+$/);
    assert.equal(secret.length, 12);
    await expectAccessible(page);
    await ctx.close();
  });

  it('opens it in another browser with the two, in English too', async () => {
    for (const mode of ['zh-CN', 'en']) {
      const ctx = await newContext(browser, portal.base, { mode });
      const page = await ctx.newPage();
      await open(page, `${portal.base}/requests/follow`);
      await expectAccessible(page);
      await page.locator('#f-number').fill(number);
      await page.locator('#f-secret').fill(secret);
      await follow(page, page.locator('form[action="/requests/follow"] button[type="submit"]'));
      assert.match(await page.locator('#found-title').innerText(), new RegExp(number));
      await expectAccessible(page);
      await ctx.close();
    }
  });
});
