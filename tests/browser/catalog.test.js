// Browsing the catalog: the life-event filter and the pager, checked against
// the JSON API and against each guide page.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startPortal, launchBrowser, newContext, open, api, follow } from './helpers.js';

let portal;
let browser;
let context;
let page;

before(async () => {
  portal = await startPortal({ label: 'catalog' });
  browser = await launchBrowser();
  context = await newContext(browser, portal.base, { mode: 'zh-CN' });
  page = await context.newPage();
});

after(async () => {
  await context?.close();
  await browser?.close();
  await portal?.stop();
});

/** Codes of the items listed on the current /services page, in order. */
async function listedCodes() {
  const hrefs = await page.locator('.service-list .service-item-title a').evaluateAll(
    (as) => as.map((a) => a.getAttribute('href')),
  );
  return hrefs.map((h) => decodeURIComponent(h.replace(/^\/services\//, '')));
}

/** N from the results count text 共 N 项. */
async function countText() {
  const text = (await page.locator('#results-count').innerText()).trim();
  const m = text.match(/^共\s*(\d+)\s*项$/);
  assert.ok(m, `results count should read 共 N 项, got "${text}"`);
  return Number(m[1]);
}

/** Every code the API lists for a query, across its pages. */
async function apiCodes(query) {
  const codes = [];
  let total = Infinity;
  for (let offset = 0; offset < total; offset += 100) {
    const r = await api(portal.base, `/api/v1/services?${query}&limit=100&offset=${offset}`);
    total = r.total;
    codes.push(...r.items.map((i) => i.code));
    if (r.items.length === 0) break;
  }
  return { total, codes };
}

describe('catalog browse', () => {
  it('the 出生 filter lists exactly the API\'s birth items', async () => {
    await open(page, `${portal.base}/services`);
    await page.locator('#f-event').selectOption({ label: '出生' });
    const url = await follow(page, page.locator('.filters form button[type="submit"]'));
    assert.equal(url.pathname, '/services');
    assert.equal(url.searchParams.get('life_event'), 'birth');
    assert.match(await page.locator('h1').innerText(), /出生/);
    assert.equal(await page.locator('#f-event').inputValue(), 'birth', 'the chosen filter stays selected');

    const fromApi = await apiCodes('life_event=birth');
    assert.ok(fromApi.total > 0, 'the demo catalog has birth items');
    const shown = await countText();
    assert.equal(shown, fromApi.total, `共 ${shown} 项 should match the API total ${fromApi.total}`);

    const all = await api(portal.base, '/api/v1/services?limit=1');
    assert.ok(fromApi.total < all.total, 'the filter narrows the catalog');

    // All on one page (fewer than a page of results): the list is exactly the API's.
    const codes = await listedCodes();
    assert.equal(codes.length, Math.min(fromApi.total, 20));
    if (fromApi.total <= 20) assert.deepEqual([...codes].sort(), [...fromApi.codes].sort());
  });

  it('every listed item\'s guide names the 出生 theme', async () => {
    await open(page, `${portal.base}/services?life_event=birth`);
    const codes = await listedCodes();
    assert.ok(codes.length > 0);
    for (const code of codes) {
      await open(page, `${portal.base}/services/${encodeURIComponent(code)}`);
      const dt = page.locator('dl.kv dt', { hasText: '所属主题' });
      assert.equal(await dt.count(), 1, `${code}: the guide should list its themes (所属主题)`);
      const themes = await dt.locator('xpath=following-sibling::dd[1]').locator('a').allTextContents();
      assert.ok(themes.map((t) => t.trim()).includes('出生'), `${code}: themes ${JSON.stringify(themes)} should include 出生`);
      // The theme link leads back to the filtered list.
      assert.equal(
        await dt.locator('xpath=following-sibling::dd[1]').getByRole('link', { name: '出生', exact: true }).getAttribute('href'),
        '/services?life_event=birth',
      );
    }
  });

  it('an item outside the theme does not list it', async () => {
    const birth = new Set((await apiCodes('life_event=birth')).codes);
    const other = (await api(portal.base, '/api/v1/services?life_event=retire&limit=100')).items
      .find((i) => !birth.has(i.code));
    assert.ok(other, 'a retirement item that is not a birth item');
    await open(page, `${portal.base}/services?life_event=birth`);
    assert.ok(!(await listedCodes()).includes(other.code));
  });

  it('the pager\'s next link walks through every page of a filter', async () => {
    // 就业 has several pages of results in the demo catalog.
    const fromApi = await apiCodes('life_event=work');
    assert.ok(fromApi.total > 20, `need more than one page of work items, API has ${fromApi.total}`);

    await open(page, `${portal.base}/services?life_event=work`);
    assert.equal(await countText(), fromApi.total);
    const seen = [];
    const pages = Math.ceil(fromApi.total / 20);
    for (let n = 1; n <= pages; n++) {
      const current = page.locator('nav.pager [aria-current="page"]');
      assert.equal((await current.innerText()).replace(/\s+/g, ' ').trim().split(' ').pop(), String(n),
        `the pager marks page ${n} as current`);
      const codes = await listedCodes();
      assert.equal(codes.length, n < pages ? 20 : fromApi.total - 20 * (pages - 1), `page ${n} size`);
      seen.push(...codes);

      const next = page.locator('nav.pager').getByRole('link', { name: '下一页', exact: true });
      if (n < pages) {
        assert.equal(await next.count(), 1, `page ${n} has a 下一页 link`);
        const url = await follow(page, next);
        assert.equal(url.searchParams.get('page'), String(n + 1));
        assert.equal(url.searchParams.get('life_event'), 'work', 'the filter is kept across pages');
        assert.equal(await countText(), fromApi.total, 'the count is the same on every page');
      } else {
        assert.equal(await next.count(), 0, 'the last page has no 下一页 link');
        assert.equal(await page.locator('nav.pager').getByRole('link', { name: '上一页', exact: true }).count(), 1);
      }
    }
    assert.equal(new Set(seen).size, seen.length, 'no item appears on two pages');
    assert.deepEqual([...seen].sort(), [...fromApi.codes].sort(), 'the pages together list exactly the API\'s items');
  });
});
