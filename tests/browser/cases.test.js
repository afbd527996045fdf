// One case end to end in a real browser (issues #5 and #18): a citizen
// applies for 居民身份证补领 with uploads (after stepping up to the real-name
// level the item needs), staff ask for a correction, the citizen fixes it on
// the same case, staff approve and assess the 工本费, the citizen pays it at
// the development gateway (whose callback comes twice: paid once), staff
// conclude and attach the result, and the citizen downloads it and the
// 电子票据. Finance reconciles the day and sees a planted difference.
// Anyone can then check the progress by number and phone.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import {
  startPortal, launchBrowser, newContext, open, signIn, follow, axeViolations, formatViolations,
  prefCookies,
} from './helpers.js';

const REISSUE = '500000-GA-HZ-0001-03';
const PHONE = '13800138123';
const PASSWORD = 'Citiz3n!pw';
// Real files, the same the Rust tests upload: the portal checks that a PDF
// parses and an image decodes, not only the first bytes.
const FIXTURES = new URL('../../crates/zhiban-testing/fixtures/', import.meta.url);
const PNG = await readFile(new URL('photo.png', FIXTURES));
const PDF = await readFile(new URL('scan.pdf', FIXTURES));

let portal;
let browser;
let staff;
let citizen;
let number;

before(async () => {
  portal = await startPortal({ label: 'cases' });
  browser = await launchBrowser();
  const sc = await newContext(browser, portal.base, { mode: 'zh-CN' });
  staff = await sc.newPage();
  await signIn(staff, portal.base);
  const cc = await newContext(browser, portal.base, { mode: 'zh-CN', acceptDownloads: true });
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

async function codeFromOutbox() {
  await open(staff, `${portal.base}/admin/sms`);
  const body = await staff.locator('table.data tbody tr').first().innerText();
  return body.match(/\b(\d{6})\b/)[1];
}

/** Opens the case in the workbench and takes one step. */
async function staffStep(action, fill = async () => {}) {
  await open(staff, `${portal.base}/admin/cases/${number}`);
  const form = staff.locator(`form:has(input[name="action"][value="${action}"])`);
  const details = staff.locator('details.action').filter({ has: form });
  if (!(await details.getAttribute('open') !== null)) await details.locator('summary').click();
  await fill(form);
  await follow(staff, form.locator('button[type="submit"]'));
  await staff.getByRole('status').first().waitFor();
}

describe('a case from application to result', () => {
  it('asks an unverified applicant to verify first, then returns to the application', async () => {
    await open(citizen, `${portal.base}/register`);
    await citizen.locator('#r-phone').fill(PHONE);
    await follow(citizen, citizen.getByRole('button', { name: '获取短信验证码' }));
    await citizen.locator('#r-sms_code').fill(await codeFromOutbox());
    await citizen.locator('#r-password').fill(PASSWORD);
    await citizen.locator('#r-password_again').fill(PASSWORD);
    await citizen.getByLabel(/我已阅读并同意/).check();
    await follow(citizen, citizen.getByRole('button', { name: '注册', exact: true }));

    await open(citizen, `${portal.base}/services/${REISSUE}`);
    await follow(citizen, citizen.getByRole('link', { name: '在线申请' }));
    await citizen.getByRole('heading', { name: '请先完成实名认证' }).waitFor();
    await expectAccessible(citizen);
    await follow(citizen, citizen.getByRole('link', { name: '去实名认证' }));
    await citizen.locator('#a-person_name').fill('张三');
    await citizen.locator('#a-id_number').fill('11010519491231002X');
    const url = await follow(citizen, citizen.getByRole('button', { name: '提交核验' }));
    assert.equal(url.pathname, `/apply/${REISSUE}`);
  });

  it('fills the form page by page: identity filled in, mail address shown only when needed', async () => {
    assert.equal(await citizen.locator('#f-applicant_name').inputValue(), '张三');
    assert.equal(await citizen.locator('#f-applicant_name').getAttribute('readonly'), '');
    await expectAccessible(citizen);
    // Next without an address: refused with a summary that links to the fields.
    await follow(citizen, citizen.getByRole('button', { name: '保存并继续' }));
    await citizen.locator('#error-summary').waitFor();
    assert.match(await citizen.locator('#error-summary').innerText(), /请填写此项/);
    await expectAccessible(citizen);
    await citizen.locator('#f-address-province').fill('重庆市');
    await citizen.locator('#f-address-city').fill('渝州市');
    await citizen.locator('#f-address-district').fill('渝中区');
    await citizen.locator('#f-address-detail').fill('解放碑街道民族路 1 号');
    await follow(citizen, citizen.getByRole('button', { name: '保存并继续' }));

    await citizen.locator('#f-reason').fill('身份证在公交车上遗失');
    const mail = citizen.locator('#w-f-mail_address');
    assert.equal(await mail.isVisible(), false, 'hidden until 邮寄送达 is chosen');
    await citizen.getByLabel('邮寄送达').check();
    await mail.waitFor({ state: 'visible' });
    await citizen.locator('#f-mail_address').fill('渝中区民族路 1 号');
    await follow(citizen, citizen.getByRole('button', { name: '保存并继续' }));

    // A file that is not a scan is refused and not kept.
    await citizen.locator('#f-m1').setInputFiles({ name: 'setup.exe', mimeType: 'image/png', buffer: Buffer.from('MZ\x90\x00 not an image') });
    await follow(citizen, citizen.getByRole('button', { name: '保存并继续' }));
    assert.match(await citizen.locator('#error-summary').innerText(), /只能上传 PDF、JPG 或 PNG 文件/);
    await citizen.locator('#f-m1').setInputFiles({ name: '户口簿.png', mimeType: 'image/png', buffer: PNG });
    await citizen.locator('#f-m2').setInputFiles({ name: '相片回执.pdf', mimeType: 'application/pdf', buffer: PDF });
    await follow(citizen, citizen.getByRole('button', { name: '保存并继续' }));
    const review = await citizen.locator('main').innerText();
    assert.match(review, /身份证在公交车上遗失/);
    assert.match(review, /户口簿\.png/);
    assert.match(review, /110\*{11}002X/, 'the ID number is masked on the review page');
    await expectAccessible(citizen);
  });

  it('submits with the declaration and gets a number and a printable receipt with a QR code', async () => {
    await citizen.getByLabel(/本人承诺/).check();
    const url = await follow(citizen, citizen.getByRole('button', { name: '提交申请' }));
    number = url.pathname.split('/').pop();
    assert.match(number, /^ZB\d{13}$/);
    await citizen.getByRole('status').filter({ hasText: '申请已提交' }).waitFor();
    await expectAccessible(citizen);
    await follow(citizen, citizen.getByRole('link', { name: '申请回执' }).first());
    const qr = citizen.getByRole('img', { name: '扫码查询办理进度' });
    assert.ok((await qr.boundingBox()).width >= 100);
    assert.match(await citizen.locator('main').innerText(), new RegExp(number));
    await expectAccessible(citizen);
  });

  it('staff see it in 待办 with a green light and ask for a better photo', async () => {
    await open(staff, `${portal.base}/admin/cases`);
    const row = staff.locator('tbody tr', { hasText: number });
    assert.match(await row.innerText(), /绿灯/);
    await expectAccessible(staff);
    await follow(staff, row.getByRole('link', { name: number }));
    const preview = staff.getByRole('img', { name: /户口簿\.png/ });
    await preview.waitFor();
    assert.ok(await preview.evaluate((img) => img.complete && img.naturalWidth > 0), 'the image preview loads');
    await expectAccessible(staff);
    await staffStep('correct', async (form) => {
      await form.getByLabel('数码相片回执').check();
      await form.getByLabel(/理由/).fill('相片回执不清晰，请重新上传');
    });
    assert.match(await staff.locator('main').innerText(), /待补正/);
  });

  it('the applicant sees exactly what to fix and resubmits the same case', async () => {
    await open(citizen, `${portal.base}/my/cases/${number}`);
    const text = await citizen.locator('main').innerText();
    assert.match(text, /相片回执不清晰/);
    assert.equal(await citizen.locator('input[name="file:m1"]').count(), 0, 'only the photo can change');
    await expectAccessible(citizen);
    await citizen.locator('#f-m2').setInputFiles({ name: '新相片回执.png', mimeType: 'image/png', buffer: PNG });
    await follow(citizen, citizen.getByRole('button', { name: '提交补正' }));
    await citizen.getByRole('status').filter({ hasText: '补正材料已提交' }).waitFor();
  });

  it('staff accept, approve and assess the fee; concluding waits for it', async () => {
    await staffStep('accept');
    await staffStep('approve', async (form) => { await form.getByLabel(/办理意见/).fill('符合补领条件'); });
    await open(staff, `${portal.base}/admin/cases/${number}`);
    const form = staff.locator('form:has(input[name="action"][value="conclude"])');
    const details = staff.locator('details.action').filter({ has: form });
    if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
    await follow(staff, form.locator('button[type="submit"]'));
    assert.match(await staff.locator('#error-summary').innerText(), /尚未缴费或减免/);
    await staff.locator('#a-fee summary').filter({ hasText: '核定收费' }).click();
    assert.equal(await staff.getByLabel(/工本费\/证/).inputValue(), '1');
    await follow(staff, staff.getByRole('button', { name: '开具缴费单' }));
    assert.match(await staff.locator('#a-fee').innerText(), /待缴费 ¥40\.00/);
    await expectAccessible(staff);
  });

  it('the applicant pays at the gateway, and the case page says paid once', async () => {
    await open(citizen, `${portal.base}/my/cases/${number}`);
    await follow(citizen, citizen.getByRole('button', { name: /去缴费 ¥40\.00/ }));
    assert.match(citizen.url(), /\/dev-gateway\/pay\/DEV/);
    assert.match(await citizen.locator('main').innerText(), /开发用支付网关（模拟）/);
    await expectAccessible(citizen);
    await follow(citizen, citizen.getByRole('button', { name: '确认支付' }));
    assert.match(citizen.url(), /\/my\/payments\/ZF/);
    // The gateway's callbacks arrive on their own; the page refreshes until then.
    await citizen.getByText('缴费成功，电子票据已开具。').waitFor({ timeout: 20000 });
    await expectAccessible(citizen);
    await follow(citizen, citizen.getByRole('link', { name: /电子票据 PJ/ }));
    const receipt = await citizen.locator('main').innerText();
    assert.match(receipt, /¥40\.00/);
    const code = receipt.match(/校验码\s*([0-9A-F]{8})/)[1];
    const receiptNo = receipt.match(/票据号码\s*(PJ\d+)/)[1];
    const check = await (await newContext(browser, portal.base, { mode: 'en' })).newPage();
    await open(check, `${portal.base}/receipts/verify`);
    await check.getByLabel('Receipt number').fill(receiptNo);
    await check.getByLabel('Check code').fill(code);
    await follow(check, check.getByRole('button', { name: 'Check' }));
    assert.match(await check.locator('main').innerText(), /Genuine receipt/);
    await expectAccessible(check);
  });

  it('finance sees one payment from two callbacks and a planted difference in the reconciliation', async () => {
    await open(staff, `${portal.base}/admin/payments?state=paid`);
    await expectAccessible(staff);
    await follow(staff, staff.locator('table.data tbody tr').first().getByRole('link'));
    const history = await staff.locator('main').innerText();
    assert.equal((history.match(/支付成功/g) || []).length, 1, history);
    assert.match(history, /重复回调（已忽略）/);
    // The gateway's statement for today, with one line changed.
    const today = new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
    const res = await staff.request.get(`${portal.base}/admin/payments/statement?day=${today}`);
    const planted = (await res.text()).replace(',40.00', ',41.00');
    assert.match(planted, /41\.00/);
    await open(staff, `${portal.base}/admin/payments`);
    await staff.getByLabel('对账日期').fill(today);
    await staff.locator('#statement').setInputFiles({ name: 'statement.csv', mimeType: 'text/csv', buffer: Buffer.from(planted) });
    await follow(staff, staff.getByRole('button', { name: '开始对账' }));
    const desk = await staff.locator('main').innerText();
    assert.match(desk, /金额不一致/);
    assert.match(desk, /41\.00/);
    await expectAccessible(staff);
  });

  it('staff conclude, attach the result and deliver it online', async () => {
    await staffStep('conclude');
    await staff.locator('#a-result_file').setInputFiles({ name: '居民身份证领取凭证.pdf', mimeType: 'application/pdf', buffer: PDF });
    await follow(staff, staff.getByRole('button', { name: '上传', exact: true }));
    await staffStep('deliver', async (form) => { await form.getByLabel('送达方式').selectOption('online'); });
    assert.match(await staff.locator('main').innerText(), /已送达/);
  });

  it('the applicant downloads the result and reads every step in the timeline', async () => {
    await open(citizen, `${portal.base}/my/cases/${number}`);
    const text = await citizen.locator('main').innerText();
    for (const step of ['提交申请', '一次性告知补正', '补正后提交', '受理', '准予', '办结', '送达']) {
      assert.ok(text.includes(step), `timeline has ${step}`);
    }
    const [download] = await Promise.all([
      citizen.waitForEvent('download'),
      citizen.getByRole('link', { name: '居民身份证领取凭证.pdf' }).click(),
    ]);
    assert.deepEqual(await readFile(await download.path()), PDF);
    await open(citizen, `${portal.base}/my/messages`);
    assert.match(await citizen.locator('main').innerText(), /办理结果已送达/);
  });

  it('the applicant rates the service once (一事一评)', async () => {
    await open(citizen, `${portal.base}/my/cases/${number}`);
    await follow(citizen, citizen.getByRole('link', { name: '评价本次服务' }));
    await expectAccessible(citizen);
    await citizen.getByLabel('满意', { exact: true }).check();
    await citizen.getByLabel('材料要求清楚').check();
    await follow(citizen, citizen.getByRole('button', { name: '提交评价' }));
    const text = await citizen.locator('main').innerText();
    assert.match(text, /感谢您的评价/);
    assert.match(text, /材料要求清楚/);
    assert.equal(await citizen.locator('input[name="score"]').count(), 0, 'rated once');
    await open(staff, `${portal.base}/admin/cases/${number}`);
    assert.match(await staff.locator('main').innerText(), /服务评价\s*满意/);
  });

  it('anyone can check the progress with the number and the phone', async () => {
    const ctx = await newContext(browser, portal.base, { mode: 'zh-CN' });
    const page = await ctx.newPage();
    await open(page, `${portal.base}/`);
    await follow(page, page.getByRole('link', { name: '进度查询' }));
    await page.getByLabel('办件编号').fill(number);
    await page.getByLabel('申请时填写的手机号码').fill(PHONE);
    await follow(page, page.getByRole('button', { name: '查询' }));
    const text = await page.locator('main').innerText();
    assert.match(text, /已送达/);
    assert.match(text, /张\*/);
    assert.doesNotMatch(text, /张三/);
    await expectAccessible(page);
    await ctx.close();
  });

  it('fits a 320 px phone in elder mode without sideways scrolling', async () => {
    await citizen.context().addCookies(prefCookies(portal.base, 'elder'));
    await citizen.setViewportSize({ width: 320, height: 720 });
    for (const url of [`/apply/${REISSUE}`, `/apply/${REISSUE}?page=2`, `/my/cases/${number}`, `/my/cases/${number}/receipt`, '/my/cases']) {
      await open(citizen, portal.base + url);
      const over = await citizen.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(over <= 0, `${url} scrolls sideways by ${over}px`);
      await expectAccessible(citizen);
    }
  });

  it('我的办件 on a 375 px phone: one card per case, the item name on a line of its own', async () => {
    await citizen.setViewportSize({ width: 375, height: 812 });
    await open(citizen, `${portal.base}/my/cases`);
    const card = citizen.locator('table.table-cards tbody tr').first();
    const title = await card.locator('.card-title').boundingBox();
    const cardBox = await card.boundingBox();
    // The name takes the card's width, not a two-character column.
    assert.ok(title.width >= cardBox.width * 0.8, `title ${JSON.stringify(title)} in card ${JSON.stringify(cardBox)}`);
    const numberCell = card.locator('td').first();
    assert.ok((await numberCell.boundingBox()).y > title.y, 'the number comes under the name');
    assert.match(await numberCell.evaluate((td) => getComputedStyle(td, '::before').content), /办件编号/);
    assert.equal(await citizen.locator('table.table-cards thead').isVisible(), true, 'the header stays for screen readers');
    const headerBox = await citizen.locator('table.table-cards thead').boundingBox();
    assert.ok(headerBox.x + headerBox.width < 0, 'and is moved out of sight');
    await citizen.setViewportSize({ width: 1280, height: 900 });
    await open(citizen, `${portal.base}/my/cases`);
    assert.ok((await citizen.locator('table.table-cards thead').boundingBox()).x >= 0, 'a table again on a desktop');
  });

  it('staff write a form in the editor and the preview follows as they type', async () => {
    await open(staff, `${portal.base}/admin/services/${REISSUE}/form`);
    await expectAccessible(staff);
    const schema = JSON.stringify({
      title: '居民身份证补领（试行）',
      pages: [{ title: '补领原因', fields: [
        { key: 'why', label: '补领原因（试行）', kind: 'choice', required: true, options: ['遗失', '被盗'] },
      ] }],
    });
    await staff.locator('#schema').fill(schema);
    await staff.locator('.form-preview').getByText('补领原因（试行）').first().waitFor();
    await staff.locator('#schema').fill('{"title": "", "pages": []}');
    await staff.locator('#error-summary').filter({ hasText: '表单需要标题' }).waitFor();
  });
});
