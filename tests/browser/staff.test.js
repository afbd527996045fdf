// The staff back office end to end, in a real browser: sign in, edit and
// publish, see the change in public and in the history; a rejected edit keeps
// what was typed; a bad import names the row and writes nothing.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startPortal, launchBrowser, newContext, open, api, guideCode, signIn, parseCsv, toCsv, follow,
} from './helpers.js';

let portal;
let browser;
let context;
let page;
let code;
let original; // the item as the API first shows it

before(async () => {
  portal = await startPortal({ label: 'staff' });
  browser = await launchBrowser();
  context = await newContext(browser, portal.base, { mode: 'zh-CN' });
  page = await context.newPage();
  code = await guideCode(portal.base);
  original = await api(portal.base, `/api/v1/services/${encodeURIComponent(code)}`);
});

after(async () => {
  await context?.close();
  await browser?.close();
  await portal?.stop();
});

const guideUrl = () => `${portal.base}/services/${encodeURIComponent(code)}`;
const editUrl = () => `${portal.base}/admin/services/${encodeURIComponent(code)}/edit`;

/** The public guide as an anonymous visitor sees it (a separate context, no staff cookie). */
async function publicGuide() {
  const anon = await newContext(browser, portal.base, { mode: 'zh-CN' });
  try {
    const p = await anon.newPage();
    await open(p, guideUrl());
    const facts = await p.locator('.fact-grid').innerText();
    return { title: (await p.locator('h1').innerText()).trim(), facts };
  } finally {
    await anon.close();
  }
}

const submitWith = (button) => follow(page, button);

const newName = '居民身份证补领（浏览器测试改名）';

