// A citizen's account end to end in a real browser: register with the SMS
// code (read, as a tester would, from the development outbox staff can
// see), verify the real name, see only masked data, download the data,
// sign in on a second "phone" and sign out everywhere.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  startPortal, launchBrowser, newContext, open, signIn, follow, axeViolations, formatViolations, zhibanCli,
} from './helpers.js';

let portal;
let browser;
let staffPage;
const PHONE = '13800138000';
const PASSWORD = 'Citiz3n!pw';

before(async () => {
  portal = await startPortal({ label: 'citizen' });
  browser = await launchBrowser();
  const staff = await newContext(browser, portal.base, { mode: 'zh-CN' });
  staffPage = await staff.newPage();
  await signIn(staffPage, portal.base);
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

/** The newest code in the development SMS outbox, as staff see it. */
async function codeFromOutbox() {
  await open(staffPage, `${portal.base}/admin/sms`);
  const body = await staffPage.locator('table.data tbody tr').first().innerText();
  assert.match(body, /138\*\*\*\*8000/, 'the outbox masks the phone');
  return body.match(/\b(\d{6})\b/)[1];
}

async function expectAccessible(page) {
  const v = await axeViolations(page);
  assert.equal(v.length, 0, `axe on ${page.url()}:\n${formatViolations(v)}`);
}

describe('a citizen account', () => {
  let context;
  let page;
  before(async () => {
    context = await newContext(browser, portal.base, { mode: 'zh-CN', acceptDownloads: true });
    page = await context.newPage();
  });
  after(async () => { await context?.close(); });

  it('registers with a phone, an SMS code and consent to the privacy notice', async () => {
    await open(page, `${portal.base}/`);
    await follow(page, page.getByRole('link', { name: '个人中心' }));
    assert.equal(new URL(page.url()).pathname, '/login');
    await follow(page, page.getByRole('link', { name: '注册', exact: true }));
    // Phone fields are as large as the other fields (old phones, big fingers).
    const phoneBox = await page.locator('#r-phone').boundingBox();
    const passwordBox = await page.locator('#r-password').boundingBox();
    assert.ok(phoneBox.height >= 44 && phoneBox.width >= passwordBox.width * 0.9, JSON.stringify(phoneBox));
    await page.locator('#r-phone').fill(PHONE);
    await follow(page, page.getByRole('button', { name: '获取短信验证码' }));
    await page.getByRole('status').filter({ hasText: '验证码已发送到 138****8000' }).waitFor();
    await page.locator('#r-sms_code').fill(await codeFromOutbox());
    await page.locator('#r-password').fill(PASSWORD);
    await page.locator('#r-password_again').fill(PASSWORD);
    // Without consent: refused, and nothing typed is lost.
    await follow(page, page.getByRole('button', { name: '注册', exact: true }));
    await page.locator('#error-summary').waitFor();
    assert.match(await page.locator('#error-summary').innerText(), /隐私政策/);
    assert.equal(await page.locator('#r-phone').inputValue(), PHONE);
    await expectAccessible(page);
  });

  it('finishes with the same code once the privacy notice is accepted', async () => {
    // The refusal above was about consent, so the code is still unused.
    await page.locator('#r-sms_code').fill(await codeFromOutbox());
    await page.locator('#r-password').fill(PASSWORD);
    await page.locator('#r-password_again').fill(PASSWORD);
    await page.getByLabel(/我已阅读并同意/).check();
    const url = await follow(page, page.getByRole('button', { name: '注册', exact: true }));
    assert.equal(url.pathname, '/account');
    await page.getByRole('status').filter({ hasText: '注册成功' }).waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /138\*\*\*\*8000/);
    assert.doesNotMatch(text, new RegExp(PHONE));
    await expectAccessible(page);
  });

  it('verifies the real name and shows the ID number masked', async () => {
    await page.locator('#a-person_name').fill('张三');
    await page.locator('#a-id_number').fill('110105194912310021');
    await follow(page, page.getByRole('button', { name: '提交核验' }));
    assert.match(await page.locator('#error-summary').innerText(), /身份证号码不正确/);
    await page.locator('#a-person_name').fill('张三');
    await page.locator('#a-id_number').fill('11010519491231002X');
    await follow(page, page.getByRole('button', { name: '提交核验' }));
    const text = await page.locator('main').innerText();
    assert.match(text, /L2/);
    assert.match(text, /110\*{11}002X/);
    assert.match(text, /张\*/);
  });

  it('downloads everything the portal holds about them', async () => {
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: '下载我的数据' }).click(),
    ]);
    const data = JSON.parse(await readFile(await download.path(), 'utf8'));
    assert.equal(data.account.phone, PHONE);
    assert.equal(data.account.level, 2);
  });

  it('signs in to another department\'s application through the consent page', async () => {
    // The other department's application: a real HTTP server that records
    // where the browser came back to.
    let returned;
    const rp = http.createServer((req, res) => {
      // Only the callback counts (the browser also asks for a favicon).
      if (req.url.startsWith('/callback')) returned = new URL(req.url, 'http://127.0.0.1');
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<title>RP</title><h1>RP</h1>');
    });
    await new Promise((r) => rp.listen(0, '127.0.0.1', r));
    const redirect = `http://127.0.0.1:${rp.address().port}/callback`;
    try {
      const out = await zhibanCli(portal, [
        'oidc', 'add-client', '--name', '渝州市住房公积金网上业务大厅', '--redirect-uri', redirect,
      ]);
      const clientId = out.match(/client_id=(\S+)/)[1];
      const verifier = randomBytes(48).toString('base64url');
      const challenge = createHash('sha256').update(verifier).digest('base64url');
      await open(page, `${portal.base}/oidc/authorize?response_type=code&client_id=${clientId}`
        + `&redirect_uri=${encodeURIComponent(redirect)}&scope=openid%20phone`
        + `&state=s1&nonce=n1&code_challenge=${challenge}&code_challenge_method=S256`);
      assert.match(await page.locator('main').innerText(), /渝州市住房公积金网上业务大厅[\s\S]*手机号码/);
      await expectAccessible(page);
      const url = await follow(page, page.getByRole('button', { name: '同意并登录' }));
      assert.equal(url.pathname, '/callback', 'the CSP lets the consent form return to the application');
      assert.equal(returned.searchParams.get('state'), 's1');
      assert.ok(returned.searchParams.get('code'), 'the application receives a code');
    } finally {
      rp.close();
    }
    await open(page, `${portal.base}/account`);
    assert.match(await page.locator('main').innerText(), /授权应用登录/);
  });

  it('a computer signs in by scanning its QR code with the signed-in phone', async () => {
    const desktop = await newContext(browser, portal.base, { mode: 'zh-CN' });
    try {
      const d = await desktop.newPage();
      await open(d, `${portal.base}/login/qr?next=%2Fservices`);
      assert.ok(await d.getByRole('img', { name: '扫码登录二维码' }).isVisible());
      await expectAccessible(d);
      const scanUrl = await d.locator('#qr-url').innerText();
      // The phone opens the code's address, sees the device, confirms.
      await open(page, scanUrl);
      assert.match(await page.locator('main').innerText(), /有设备请求用您的账号登录[\s\S]*Chrome/);
      await expectAccessible(page);
      // The computer's page notices by itself and continues (no click there).
      await Promise.all([
        d.waitForURL(`${portal.base}/services`),
        page.getByRole('button', { name: '确认登录' }).click(),
      ]);
      await open(d, `${portal.base}/account`);
      assert.match(await d.locator('main').innerText(), /138\*\*\*\*8000/);
    } finally {
      await desktop.close();
    }
  });

  it('signs in on a second phone, sees both sessions, then signs out everywhere', async () => {
    const second = await newContext(browser, portal.base, { mode: 'zh-CN' });
    try {
      const p2 = await second.newPage();
      await open(p2, `${portal.base}/login?next=%2Faccount`);
      await p2.locator('#phone').fill(PHONE);
      await p2.locator('#password').fill('Wrong!pass1');
      await follow(p2, p2.getByRole('button', { name: '登录', exact: true }));
      await p2.getByRole('alert').filter({ hasText: '手机号码、密码或验证码不正确' }).waitFor();
      assert.equal(await p2.locator('#phone').inputValue(), PHONE, 'the phone is kept');
      await p2.locator('#password').fill(PASSWORD);
      const url = await follow(p2, p2.getByRole('button', { name: '登录', exact: true }));
      assert.equal(url.pathname, '/account');
      await open(page, `${portal.base}/account`);
      // This phone, the computer that scanned in, and the second phone.
      assert.equal(await page.locator('section[aria-labelledby="sessions-title"] tbody tr').count(), 3);
      await follow(page, page.getByRole('button', { name: '退出所有设备' }));
      await open(p2, `${portal.base}/account`);
      assert.equal(new URL(p2.url()).pathname, '/login', 'the second phone is signed out');
    } finally {
      await second.close();
    }
  });
});

