import { startPortal, launchBrowser, newContext, open, signIn, ADMIN_PASSWORD } from './helpers.js';
process.env.ZHIBAN_ADMIN_PASSWORD = ADMIN_PASSWORD;
const portal = await startPortal({ label: 'look' });
const browser = await launchBrowser();
try {
  const s = await (await newContext(browser, portal.base, { mode: 'zh-CN', viewport: { width: 1440, height: 900 } })).newPage();
  await signIn(s, portal.base);
  await open(s, `${portal.base}/admin/requests`);
  await s.screenshot({ path: '/tmp/look-desk.png', fullPage: false });
  const first = await s.locator('table.data tbody tr a').first().getAttribute('href');
  await open(s, `${portal.base}${first}`);
  await s.screenshot({ path: '/tmp/look-detail.png', fullPage: true });
  await open(s, `${portal.base}/admin/requests/stats?month=2026-10`);
  await s.screenshot({ path: '/tmp/look-stats.png', fullPage: false });
  const e = await (await newContext(browser, portal.base, { mode: 'elder', viewport: { width: 375, height: 800 } })).newPage();
  await open(e, `${portal.base}/requests`);
  await e.screenshot({ path: '/tmp/look-hall-elder.png', fullPage: false });
  const w = await (await newContext(browser, portal.base, { mode: 'zh-CN', viewport: { width: 1440, height: 900 } })).newPage();
  await open(w, `${portal.base}/requests`);
  await w.screenshot({ path: '/tmp/look-hall.png', fullPage: true });
} finally { await browser.close(); await portal.stop(); }