describe('staff flow', () => {
  it('refuses the back office without signing in', async () => {
    const anon = await browser.newContext();
    try {
      const p = await anon.newPage();
      await p.goto(`${portal.base}/admin/services`);
      assert.equal(new URL(p.url()).pathname, '/admin/login', 'anonymous visitors are sent to the login page');
    } finally {
      await anon.close();
    }
  });

  it('rejects a wrong password with a clear message', async () => {
    await open(page, `${portal.base}/admin/login`);
    await page.locator('#username').fill('admin');
    await page.locator('#password').fill('wrong-password');
    await submitWith(page.locator('form[action="/admin/login"] button[type="submit"]'));
    await assert.doesNotReject(page.getByRole('alert').filter({ hasText: '用户名或密码不正确' }).waitFor());
    assert.equal(await page.locator('#username').inputValue(), 'admin', 'the username is kept');
  });

  it('signs in and opens the item\'s editor from the catalog list', async () => {
    await signIn(page, portal.base);
    await open(page, `${portal.base}/admin/services`);
    await page.locator('#aq').fill(code);
    await submitWith(page.locator('form.inline-filters button[type="submit"]'));
    const row = page.locator('table.data tbody tr', { hasText: code });
    assert.equal(await row.count(), 1, `the filtered list shows ${code}`);
    await submitWith(row.getByRole('link', { name: `编辑 ${original.name}`, exact: true }));
    assert.equal(page.url(), editUrl());
    assert.equal(await page.locator('#f-name').inputValue(), original.name);
  });

  it('保存并发布 publishes a new name to the public guide', async () => {
    await page.locator('#f-name').fill(newName);
    await page.locator('#f-note').fill('浏览器测试');
    await submitWith(page.getByRole('button', { name: '保存并发布', exact: true }));
    const url = new URL(page.url());
    assert.equal(url.pathname, '/admin/services');
    await assert.doesNotReject(page.getByRole('status').filter({ hasText: '已保存' }).first().waitFor());

    const pub = await publicGuide();
    assert.equal(pub.title, newName, 'the public guide shows the new name');
    const fromApi = await api(portal.base, `/api/v1/services/${encodeURIComponent(code)}`);
    assert.equal(fromApi.name, newName);
  });

  it('the history page shows the change before → after', async () => {
    await open(page, `${portal.base}/admin/services/${encodeURIComponent(code)}/history`);
    assert.match(await page.locator('h1').innerText(), new RegExp(newName.replace(/[()（）]/g, '.')));
    const change = page.locator('table.diff tbody tr', { has: page.locator('th', { hasText: /^事项名称$/ }) }).first();
    assert.equal(await change.count(), 1, 'a 事项名称 row in the history');
    assert.equal((await change.locator('td.before').innerText()).trim(), original.name);
    assert.equal((await change.locator('td.after').innerText()).trim(), newName);
    const entry = page.locator('ol.history > li', { has: change });
    assert.match(await entry.innerText(), /浏览器测试/, 'the note is shown with the revision');
    assert.match(await entry.innerText(), /admin/, 'the author is shown');
  });

  it('承诺时限 > 法定时限 is refused with the typed values kept and nothing published', async () => {
    const before = await publicGuide();
    await open(page, editUrl());
    const legal = Number(await page.locator('#f-legal_limit_days').inputValue());
    const tooLong = String(legal + 7);
    const typedName = `${newName}（不应发布）`;
    await page.locator('#f-name').fill(typedName);
    await page.locator('#f-promised_limit_days').fill(tooLong);
    await submitWith(page.getByRole('button', { name: '保存并发布', exact: true }));

    assert.equal(page.url(), editUrl(), 'stays on the editor');
    const summary = page.locator('#error-summary');
    assert.equal(await summary.getAttribute('role'), 'alert');
    const summaryText = await summary.innerText();
    assert.match(summaryText, /请修改以下问题/);
    assert.match(summaryText, /承诺时限不能大于法定时限/);
    // The message is next to the field and tied to it for screen readers.
    const field = page.locator('#f-promised_limit_days');
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    assert.match(await page.locator('#e-promised_limit_days').innerText(), /承诺时限不能大于法定时限/);
    assert.ok((await field.getAttribute('aria-describedby')).split(/\s+/).includes('e-promised_limit_days'));
    // What was typed is still there.
    assert.equal(await field.inputValue(), tooLong);
    assert.equal(await page.locator('#f-legal_limit_days').inputValue(), String(legal));
    assert.equal(await page.locator('#f-name').inputValue(), typedName);

    const after = await publicGuide();
    assert.deepEqual(after, before, 'the public guide is unchanged');
    const fromApi = await api(portal.base, `/api/v1/services/${encodeURIComponent(code)}`);
    assert.equal(fromApi.name, newName);
    assert.equal(fromApi.promised_limit_days, original.promised_limit_days);
  });

  describe('import', () => {
    let header;
    let rows; // data rows of the exported CSV
    let lastProblems; // what the rejected import listed
    const col = (name) => {
      const i = header.indexOf(name);
      assert.ok(i >= 0, `export has a ${name} column: ${JSON.stringify(header)}`);
      return i;
    };

    before(async () => {
      const res = await page.request.get(`${portal.base}/admin/export?format=csv`);
      assert.equal(res.status(), 200);
      assert.match(res.headers()['content-type'], /text\/csv/);
      [header, ...rows] = parseCsv(await res.text());
    });

    async function upload(name, text) {
      await open(page, `${portal.base}/admin/import`);
      await page.locator('#file').setInputFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(text, 'utf8') });
      await submitWith(page.getByRole('button', { name: '上传并导入', exact: true }));
    }

    it('the export lists the whole catalog, drafts included', async () => {
      const published = (await api(portal.base, '/api/v1/services?limit=1')).total;
      assert.ok(rows.length >= published, `${rows.length} exported rows, ${published} published`);
      assert.ok(rows.some((r) => r[col('事项编码')] === code && r[col('事项名称')] === newName));
    });

    it('a bad row rejects the whole file, names the row and writes nothing', async () => {
      const totalBefore = (await api(portal.base, '/api/v1/services?limit=1')).total;
      const codeCol = col('事项编码');
      const nameCol = col('事项名称');
      const statusCol = col('状态');
      // Two other published items: rename one, break the other's 法定时限.
      const candidates = rows
        .map((r, i) => ({ r, i }))
        .filter(({ r }) => r[codeCol] !== code && r[statusCol] === '已发布');
      const renamed = candidates[3];
      const broken = candidates[10];
      const renamedBefore = await api(portal.base, `/api/v1/services/${encodeURIComponent(renamed.r[codeCol])}`);

      const edited = rows.map((r) => [...r]);
      edited[renamed.i][nameCol] = '不应被导入的新名称';
      edited[broken.i][col('法定时限')] = '三十个工作日';
      const brokenRowNumber = broken.i + 2; // row 1 is the header, as in a spreadsheet

      await upload('catalog.csv', toCsv([header, ...edited]));

      const alert = page.locator('.alert-error[role="alert"]');
      await alert.waitFor();
      assert.match(await alert.innerText(), /1 行不合格/);
      assert.match(await alert.innerText(), /未导入任何数据/);
      const problems = page.locator('table.data', { has: page.locator('caption', { hasText: '问题清单' }) });
      const listed = await problems.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => ({
        row: tr.querySelector('th').textContent.trim(),
        problem: tr.querySelector('td').textContent.trim(),
      })));
      assert.ok(listed.length >= 1, 'the problems are listed');
      for (const p of listed) {
        assert.equal(p.row, String(brokenRowNumber), `every problem names row ${brokenRowNumber}: ${JSON.stringify(listed)}`);
      }
      assert.ok(listed.some((p) => /法定时限/.test(p.problem) && /整数/.test(p.problem) && p.problem.includes('三十个工作日')),
        `a problem says 法定时限 must be a whole number and quotes the bad value: ${JSON.stringify(listed)}`);
      lastProblems = listed;

      const totalAfter = (await api(portal.base, '/api/v1/services?limit=1')).total;
      assert.equal(totalAfter, totalBefore, 'the catalog size is unchanged');
      const renamedAfter = await api(portal.base, `/api/v1/services/${encodeURIComponent(renamed.r[codeCol])}`);
      assert.equal(renamedAfter.name, renamedBefore.name, 'the rename in another row was not applied');
      const brokenAfter = await api(portal.base, `/api/v1/services/${encodeURIComponent(broken.r[codeCol])}`);
      assert.equal(brokenAfter.name, broken.r[nameCol]);
    });

    it('a non-numeric 法定时限 is reported once, not also compared with 承诺时限', () => {
      assert.ok(lastProblems, 'runs after the rejected import');
      assert.ok(!lastProblems.some((p) => /承诺时限不能大于法定时限/.test(p.problem)),
        `misleading second problem: ${JSON.stringify(lastProblems)}`);
    });

    it('the same change in a valid file is imported', async () => {
      // Proves the rejection above was the bad row, not a broken import.
      const codeCol = col('事项编码');
      const nameCol = col('事项名称');
      const row = rows.find((r) => r[codeCol] !== code && r[col('状态')] === '已发布');
      const changed = [...row];
      changed[nameCol] = `${row[nameCol]}（已导入）`;
      await upload('one-row.csv', toCsv([header, changed]));
      const ok = page.locator('.alert-success[role="status"]');
      await ok.waitFor();
      assert.match(await ok.innerText(), /导入成功/);
      assert.match(await ok.innerText(), /更新 1 项/);
      const after = await api(portal.base, `/api/v1/services/${encodeURIComponent(row[codeCol])}`);
      assert.equal(after.name, changed[nameCol]);
    });
  });
});
