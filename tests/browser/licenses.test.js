// Electronic licenses (电子证照) in a real browser: staff issue one (after
// a refusal that keeps what they typed), the holder finds it in the wallet,
// its QR code leads to the public check that says 有效, and 免证办 works
// with JavaScript off on a 320 px phone in elder mode. axe finds nothing
// on any of these pages.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startPortal, launchBrowser, newContext, open, signIn, follow, axeViolations, formatViolations,
  prefCookies,
} from './helpers.js';

const PHONE = '13800138456';
const PASSWORD = 'Citiz3n!pw';
const NAME = '张三';
const ID_NUMBER = '11010519491231002X';
// 购房落户: its materials are 居民身份证, 居民户口簿, 不动产权证书 and a form.
const SETTLE = '500000-GA-HZ-0003-04';

let portal;
let browser;
let staff;
let citizen;
let number;
let household;

before(async () => {
  portal = await startPortal({ label: 'licenses' });
  browser = await launchBrowser();
  const sc = await newContext(browser, portal.base, { mode: 'zh-CN' });
  staff = await sc.newPage();
  await signIn(staff, portal.base);
  const cc = await newContext(browser, portal.base, { mode: 'zh-CN' });
  citizen = await cc.newPage();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

async function expectAccessible(page) {
  const v = await axeViolations(page);
  assert.equal(v.length, 0, `axe on ${page.url()}:\n${formatViolations(v)}`);
}

/** How far the page scrolls sideways (0 or less: it fits). */
function overflow(page) {
  return page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
}

async function codeFromOutbox() {
  await open(staff, `${portal.base}/admin/sms`);
  const body = await staff.locator('table.data tbody tr').first().innerText();
  return body.match(/\b(\d{6})\b/)[1];
}

/** Step one of the issue form: the type, by its label. */
async function chooseType(name) {
  await open(staff, `${portal.base}/admin/licenses/new`);
  await staff.getByLabel('第一步：选择证照类型').selectOption({ label: name });
  await follow(staff, staff.getByRole('button', { name: '下一步' }));
}

describe('electronic licenses', () => {
  it('a citizen registers and verifies their identity', async () => {
    await open(citizen, `${portal.base}/register`);
    await citizen.locator('#r-phone').fill(PHONE);
    await follow(citizen, citizen.getByRole('button', { name: '获取短信验证码' }));
    await citizen.locator('#r-sms_code').fill(await codeFromOutbox());
    await citizen.locator('#r-password').fill(PASSWORD);
    await citizen.locator('#r-password_again').fill(PASSWORD);
    await citizen.getByLabel(/我已阅读并同意/).check();
    await follow(citizen, citizen.getByRole('button', { name: '注册', exact: true }));
    await open(citizen, `${portal.base}/account`);
    await citizen.locator('#a-person_name').fill(NAME);
    await citizen.locator('#a-id_number').fill(ID_NUMBER);
    await follow(citizen, citizen.getByRole('button', { name: '提交核验' }));
    await open(citizen, `${portal.base}/my/licenses`);
    assert.match(await citizen.locator('main').innerText(), /您还没有电子证照/);
  });

  it('staff issue a license: bad input comes back explained and kept, then it is signed', async () => {
    await open(staff, `${portal.base}/admin/licenses`);
    await expectAccessible(staff);
    await follow(staff, staff.getByRole('link', { name: '签发电子证照' }));
    await expectAccessible(staff);
    await chooseType('居民身份证');
    await expectAccessible(staff);
    await staff.getByLabel('证件号码').fill(ID_NUMBER);
    await staff.getByLabel('性别').fill('男');
    await staff.getByLabel('民族').fill('汉');
    await staff.getByLabel('出生').fill('1949-12-31');
    await staff.getByLabel('住址').fill('渝州市渝中区民族路 1 号');
    await follow(staff, staff.getByRole('button', { name: '签发并签名' }));
    const summary = staff.locator('#error-summary');
    await summary.waitFor();
    assert.match(await summary.innerText(), /持证人：不能为空/);
    assert.equal(await staff.getByLabel('证件号码').inputValue(), ID_NUMBER, 'what was typed is kept');
    assert.equal(await staff.getByLabel('住址').inputValue(), '渝州市渝中区民族路 1 号');
    await expectAccessible(staff);
    await staff.getByLabel(/^持证人/).fill(NAME);
    const url = await follow(staff, staff.getByRole('button', { name: '签发并签名' }));
    number = url.pathname.split('/').pop();
    assert.match(number, /^ZZ\d{17}[\dX]$/);
    await staff.getByRole('status').filter({ hasText: '证照已签发' }).waitFor();
    assert.match(await staff.locator('main').innerText(), /有效/);
    await expectAccessible(staff);

    // A 居民户口簿 too, for 免证办 below.
    await chooseType('居民户口簿');
    await staff.getByLabel(/^持证人/).fill(NAME);
    await staff.getByLabel('证件号码').fill(ID_NUMBER);
    await staff.getByLabel('户别').fill('家庭户');
    await staff.getByLabel('住址').fill('渝州市渝中区民族路 1 号');
    await staff.getByLabel('与户主关系').fill('户主');
    const second = await follow(staff, staff.getByRole('button', { name: '签发并签名' }));
    household = second.pathname.split('/').pop();
    assert.match(household, /^ZZ/);
  });

  it('the other staff pages pass axe: search, import and license types', async () => {
    await open(staff, `${portal.base}/admin/licenses?q=${ID_NUMBER}`);
    const rows = await staff.locator('table.data tbody').innerText();
    assert.ok(rows.includes(number) && rows.includes(household));
    assert.ok(!rows.includes(ID_NUMBER), 'the list masks the ID number');
    await expectAccessible(staff);
    for (const path of ['/admin/licenses/import', '/admin/licenses/types']) {
      await open(staff, portal.base + path);
      await expectAccessible(staff);
    }
  });

  it('the holder finds it in the wallet and its QR code leads to a check that says 有效', async () => {
    await open(citizen, `${portal.base}/account`);
    await follow(citizen, citizen.getByRole('link', { name: '打开我的证照' }));
    const wallet = await citizen.locator('main').innerText();
    assert.ok(wallet.includes(number), 'the license is in the wallet');
    assert.match(wallet, /居民身份证/);
    await expectAccessible(citizen);
    await follow(citizen, citizen.getByRole('link', { name: '居民身份证', exact: true }));
    const qr = citizen.getByRole('img', { name: '扫码核验电子证照' });
    assert.ok((await qr.boundingBox()).width >= 150, 'a QR code big enough to scan');
    assert.ok((await citizen.locator('main').innerText()).includes(ID_NUMBER), 'the holder sees it in full');
    await expectAccessible(citizen);

    // The QR code's address, opened by someone else's phone.
    const target = await citizen.locator('figcaption a').getAttribute('href');
    assert.equal(new URL(target).pathname, `/licenses/verify/${number}`);
    const ctx = await newContext(browser, portal.base, { mode: 'zh-CN' });
    const page = await ctx.newPage();
    await open(page, target);
    const verdict = page.getByRole('status');
    assert.match(await verdict.innerText(), /有效/);
    const text = await page.locator('main').innerText();
    assert.match(text, /110\*{11}002X/);
    assert.ok(!text.includes(ID_NUMBER) && !text.includes(NAME), 'masked for the public');
    await expectAccessible(page);
    await open(page, `${portal.base}/licenses/verify`);
    await page.getByLabel('证照编号', { exact: true }).fill(number.toLowerCase());
    await follow(page, page.getByRole('button', { name: '核验', exact: true }));
    assert.match(await page.getByRole('status').innerText(), /有效/);
    await open(page, `${portal.base}/licenses/verify`);
    await expectAccessible(page);
    await ctx.close();
  });

  it('the wallet fits a 320 px phone in elder mode with big targets', async () => {
    await citizen.context().addCookies(prefCookies(portal.base, 'elder'));
    await citizen.setViewportSize({ width: 320, height: 720 });
    for (const url of ['/my/licenses', `/my/licenses/${number}`]) {
      await open(citizen, portal.base + url);
      assert.ok((await overflow(citizen)) <= 0, `${url} scrolls sideways by ${await overflow(citizen)}px`);
      const small = await citizen.evaluate(() => [...document.querySelectorAll('main .button')]
        .filter((b) => b.getBoundingClientRect().height < 60)
        .map((b) => b.textContent.trim()));
      assert.deepEqual(small, [], `${url}: buttons under 60 px`);
      await expectAccessible(citizen);
    }
  });

  it('免证办 works without JavaScript on a 320 px phone in elder mode', async () => {
    const state = await citizen.context().storageState();
    const ctx = await browser.newContext({
      storageState: state,
      javaScriptEnabled: false,
      locale: 'zh-CN',
      viewport: { width: 320, height: 720 },
    });
    await ctx.addCookies(prefCookies(portal.base, 'elder'));
    const page = await ctx.newPage();
    await open(page, `${portal.base}/apply/${SETTLE}`);
    await page.locator('#f-address-province').fill('重庆市');
    await page.locator('#f-address-city').fill('渝州市');
    await page.locator('#f-address-district').fill('渝中区');
    await page.locator('#f-address-detail').fill('民族路 1 号');
    await follow(page, page.getByRole('button', { name: '保存并继续' }));
    await page.locator('#f-reason').fill('购房后将户口迁入新居');
    await page.getByLabel('网上下载').check();
    await follow(page, page.getByRole('button', { name: '保存并继续' }));

    const offer = page.locator('#w-f-m1 .license-offer');
    assert.match(await offer.innerText(), /您已有电子证照：居民身份证/);
    assert.ok((await overflow(page)) <= 0, `the materials page scrolls sideways by ${await overflow(page)}px`);
    await follow(page, page.locator('#w-f-m1').getByRole('button', { name: /使用电子证照，免于上传/ }));
    assert.match(await page.locator('#w-f-m1').innerText(), /已授权使用电子证照\s*居民身份证/);
    assert.equal(await page.locator('input[name="file:m1"]').count(), 0, 'no upload asked for');
    const withdraw = page.locator('#w-f-m1').getByRole('button', { name: /取消授权/ });
    assert.ok((await withdraw.boundingBox()).height >= 60, 'a 60 px target in elder mode');
    await follow(page, page.locator('#w-f-m2').getByRole('button', { name: /使用电子证照，免于上传/ }));
    assert.match(await page.locator('#w-f-m2').innerText(), new RegExp(`居民户口簿\\s*${household}`));
    assert.ok((await overflow(page)) <= 0, 'still fits after authorising');
    await ctx.close();
    // axe runs scripts in the page: the same page, same mode, with them on.
    await open(citizen, `${portal.base}/apply/${SETTLE}?page=2`);
    assert.match(await citizen.locator('#w-f-m1').innerText(), /已授权使用电子证照/);
    await expectAccessible(citizen);
    await follow(citizen, citizen.locator('#w-f-m1').getByRole('button', { name: /取消授权/ }));
    assert.equal(await citizen.locator('input[name="file:m1"]').count(), 1, 'the upload is back');
    assert.ok((await overflow(citizen)) <= 0);
    await expectAccessible(citizen);
  });
});
