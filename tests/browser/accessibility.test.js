// axe-core (WCAG 2.0/2.1 A and AA) must report no violations on every page,
// in every display mode: default zh-CN, elder (适老化), high contrast, English
// and Traditional Chinese (Hong Kong).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startPortal, launchBrowser, newContext, open, axeViolations, formatViolations,
  signIn, guideCode, follow, MODES, AUDITOR_USER,
} from './helpers.js';

let portal;
let browser;
let code;

before(async () => {
  portal = await startPortal({ label: 'a11y' });
  browser = await launchBrowser();
  code = await guideCode(portal.base);
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

// [name, path, expected HTTP status]
const publicPages = () => [
  ['home', '/', 200],
  ['services', '/services', 200],
  ['services filtered, page 2', '/services?life_event=birth&page=2', 200],
  ['guide', `/services/${encodeURIComponent(code)}`, 200],
  ['police', '/police', 200],
  ['themes', '/themes', 200],
  ['bundles', '/bundles', 200],
  ['bundle guide', '/bundles/birth', 200],
  ['rating statistics', '/ratings', 200],
  ['traffic fine lookup', '/fines', 200],
  ['receipt check', '/receipts/verify?number=PJ0&code=0', 200],
  ['departments', '/departments', 200],
  ['search with results', `/search?q=${encodeURIComponent('身份证')}`, 200],
  ['search without results', '/search?q=zzzz', 200],
  ['search with a corrected typo', `/search?q=${encodeURIComponent('驾使证换证')}`, 200],
  ['accessibility statement', '/accessibility', 200],
  ['404 page', '/no-such-page-here', 404],
  ['admin login', '/admin/login', 200],
  ['citizen sign-in', '/login', 200],
  ['citizen sign-in by SMS code', '/login?method=sms', 200],
  ['registration', '/register', 200],
  ['sign-in by QR code', '/login/qr', 200],
  ['password reset', '/reset', 200],
  ['progress lookup', '/progress', 200],
  ['privacy notice', '/privacy', 200],
  ['assistant', '/assistant', 200],
];

const staffPages = () => [
  ['admin catalog', '/admin/services', 200],
  ['admin editor', `/admin/services/${encodeURIComponent(code)}/edit`, 200],
  ['admin history', `/admin/services/${encodeURIComponent(code)}/history`, 200],
  ['admin import', '/admin/import', 200],
  ['admin search', `/admin/search?try=${encodeURIComponent('身份证丢了')}`, 200],
  ['admin staff', '/admin/staff', 200],
  ['admin new staff', '/admin/staff/new', 200],
  ['admin roles', '/admin/roles', 200],
  ['admin org tree', '/admin/org', 200],
  ['admin new role', '/admin/roles/new', 200],
  ['admin account', '/admin/account', 200],
  ['admin password', '/admin/account/password', 200],
  ['admin SMS outbox', '/admin/sms', 200],
  ['admin counter check', '/admin/citizens?phone=13800138000', 200],
  ['admin connected applications', '/admin/oidc', 200],
  ['case workbench', '/admin/cases', 200],
  ['case workbench, overdue', '/admin/cases?tab=overdue', 200],
  ['form editor', `/admin/services/${encodeURIComponent(code)}/form`, 200],
  ['notification wording', '/admin/notify', 200],
  ['ratings desk with the month report', '/admin/ratings?tab=all', 200],
  ['counter rating invitation', '/admin/ratings/invite', 200],
  ['payments and reconciliation', '/admin/payments', 200],
  ['suggestion rules', '/admin/recommend', 200],
  ['counter intake', '/admin/counter', 200],
  ['assistant knowledge base', '/admin/assistant', 200],
  ['new knowledge entry', '/admin/assistant/new', 200],
  ['agent desk', '/admin/chats', 200],
  ['canned answers', '/admin/chats/canned', 200],
  ['public-opinion monitoring', '/admin/opinion?days=90', 200],
  ['public-opinion items', '/admin/opinion/items?sentiment=negative', 200],
  ['public-opinion feeds', '/admin/opinion/feeds', 200],
];

async function expectNoViolations(page, url, status, mode) {
  await open(page, url, { status });
  const violations = await axeViolations(page);
  assert.equal(
    violations.length,
    0,
    `axe found ${violations.length} violation(s) on ${url} [${mode}]:\n${formatViolations(violations)}`,
  );
}

for (const mode of Object.keys(MODES)) {
  describe(`axe, mode ${mode}`, () => {
    let context;
    let page;

    before(async () => {
      context = await newContext(browser, portal.base, { mode });
      page = await context.newPage();
    });
    after(async () => { await context?.close(); });

    it('public pages have no WCAG 2.1 AA violations', async (t) => {
      for (const [name, path, status] of publicPages()) {
        await t.test(name, () => expectNoViolations(page, portal.base + path, status, mode));
      }
    });

    it('staff pages have no WCAG 2.1 AA violations', async (t) => {
      await signIn(page, portal.base);
      for (const [name, path, status] of staffPages()) {
        await t.test(name, () => expectNoViolations(page, portal.base + path, status, mode));
      }
    });

    it('the auditor\'s audit log has no violations', async () => {
      // 三员分立: only the security auditor opens it (the administrator gets 403).
      await expectNoViolations(page, `${portal.base}/admin/audit`, 403, mode);
      const auditor = await newContext(browser, portal.base, { mode });
      try {
        const p = await auditor.newPage();
        await signIn(p, portal.base, AUDITOR_USER);
        await expectNoViolations(p, `${portal.base}/admin/audit`, 200, mode);
      } finally {
        await auditor.close();
      }
    });

    it('the editor with validation errors has no violations', async () => {
      // The error state matters most to screen-reader users: check it too.
      await open(page, `${portal.base}/admin/services/${encodeURIComponent(code)}/edit`);
      await page.locator('#f-name').fill('');
      await follow(page, page.locator('button[name="action"][value="draft"]'));
      await page.locator('#error-summary').waitFor();
      const violations = await axeViolations(page);
      assert.equal(violations.length, 0, `editor with errors [${mode}]:\n${formatViolations(violations)}`);
    });
  });
}
