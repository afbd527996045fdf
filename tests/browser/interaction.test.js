// 在线访谈 and 征集调查 end to end in a real browser (issue #17).
//
// 在线访谈: a moderator schedules
// an interview; two viewers open it (one in elder mode); one asks; the
// moderator starts it, shows and answers the question; both viewers see
// the start, the question and the answer appear without reloading, then
// the end; the moderator's console hears a question arrive live.
// 征集调查: a visitor on a phone in elder mode answers the open survey
// (single and multiple choice, a rating) once; a closed survey shows its
// results as charts with their tables; staff see the results.
// The new pages have no axe violations in normal, elder and English modes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startPortal, launchBrowser, newContext, open, signIn, follow, axeViolations, formatViolations,
} from './helpers.js';

const TITLE = '城市更新与老旧小区改造在线访谈';
const QUESTION = '我们小区是1995年建的，今年能加装电梯吗？费用怎么分摊？';
const ANSWER = '1995年建成的小区在今年改造范围内，加装电梯需本单元三分之二以上业主同意，费用按楼层分摊，政府每台补助20万元。';

let portal;
let browser;
let staff;
let viewerA;
let viewerB;
let interviewUrl;

before(async () => {
  portal = await startPortal({ label: 'interviews' });
  browser = await launchBrowser();
  staff = await (await newContext(browser, portal.base, { mode: 'zh-CN' })).newPage();
  await signIn(staff, portal.base);
  viewerA = await (await newContext(browser, portal.base, { mode: 'zh-CN' })).newPage();
  viewerB = await (await newContext(browser, portal.base, {
    mode: 'elder', viewport: { width: 375, height: 740 },
  })).newPage();
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

async function expectAccessible(page) {
  const v = await axeViolations(page);
  assert.equal(v.length, 0, `axe on ${page.url()}:\n${formatViolations(v)}`);
}

describe('a live interview in two browser pages at once', () => {
  it('is scheduled by a moderator with the guests named', async () => {
    await open(staff, `${portal.base}/admin/interviews`);
    await expectAccessible(staff);
    await follow(staff, staff.getByRole('link', { name: '新建访谈' }));
    await expectAccessible(staff);
    // Without a title or guests the form comes back saying so, as typed.
    await staff.getByLabel('访谈简介').fill('市住房城乡建委负责同志解读老旧小区改造和加装电梯政策。');
    await follow(staff, staff.getByRole('button', { name: '保存' }));
    const summary = staff.locator('#error-summary');
    assert.match(await summary.innerText(), /访谈标题：不能为空/);
    assert.match(await summary.innerText(), /嘉宾：不能为空/);
    assert.equal(await staff.getByLabel('访谈简介').inputValue(), '市住房城乡建委负责同志解读老旧小区改造和加装电梯政策。');
    await staff.getByLabel('访谈标题').fill(TITLE);
    await staff.getByLabel('嘉宾', { exact: false }).first().fill('张卫东｜市住房城乡建委副主任\n刘芳｜市住房城乡建委城市更新处处长');
    await staff.getByLabel('开始时间').fill('2026-12-18T15:00');
    await staff.getByLabel('结束时间').fill('2026-12-18T16:30');
    await follow(staff, staff.getByRole('button', { name: '保存' }));
    assert.match(staff.url(), /\/admin\/interviews\/\d+\?done=created/);
    await staff.getByRole('status').filter({ hasText: '访谈已创建' }).waitFor();
    await expectAccessible(staff);
    interviewUrl = new URL(await staff.getByRole('link', { name: '查看公开页面' }).getAttribute('href'), portal.base).href;
  });

  it('takes a question from a viewer, shown only after moderation', async () => {
    await open(viewerA, interviewUrl);
    await open(viewerB, interviewUrl);
    await expectAccessible(viewerA);
    await expectAccessible(viewerB);
    assert.equal((await viewerA.locator('[data-live-state]').innerText()).trim(), '预告');
    // An empty question: the message names the field.
    await follow(viewerA, viewerA.getByRole('button', { name: '提交问题' }));
    assert.match(await viewerA.locator('#error-summary').innerText(), /问题：不能为空/);
    await viewerA.getByLabel('网名（选填）').fill('观音桥居民');
    await viewerA.getByLabel('问题').fill(QUESTION);
    await follow(viewerA, viewerA.getByRole('button', { name: '提交问题' }));
    await viewerA.getByRole('status').filter({ hasText: '提问已提交' }).waitFor();
    assert.equal(await viewerA.locator('.talk-list').getByText(QUESTION).count(), 0);
  });

  it('runs live: both pages follow without reloading', async () => {
    // Mark both pages: a reload would lose the mark.
    for (const v of [viewerA, viewerB]) await v.evaluate(() => { window.__stillHere = true; });
    await open(staff, interviewUrl.replace('/interviews/', '/admin/interviews/'));
    assert.match(await staff.locator('#pending-title').innerText(), /\(1\)/);
    await follow(staff, staff.getByRole('button', { name: '开始直播' }));
    for (const v of [viewerA, viewerB]) {
      await v.locator('[data-live-state]').filter({ hasText: '直播中' }).waitFor();
    }
    // Another question arrives while the console is open: it says so.
    await viewerB.getByLabel('问题').fill('加装电梯后一楼住户有没有补偿？');
    await follow(viewerB, viewerB.getByRole('button', { name: '提交问题' }));
    await viewerB.evaluate(() => { window.__stillHere = true; });
    await staff.locator('[data-live-asked]').filter({ hasText: '又收到 1 条新提问' }).waitFor();
    // Answer the first question, picked with its link.
    await follow(staff, staff.getByRole('link', { name: '回答这个问题' }).first());
    await staff.getByLabel('发言人').selectOption({ label: '张卫东（市住房城乡建委副主任）' });
    assert.match(await staff.getByLabel('回答的问题').locator('option:checked').innerText(), /观音桥居民/);
    await staff.getByRole('textbox', { name: '内容' }).fill(ANSWER);
    await follow(staff, staff.getByRole('button', { name: '发布', exact: true }));
    await staff.getByRole('status').filter({ hasText: '已发布' }).waitFor();
    for (const v of [viewerA, viewerB]) {
      const list = v.locator('.talk-list');
      await list.getByText(ANSWER).waitFor();
      await list.locator('.talk-question').getByText(QUESTION).waitFor();
      await list.locator('.talk-answer .talk-quote').filter({ hasText: '网友「观音桥居民」' }).waitFor();
      assert.equal(await v.evaluate(() => window.__stillHere), true, 'the page was not reloaded');
    }
    await expectAccessible(viewerB);
  });

  it('ends, and the pages say so and keep the transcript', async () => {
    await follow(staff, staff.getByRole('button', { name: '结束访谈' }));
    for (const v of [viewerA, viewerB]) {
      await v.locator('[data-live-state]').filter({ hasText: '已结束' }).waitFor();
      assert.equal(await v.evaluate(() => window.__stillHere), true);
    }
    await open(viewerA, interviewUrl);
    await viewerA.getByRole('heading', { name: '文字实录' }).waitFor();
    assert.equal(await viewerA.getByRole('button', { name: '提交问题' }).count(), 0);
    await viewerA.locator('.talk-list').getByText(ANSWER).waitFor();
  });

  it('has accessible lists and transcripts in elder and English modes', async () => {
    const page = await (await newContext(browser, portal.base, { mode: 'en' })).newPage();
    await open(page, `${portal.base}/interviews`);
    await expectAccessible(page);
    await follow(page, page.locator('section[aria-labelledby="past-title"] a').first());
    await page.getByRole('heading', { name: 'Transcript' }).waitFor();
    await expectAccessible(page);
    await page.context().addCookies([{ name: 'zb_elder', value: '1', url: portal.base }]);
    await open(page, `${portal.base}/interviews?kind=police`);
    await expectAccessible(page);
    assert.match(await page.locator('h1').innerText(), /Police online/);
  });
});

describe('consultations and surveys', () => {
  it('takes a survey once from a phone in elder mode', async () => {
    const page = viewerB;
    await open(page, `${portal.base}/consultations`);
    await expectAccessible(page);
    await follow(page, page.getByRole('link', { name: '2026年度政务服务满意度调查' }));
    await expectAccessible(page);
    // Sending without the required answers: told which, nothing lost.
    await page.getByLabel('排队时间长').check();
    await follow(page, page.getByRole('button', { name: '提交答卷' }));
    await page.locator('#error-summary').waitFor();
    assert.equal(await page.getByLabel('排队时间长').isChecked(), true);
    await page.getByLabel('政务服务大厅窗口').check();
    await page.getByRole('group', { name: /总体满意度/ }).getByLabel('4').check();
    await page.getByLabel('来回跑多次').check();
    await follow(page, page.getByRole('button', { name: '提交答卷' }));
    await page.getByRole('status').filter({ hasText: '感谢参与' }).waitFor();
    await open(page, page.url().split('?')[0]);
    await page.getByText('您已参与过本次调查').waitFor();
    assert.equal(await page.getByRole('button', { name: '提交答卷' }).count(), 0);
  });

  it('shows a closed survey\'s results as charts with tables, in every mode', async () => {
    for (const mode of ['zh-CN', 'elder', 'en']) {
      const page = await (await newContext(browser, portal.base, { mode })).newPage();
      await open(page, `${portal.base}/consultations`);
      await follow(page, page.locator('section[aria-labelledby="closed-title"] a', { hasText: '公交线网' }));
      await page.locator('svg.bars').first().waitFor();
      assert.ok(await page.locator('table.data').count() >= 3);
      await expectAccessible(page);
      await page.context().close();
    }
    await open(staff, `${portal.base}/admin/consultations`);
    await expectAccessible(staff);
    await follow(staff, staff.getByRole('link', { name: '2026年度政务服务满意度调查' }));
    await staff.getByText(/共收到答卷 121 份/).waitFor();
    await expectAccessible(staff);
  });
});

describe('舆情监测 (public-opinion monitoring)', () => {
  it('gathers what was said, groups it by topic and shows the items behind a number', async () => {
    await open(staff, `${portal.base}/admin/opinion?days=90`);
    await follow(staff, staff.locator('form[action="/admin/opinion/run"] button'));
    await staff.locator('.alert-success').waitFor();
    // The question asked in the interview above is among the items, read
    // as 住房物业 (加装电梯).
    await open(staff, `${portal.base}/admin/opinion/items?source=question`);
    const item = staff.locator('.opinion-item', { hasText: '加装电梯' }).first();
    assert.match(await item.innerText(), /住房物业/);
    // From the overview's busiest topic to its items.
    await open(staff, `${portal.base}/admin/opinion?days=90`);
    const row = staff.locator('#topics-title ~ .table-wrap tbody tr').first();
    const total = Number((await row.locator('td').first().innerText()).trim());
    assert.ok(total > 0);
    await follow(staff, row.locator('th a'));
    assert.match(await staff.locator('.results-count').innerText(), new RegExp(`共 ${total} 条`));
  });

  it('keeps a watch list and marks the items that name a watched word', async () => {
    await open(staff, `${portal.base}/admin/opinion`);
    await staff.locator('#watch-word').fill('加装电梯');
    await follow(staff, staff.locator('form[action="/admin/opinion/watch"] button'));
    await follow(staff, staff.locator('#watch a', { hasText: '加装电梯' }));
    assert.match(await staff.locator('.opinion-item').first().innerText(), /关注词：加装电梯/);
    for (const mode of ['elder', 'en']) {
      const context = await newContext(browser, portal.base, { mode, viewport: { width: 375, height: 740 } });
      try {
        const p = await context.newPage();
        await signIn(p, portal.base);
        for (const path of ['/admin/opinion?days=90', '/admin/opinion/items?watched=%E5%8A%A0%E8%A3%85%E7%94%B5%E6%A2%AF']) {
          await open(p, portal.base + path);
          const v = await axeViolations(p);
          assert.equal(v.length, 0, `axe on ${path} [${mode}]:\n${formatViolations(v)}`);
        }
      } finally {
        await context.close();
      }
    }
  });
});