describe('passkeys', () => {
  // WebAuthn needs a domain name, so this part uses localhost; Chromium's
  // virtual authenticator stands in for the phone's fingerprint sensor.
  let context;
  let page;
  let local;
  before(async () => {
    local = portal.base.replace('127.0.0.1', 'localhost');
    context = await newContext(browser, local, { mode: 'zh-CN' });
    page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('WebAuthn.enable');
    await cdp.send('WebAuthn.addVirtualAuthenticator', {
      options: {
        protocol: 'ctap2', transport: 'internal', hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
      },
    });
  });
  after(async () => { await context?.close(); });

  it('a person adds a passkey in the account centre', async () => {
    await open(page, `${local}/login?next=%2Faccount`);
    await page.locator('#phone').fill(PHONE);
    await page.locator('#password').fill(PASSWORD);
    await follow(page, page.getByRole('button', { name: '登录', exact: true }));
    await page.locator('#passkey-name').fill('测试手机');
    await Promise.all([
      page.waitForURL(/saved=passkey/),
      page.getByRole('button', { name: '添加通行密钥' }).click(),
    ]);
    assert.match(await page.locator('section[aria-labelledby="passkeys-title"]').innerText(), /测试手机/);
    await expectAccessible(page);
    await follow(page, page.getByRole('button', { name: '退出登录' }));
  });

  it('signs in with the passkey and no password', async () => {
    await open(page, `${local}/login?method=passkey&next=%2Faccount`);
    await page.locator('#pk-phone').fill(PHONE);
    await Promise.all([
      page.waitForURL(`${local}/account`),
      page.getByRole('button', { name: '使用通行密钥登录' }).click(),
    ]);
    assert.match(await page.locator('section[aria-labelledby="history-title"]').innerText(), /通行密钥/);
  });

  it('a number without a passkey gets the same ceremony and a refusal in the page', async () => {
    await follow(page, page.getByRole('button', { name: '退出登录' }));
    await open(page, `${local}/login?method=passkey`);
    await page.locator('#pk-phone').fill('13700137000');
    await page.getByRole('button', { name: '使用通行密钥登录' }).click();
    await page.locator('.passkey-status').filter({ hasText: /\S/ }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/login', 'still on the sign-in page');
  });
});
