// 出生一件事 end to end in a real browser (issue #18): a family answers the
// questions, fills one merged form (shared fields and materials once, the
// 出生医学证明 not asked because the first item produces it), sees what each
// department receives, submits once and follows four items on one page;
// when the hospital concludes the first item the other three start; anyone
// with the bundle's number and the phone follows it on /progress.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  startPortal, launchBrowser, newContext, open, signIn, follow, axeViolations, formatViolations,
  registerCitizen,
} from './helpers.js';

const FIXTURES = new URL('../../crates/zhiban-testing/fixtures/', import.meta.url);
const PNG = await readFile(new URL('photo.png', FIXTURES));

let portal;
let browser;
let staff;
let citizen;
let number;

before(async () => {
  portal = await startPortal({ label: 'bundles' });
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

const next = (page) => follow(page, page.getByRole('button', { name: '保存并继续' }));

describe('出生一件事 with one form', () => {
  it('finds the bundle and its guide, verified before applying', async () => {
    await registerCitizen(citizen, staff, portal.base, '13800138456', 'Citiz3n!pw');
    await open(citizen, `${portal.base}/account`);
    await citizen.locator('#a-person_name').fill('王小明');
    await citizen.locator('#a-id_number').fill('11010519491231002X');
    await follow(citizen, citizen.getByRole('button', { name: '提交核验' }));
    await open(citizen, `${portal.base}/`);
    await follow(citizen, citizen.getByRole('link', { name: '一件事一次办', exact: true }));
    await follow(citizen, citizen.getByRole('link', { name: '新生儿出生一件事', exact: true }));
    const guide = await citizen.locator('main').innerText();
    assert.match(guide, /出生医学证明签发/);
    assert.match(guide, /以下事项同时办理/);
    await expectAccessible(citizen);
    await follow(citizen, citizen.getByRole('link', { name: '开始一次办理' }).first());
  });

  it('answers the questions, and the form follows them', async () => {
    await next(citizen);
    await citizen.locator('#error-summary').waitFor();
    await expectAccessible(citizen);
    await citizen.locator('input[name="q_yb"][value="是"]').check();
    await citizen.locator('input[name="q_sbk"][value="是"]').check();
    await citizen.locator('input[name="q_jzz"][value="否"]').check();
    await next(citizen);
    assert.equal(await citizen.locator('#f-applicant_name').inputValue(), '王小明');
    await citizen.locator('#f-address-province').fill('重庆市');
    await citizen.locator('#f-address-city').fill('渝州市');
    await citizen.locator('#f-address-district').fill('渝中区');
    await citizen.locator('#f-address-detail').fill('解放碑街道民族路 1 号');
    await next(citizen);
    await citizen.locator('#f-reason').fill('孩子出生，办理出生一件事');
    await citizen.getByLabel('窗口领取').check();
    await next(citizen);
  });

  it('uploads each shared document once and never the certificate the hospital issues', async () => {
    const labels = await citizen.locator('form.smart-form input[type="file"]').evaluateAll(
      (inputs) => inputs.map((i) => document.querySelector(`label[for="${i.id}"]`)?.innerText ?? ''),
    );
    assert.ok(labels.some((l) => l.includes('监护人居民身份证')), labels.join(' | '));
    assert.ok(!labels.some((l) => l.split(' ')[0] === '出生医学证明'), labels.join(' | '));
    assert.equal(new Set(labels).size, labels.length, 'no document asked twice');
    assert.match(await citizen.locator('main').innerText(), /一次上传，提交给/);
    for (const input of await citizen.locator('form.smart-form input[type="file"]').all()) {
      await input.setInputFiles({ name: '证件.png', mimeType: 'image/png', buffer: PNG });
    }
    await next(citizen);
    const review = await citizen.locator('main').innerText();
    assert.match(review, /各部门将收到的内容/);
    for (const item of ['出生医学证明签发', '出生登记', '新生儿医保参保登记', '社会保障卡申领']) {
      assert.ok(review.includes(item), `checklist names ${item}`);
    }
    assert.ok(!review.includes('预防接种证办理'), 'an item answered 否 is left out');
    await expectAccessible(citizen);
  });

  it('submits once and follows four items on one page', async () => {
    await citizen.getByLabel(/本人承诺/).check();
    const url = await follow(citizen, citizen.getByRole('button', { name: '提交申请' }));
    assert.match(url.pathname, /^\/my\/bundles\/ZB\d{13}$/);
    number = url.pathname.split('/').pop();
    const text = await citizen.locator('main').innerText();
    assert.match(text, /已一次提交/);
    assert.equal(await citizen.locator('table.data tbody tr').count(), 4);
    assert.equal((text.match(/待前序办结/g) || []).length, 3);
    assert.match(text, /预计全部办结/);
    await expectAccessible(citizen);
  });

  it('the hospital concludes the first item and the other three start', async () => {
    const first = (await citizen.locator('table.data tbody tr').first().getByRole('link').innerText()).trim();
    assert.equal(first, '出生医学证明签发');
    const caseNumber = (await citizen.locator('table.data tbody tr').first().locator('td').nth(1).innerText()).trim();
    for (const [action, fill] of [['accept'], ['approve', '符合签发条件'], ['conclude']]) {
      await open(staff, `${portal.base}/admin/cases/${caseNumber}`);
      const form = staff.locator(`form:has(input[name="action"][value="${action}"])`);
      const details = staff.locator('details.action').filter({ has: form });
      if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
      if (fill) await form.getByLabel(/办理意见/).fill(fill);
      await follow(staff, form.locator('button[type="submit"]'));
    }
    await open(citizen, `${portal.base}/my/bundles/${number}`);
    const text = await citizen.locator('main').innerText();
    assert.ok(!text.includes('待前序办结'), text);
    assert.equal((text.match(/待受理/g) || []).length, 3);
    assert.match(text, /前序事项办结，开始办理/);
    await open(citizen, `${portal.base}/my/cases`);
    assert.match(await citizen.locator('main').innerText(), /我的一件事/);
  });

  it('anyone with the bundle number from the message and the phone follows it on /progress', async () => {
    const page = await (await newContext(browser, portal.base, { mode: 'zh-CN' })).newPage();
    await open(page, `${portal.base}/progress`);
    await page.getByLabel('办件编号').fill(number);
    await page.getByLabel('申请时填写的手机号码').fill('138 0013 8456');
    await follow(page, page.getByRole('button', { name: '查询' }));
    const text = await page.locator('main').innerText();
    assert.match(text, /新生儿出生一件事/);
    for (const item of ['出生医学证明签发', '出生登记', '新生儿医保参保登记', '社会保障卡申领']) {
      assert.ok(text.includes(item), `progress lists ${item}`);
    }
    await expectAccessible(page);
  });
});
