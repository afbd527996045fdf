// Staff identity end to end in a real browser: the administrator enrols an
// authenticator on first sign-in, opens an account for a district
// administrator, who signs in with a one-time code, must replace the
// initial password, sees only the district's catalog and is refused the
// audit log; the auditor's page shows both sign-ins and verifies the chain.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startPortal, launchBrowser, newContext, open, signIn, follow, totpCode, axeViolations, formatViolations,
  AUDITOR_USER,
} from './helpers.js';

let portal;
let browser;

before(async () => {
  portal = await startPortal({ label: 'identity' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

async function expectAccessible(page) {
  const v = await axeViolations(page);
  assert.equal(v.length, 0, `axe on ${page.url()}:\n${formatViolations(v)}`);
}

describe('staff accounts, roles and the audit log', () => {
  const username = `yz${Date.now() % 100000}`;
  const initial = 'Init1al!pw';
  const chosen = 'Yuzh0ng!2026';

  it('an administrator opens an account for a district administrator', async () => {
    const context = await newContext(browser, portal.base, { mode: 'zh-CN' });
    const page = await context.newPage();
    try {
      await signIn(page, portal.base);
      await open(page, `${portal.base}/admin/staff/new`);
      await page.locator('#f-username').fill(username);
      await page.locator('#f-display_name').fill('渝中区管理员');
      await page.locator('#f-unit_id').selectOption({ label: '　渝中区' });
      await page.getByLabel('部门管理员', { exact: true }).check();
      await page.locator('#f-password').fill('weak');
      let url = await follow(page, page.getByRole('button', { name: '保存', exact: true }));
      assert.equal(url.pathname, '/admin/staff/new', 'a weak password is refused');
      await page.locator('#error-summary').waitFor();
      assert.match(await page.locator('#error-summary').innerText(), /至少8位/);
      assert.equal(await page.locator('#f-username').inputValue(), username, 'what was typed is kept');
      assert.ok(await page.getByLabel('部门管理员', { exact: true }).isChecked(), 'the role choice is kept');
      await expectAccessible(page);

      await page.locator('#f-password').fill(initial);
      url = await follow(page, page.getByRole('button', { name: '保存', exact: true }));
      assert.equal(url.pathname, '/admin/staff');
      const row = page.locator('table.data tbody tr', { hasText: username });
      assert.equal(await row.count(), 1);
      assert.match(await row.innerText(), /渝中区.*部门管理员.*未绑定/s);
    } finally {
      await context.close();
    }
  });

  it('the new account enrols a one-time code, replaces its password and works only in its district', async () => {
    const context = await newContext(browser, portal.base, { mode: 'zh-CN' });
    const page = await context.newPage();
    try {
      await open(page, `${portal.base}/admin/login`);
      await page.locator('#username').fill(username);
      await page.locator('#password').fill(initial);
      let url = await follow(page, page.locator('form[action="/admin/login"] button[type="submit"]'));
      assert.equal(url.pathname, '/admin/login/verify');
      // Enrolment: a QR code with a text alternative, and the key to type.
      assert.ok(await page.getByRole('img', { name: /二维码/ }).isVisible());
      const secret = (await page.locator('#totp-secret').innerText()).replace(/\s/g, '');
      await expectAccessible(page);
      await page.locator('#code').fill('123456');
      url = await follow(page, page.locator('form[action="/admin/login/verify"] button[type="submit"]'));
      await page.getByRole('alert').filter({ hasText: '动态验证码不正确' }).waitFor();
      const step = Math.floor(Date.now() / 30000);
      await page.locator('#code').fill(totpCode(secret, step));
      url = await follow(page, page.locator('form[action="/admin/login/verify"] button[type="submit"]'));
      // The administrator chose the password: it must be replaced first.
      assert.equal(url.pathname, '/admin/account/password');
      await page.locator('#current_password').fill(initial);
      await page.locator('#password').fill(chosen);
      await page.locator('#password_again').fill(chosen);
      url = await follow(page, page.getByRole('button', { name: '保存新密码' }));
      assert.equal(url.pathname, '/admin/services', 'then on to the catalog');

      // Only the district's items, and no menu entry for the audit log.
      const rows = page.locator('table.data tbody tr');
      assert.ok(await rows.count() > 0);
      for (const text of await rows.allInnerTexts()) assert.match(text, /渝中区/);
      assert.equal(await page.getByRole('link', { name: '审计日志' }).count(), 0);

      const res = await page.goto(`${portal.base}/admin/audit`);
      assert.equal(res.status(), 403);
      assert.match(await page.locator('main').innerText(), /您的角色没有此项权限/);
    } finally {
      await context.close();
    }
  });

  it('the audit log shows the sign-ins and the refusal, and verifies intact', async () => {
    const context = await newContext(browser, portal.base, { mode: 'zh-CN' });
    const page = await context.newPage();
    try {
      // 三员分立: the security auditor reads the log, not the administrator.
      await signIn(page, portal.base, AUDITOR_USER);
      await open(page, `${portal.base}/admin/audit?actor=${username}`);
      const text = await page.locator('table.data').innerText();
      assert.match(text, /登录/);
      assert.match(text, /越权访问[\s\S]*\/admin\/audit[\s\S]*被拒绝/);
      assert.match(text, /修改密码/);
      await follow(page, page.getByRole('button', { name: '校验完整性' }));
      await page.getByRole('status').filter({ hasText: '审计日志完整' }).waitFor();
      await expectAccessible(page);
    } finally {
      await context.close();
    }
  });
});

describe('a passkey as the staff second factor', () => {
  // WebAuthn needs a domain name: this part uses localhost, with Chromium's
  // virtual authenticator as the security key.
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
        protocol: 'ctap2', transport: 'usb', hasResidentKey: true,
        hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true,
      },
    });
  });
  after(async () => { await context?.close(); });

  it('the administrator registers a passkey on their account page', async () => {
    await signIn(page, local);
    await open(page, `${local}/admin/account`);
    await page.locator('#passkey-name').fill('安全密钥');
    await Promise.all([
      page.waitForURL(/saved=passkey/),
      page.getByRole('button', { name: '添加通行密钥' }).click(),
    ]);
    assert.match(await page.locator('section[aria-labelledby="passkeys-title"]').innerText(), /安全密钥/);
    await expectAccessible(page);
    await follow(page, page.getByRole('button', { name: '退出' }));
  });

  it('signs in with the password and then the passkey instead of a code', async () => {
    await open(page, `${local}/admin/login`);
    await page.locator('#username').fill('admin');
    await page.locator('#password').fill('Passw0rd!x');
    const url = await follow(page, page.locator('form[action="/admin/login"] button[type="submit"]'));
    assert.equal(url.pathname, '/admin/login/verify');
    await expectAccessible(page);
    await Promise.all([
      page.waitForURL((u) => !u.pathname.startsWith('/admin/login')),
      page.getByRole('button', { name: '使用通行密钥验证' }).click(),
    ]);
    // The administrator does not read the audit log; the auditor finds the
    // passkey sign-in there.
    const res = await page.goto(`${local}/admin/audit`);
    assert.equal(res.status(), 403);
    await signIn(page, local, AUDITOR_USER);
    await open(page, `${local}/admin/audit?action=staff.login&actor=admin`);
    assert.match(await page.locator('table.data').innerText(), /passkey/);
  });
});
