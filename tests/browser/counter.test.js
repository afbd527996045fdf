// 窗口收件 and 以企业身份办事 in a real browser (issue #18): a clerk files
// 居民身份证补领 for a person at the counter (identity checked, the whole form
// on one page, scans uploaded, a missing scan named and nothing lost); the
// person registers, verifies and finds the case in 我的办件. The person then
// registers a company, acts for it (a banner on every page of theirs says
// so) and switches back. Every page passes axe.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  startPortal, launchBrowser, newContext, open, signIn, follow, axeViolations, formatViolations,
  registerCitizen,
} from './helpers.js';

const REISSUE = '500000-GA-HZ-0001-03';
const WALK_IN_ID = '500103198001010016';
const PHONE = '13900002222';
const PASSWORD = 'Citiz3n!pw';
const USCC = '91500103MA5U7XXX0P';
const COMPANY = '渝州市山城酒店管理有限公司';
const FIXTURES = new URL('../../crates/zhiban-testing/fixtures/', import.meta.url);
const PNG = await readFile(new URL('photo.png', FIXTURES));
const PDF = await readFile(new URL('scan.pdf', FIXTURES));

let portal;
let browser;
let staff;
let citizen;
let number;

before(async () => {
  portal = await startPortal({ label: 'counter' });
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

describe('counter intake', () => {
  it('asks the clerk to check the ID card before the form opens', async () => {
    await open(staff, `${portal.base}/admin/counter`);
    await expectAccessible(staff);
    await staff.locator('#k-service_code').selectOption(REISSUE);
    await staff.locator('#k-person_name').fill('陈秀兰');
    await staff.locator('#k-id_number').fill(WALK_IN_ID);
    await staff.locator('#k-phone').fill(PHONE);
    await follow(staff, staff.getByRole('button', { name: '下一步：填写申请表' }));
    await staff.locator('#error-summary').waitFor();
    assert.match(await staff.locator('#error-summary').innerText(), /当面核对/);
    assert.equal(await staff.locator('#k-person_name').inputValue(), '陈秀兰', 'kept');
    await expectAccessible(staff);
    await staff.locator('#k-seen').check();
    const url = await follow(staff, staff.getByRole('button', { name: '下一步：填写申请表' }));
    assert.match(url.pathname, /^\/admin\/counter\/\d+$/);
    assert.equal(await staff.locator('#f-applicant_name').inputValue(), '陈秀兰');
    assert.equal(await staff.locator('#f-applicant_name').getAttribute('readonly'), '');
    assert.doesNotMatch(await staff.locator('main').innerText(), new RegExp(WALK_IN_ID), 'masked');
    await expectAccessible(staff);
  });

  it('names a missing scan, keeps what was typed and scanned, then files the case', async () => {
    await staff.locator('#f-address-province').fill('重庆市');
    await staff.locator('#f-address-city').fill('渝州市');
    await staff.locator('#f-address-district').fill('渝中区');
    await staff.locator('#f-address-detail').fill('较场口 8 号');
    await staff.locator('#f-reason').fill('身份证在公交车上遗失');
    await staff.getByLabel('窗口领取').check();
    await staff.locator('#f-m1').setInputFiles({ name: '户口簿.png', mimeType: 'image/png', buffer: PNG });
    await staff.getByLabel(/申请人已确认/).check();
    await follow(staff, staff.getByRole('button', { name: '提交收件' }));
    await staff.locator('#error-summary').waitFor();
    assert.match(await staff.locator('#error-summary').innerText(), /相片|照片|回执/);
    assert.equal(await staff.locator('#f-address-detail').inputValue(), '较场口 8 号');
    assert.match(await staff.locator('main').innerText(), /户口簿\.png/);
    await expectAccessible(staff);
    await staff.locator('#f-m2').setInputFiles({ name: '相片回执.pdf', mimeType: 'application/pdf', buffer: PDF });
    await staff.getByLabel(/申请人已确认/).check();
    const url = await follow(staff, staff.getByRole('button', { name: '提交收件' }));
    assert.match(url.pathname, /^\/admin\/cases\//);
    number = url.pathname.split('/').pop();
    const page = await staff.locator('main').innerText();
    assert.match(page, /已收件/);
    assert.match(page, /窗口收件/);
    await expectAccessible(staff);
  });

  it('reaches the person in 我的办件 once they verify with the same number', async () => {
    await registerCitizen(citizen, staff, portal.base, PHONE, PASSWORD);
    await open(citizen, `${portal.base}/my/cases`);
    assert.doesNotMatch(await citizen.locator('main').innerText(), new RegExp(number));
    await open(citizen, `${portal.base}/account`);
    await citizen.locator('#a-person_name').fill('陈秀兰');
    await citizen.locator('#a-id_number').fill(WALK_IN_ID);
    await follow(citizen, citizen.getByRole('button', { name: '提交核验' }));
    await open(citizen, `${portal.base}/my/cases`);
    assert.match(await citizen.locator('main').innerText(), new RegExp(number));
    await open(citizen, `${portal.base}/my/cases/${number}`);
    assert.match(await citizen.locator('main').innerText(), /窗口收件/);
    await expectAccessible(citizen);
  });
});

describe('acting for a company', () => {
  it('switches to the company with a banner on every page, and back', async () => {
    await open(citizen, `${portal.base}/account/companies`);
    await citizen.locator('#c-uscc').fill(USCC);
    await citizen.locator('#c-company_name').fill(COMPANY);
    await follow(citizen, citizen.getByRole('button', { name: '注册企业账号' }).last());
    await follow(citizen, citizen.getByRole('button', { name: new RegExp(`以此企业身份办事 ${COMPANY}`) }));
    const banner = citizen.getByRole('region', { name: '办事身份' });
    assert.match(await banner.innerText(), new RegExp(COMPANY));
    assert.doesNotMatch(await citizen.locator('main').innerText(), new RegExp(number), 'the company has no cases yet');
    await expectAccessible(citizen);
    await open(citizen, `${portal.base}/my/licenses`);
    assert.equal(await banner.count(), 1, 'the banner follows the person');
    await follow(citizen, banner.getByRole('button', { name: '切换回个人' }));
    assert.equal(await citizen.getByRole('region', { name: '办事身份' }).count(), 0);
    await open(citizen, `${portal.base}/my/cases`);
    assert.match(await citizen.locator('main').innerText(), new RegExp(number));
  });
});
