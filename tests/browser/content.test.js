// 政务公开 in a real browser (#16): an editor writes in the rich editor
// (pasting from Word keeps headings and tables, drops styles), a reviewer
// returns it with a comment, the editor fixes it, two reviewers publish
// it, and a citizen finds it from the home page. Every new page passes
// axe in normal, elder and English modes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  startPortal, launchBrowser, newContext, open, signIn, follow, zhibanCli, axeViolations, formatViolations,
  ADMIN_PASSWORD,
} from './helpers.js';

let portal;
let browser;
let editor;
let reviewer;
let finalReviewer;
let articleUrl;

const FIXTURES = new URL('../../crates/zhiban-testing/fixtures/', import.meta.url);
const PNG = await readFile(new URL('photo.png', FIXTURES));
const XLSX = await readFile(new URL('budget.xlsx', FIXTURES));

async function expectAccessible(page) {
  const v = await axeViolations(page);
  assert.equal(v.length, 0, `axe on ${page.url()}:\n${formatViolations(v)}`);
}

async function staffPage(user) {
  const ctx = await newContext(browser, portal.base, { mode: 'zh-CN' });
  const page = await ctx.newPage();
  await signIn(page, portal.base, user);
  return page;
}

before(async () => {
  portal = await startPortal({ label: 'content' });
  process.env.ZHIBAN_ADMIN_PASSWORD = ADMIN_PASSWORD;
  for (const [user, role] of [['editor', 'content_editor'], ['reviewer2', 'reviewer']]) {
    await zhibanCli(portal, ['create-admin', '--username', user, '--role', role]);
  }
  browser = await launchBrowser();
  editor = await staffPage('editor');
  reviewer = await staffPage('admin');
  finalReviewer = await staffPage('reviewer2');
});

after(async () => {
  await browser?.close();
  await portal?.stop();
});

describe('publishing an article', () => {
  it('the editor writes in the rich editor, pasting from Word, and sends it for review', async () => {
    await open(editor, `${portal.base}/admin/content/new`);
    await expectAccessible(editor);
    await editor.getByLabel(/要闻动态/).first().check();
    await editor.locator('#f-title').fill('全市政务服务大厅周六延时服务');
    const box = editor.locator('.rich-box');
    await box.click();
    // What Word puts on the clipboard: styled paragraphs, a heading, a table.
    await box.evaluate((el) => {
      const data = new DataTransfer();
      data.setData('text/html', '<html><head><style>p{margin:0}</style></head><body>'
        + '<h1 class="MsoTitle" style="color:red">一、服务时间</h1>'
        + '<p class="MsoNormal" style="font-family:仿宋">每周六 9:00—17:00，<b>节假日除外</b>。<o:p></o:p></p>'
        + '<table style="width:100%"><tr><th>大厅</th><th>地址</th></tr><tr><td>市政务服务中心</td><td>渝北区青枫北路 1 号</td></tr></table>'
        + '</body></html>');
      el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    });
    const pasted = await box.innerHTML();
    assert.match(pasted, /<h1>一、服务时间<\/h1>|<h1>一、服务时间/);
    assert.match(pasted, /<table>/);
    assert.doesNotMatch(pasted, /style=|class=|仿宋/, 'styles are dropped on paste');
    await follow(editor, editor.getByRole('button', { name: '保存并送审' }));
    assert.match(await editor.getByRole('status').innerText(), /已送审/);
    // Stored as clean HTML: the page title is the only h1.
    assert.match(await editor.locator('.article-body').innerHTML(), /<h2>一、服务时间<\/h2>/);
    await expectAccessible(editor);
  });

  it('the first reviewer returns it with a comment, which the editor reads', async () => {
    await open(reviewer, `${portal.base}/admin/content?review=1`);
    await expectAccessible(reviewer);
    await follow(reviewer, reviewer.getByRole('link', { name: '全市政务服务大厅周六延时服务' }));
    articleUrl = reviewer.url().split('?')[0];
    await follow(reviewer, reviewer.getByRole('button', { name: '退回修改' }));
    assert.match(await reviewer.locator('#error-summary').innerText(), /意见或原因/, 'a reason is required');
    await reviewer.locator('#f-note').fill('请在标题中写明开始日期');
    await follow(reviewer, reviewer.getByRole('button', { name: '退回修改' }));
    assert.match(await reviewer.getByRole('status').innerText(), /已退回/);
    await open(editor, articleUrl);
    assert.match(await editor.locator('.timeline').innerText(), /请在标题中写明开始日期/);
  });

  it('the editor fixes the title, previews it on a phone width, and sends it again', async () => {
    await editor.locator('#f-title').fill('12 月 12 日起全市政务服务大厅周六延时服务');
    await follow(editor, editor.getByRole('button', { name: '保存草稿' }));
    await open(editor, `${articleUrl}/preview?width=phone`);
    const article = await editor.locator('article').boundingBox();
    assert.ok(article.width <= 380, `phone preview is ${article.width}px wide`);
    assert.match(await editor.locator('h1').innerText(), /12 月 12 日起/);
    await expectAccessible(editor);
    await open(editor, articleUrl);
    await editor.getByRole('button', { name: '保存并送审' }).click();
    await editor.waitForURL(/done=submit/);
  });

  it('two reviewers pass it and it is published', async () => {
    await open(reviewer, articleUrl);
    await follow(reviewer, reviewer.getByRole('button', { name: /审核通过/ }));
    assert.match(await reviewer.getByRole('status').innerText(), /送下一级/);
    assert.equal(await reviewer.getByRole('button', { name: /终审通过/ }).count(), 0, 'one person, one stage');
    await open(finalReviewer, articleUrl);
    await follow(finalReviewer, finalReviewer.getByRole('button', { name: '终审通过并发布' }));
    assert.match(await finalReviewer.getByRole('status').innerText(), /已发布/);
  });

  for (const mode of ['zh-CN', 'elder', 'en']) {
    it(`a citizen finds it from the home page (${mode})`, async () => {
      const ctx = await newContext(browser, portal.base, { mode });
      const page = await ctx.newPage();
      try {
        await open(page, `${portal.base}/`);
        if (mode === 'elder') {
          // 长辈版's home keeps to tiles and the notices (停水停电, 交通管制);
          // news is one tap away.
          assert.match(await page.locator('#elder-notices').innerText(), /通知公告/);
          await follow(page, page.getByRole('link', { name: '政务公开' }));
        }
        await follow(page, page.getByRole('link', { name: /12 月 12 日起全市政务服务大厅周六延时服务/ }));
        assert.match(await page.locator('h1').innerText(), /周六延时服务/);
        assert.match(await page.locator('.article-body table').innerText(), /市政务服务中心/);
        await expectAccessible(page);
        await follow(page, page.locator('.breadcrumbs a').nth(2));
        assert.match(page.url(), /\/sites\/city\/yaowen/);
        await expectAccessible(page);
        await open(page, `${portal.base}/sites/police`);
        await expectAccessible(page);
        await open(page, `${portal.base}/sites/city`);
        assert.match(await page.locator('#apply-disclosure').innerText(), /依申请公开|Ask for government information/);
        await expectAccessible(page);
        await open(page, `${portal.base}/police`);
        await expectAccessible(page);
      } finally {
        await ctx.close();
      }
    });
  }

  it('site health and site settings pass axe and fit a phone', async () => {
    await open(editor, `${portal.base}/admin/content/health`);
    assert.match(await editor.locator('h1').innerText(), /网站健康/);
    assert.match(await editor.locator('main').innerText(), /江北区人民政府[\s\S]*不达标/);
    await expectAccessible(editor);
    await open(reviewer, `${portal.base}/admin/content/sites`);
    await expectAccessible(reviewer);
    await editor.setViewportSize({ width: 375, height: 812 });
    try {
      await open(editor, `${portal.base}/admin/content/health`);
      const over = await editor.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(over <= 0, `health scrolls sideways by ${over}px`);
    } finally {
      await editor.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('fits a 375 px phone without sideways scrolling', async () => {
    const ctx = await newContext(browser, portal.base, { mode: 'elder', viewport: { width: 375, height: 812 } });
    const page = await ctx.newPage();
    try {
      for (const url of [articleUrl.replace(/\/admin\/content\//, '/articles/'), '/sites/city', '/sites/police/bianmin']) {
        await open(page, url.startsWith('http') ? url : `${portal.base}${url}`);
        const over = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        assert.ok(over <= 0, `${url} scrolls sideways by ${over}px`);
      }
    } finally {
      await ctx.close();
    }
  });
});

let noticeUrl;

/** A lazy picture, scrolled to and waited for: whether it drew. */
async function loaded(img) {
  await img.scrollIntoViewIfNeeded();
  return img.evaluate((i) => (i.complete ? i.naturalWidth > 0
    : new Promise((done) => {
      i.addEventListener('load', () => done(i.naturalWidth > 0));
      i.addEventListener('error', () => done(false));
    })));
}

describe('files, versions, wanted notices, topics and pictures', () => {

  it('an oversized file is refused at once, a picture without alt text on saving, and nothing typed is lost', async () => {
    await open(editor, `${portal.base}/admin/content/new`);
    await editor.locator('#f-kind').selectOption('notice');
    await editor.getByLabel(/渝州市人民政府 · 通知公告/).check();
    await editor.locator('#f-title').fill('渝州市2025年市级“三公”经费决算情况说明');
    const box = editor.locator('.rich-box');
    await box.click();
    await editor.keyboard.type('现将2025年市级“三公”经费决算情况公开如下，明细见附件。');
    // 51 MB: over the 50 MB limit, said before any upload starts.
    const big = path.join(await mkdtemp(path.join(os.tmpdir(), 'zhiban-')), '全年台账.pdf');
    await writeFile(big, Buffer.alloc(51 * 1024 * 1024, 37));
    await editor.locator('#f-new_attachment').setInputFiles(big);
    const said = editor.getByRole('alert').filter({ hasText: '全年台账.pdf' });
    await said.waitFor();
    assert.match(await said.innerText(), /超过 50 MB/);
    assert.equal(await editor.locator('#f-new_attachment').evaluate((i) => i.files.length), 0, 'the file is not kept');
    await editor.locator('#f-new_attachment').setInputFiles({
      name: '三公经费决算表.xlsx',
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: XLSX,
    });
    await editor.locator('#f-new_image').setInputFiles({ name: '构成.png', mimeType: 'image/png', buffer: PNG });
    await follow(editor, editor.getByRole('button', { name: '保存并送审' }));
    assert.match(await editor.locator('#error-summary').innerText(), /图片说明：不能为空/);
    assert.equal(await editor.locator('#f-title').inputValue(), '渝州市2025年市级“三公”经费决算情况说明');
    assert.match(await editor.locator('.rich-box').innerText(), /明细见附件/);
    await expectAccessible(editor);
    await editor.locator('#f-new_image_alt').fill('2025年三公经费构成：公务用车运行费占比最高');
    await editor.locator('#f-new_image').setInputFiles({ name: '构成.png', mimeType: 'image/png', buffer: PNG });
    await editor.locator('#f-new_attachment').setInputFiles({
      name: '三公经费决算表.xlsx',
      mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
      buffer: XLSX,
    });
    await follow(editor, editor.getByRole('button', { name: '保存并送审' }));
    assert.match(await editor.getByRole('status').innerText(), /已送审/);
    assert.match(await editor.locator('main').innerText(), /三公经费决算表\.xlsx[\s\S]*Excel/);
    noticeUrl = editor.url().split('?')[0];
  });

  it('two reviewers publish it and a citizen downloads the attachment, its type and size shown', async () => {
    await open(reviewer, noticeUrl);
    await follow(reviewer, reviewer.getByRole('button', { name: /审核通过/ }));
    await open(finalReviewer, noticeUrl);
    await follow(finalReviewer, finalReviewer.getByRole('button', { name: '终审通过并发布' }));
    for (const mode of ['zh-CN', 'elder', 'en']) {
      const ctx = await newContext(browser, portal.base, { mode });
      const page = await ctx.newPage();
      try {
        await open(page, noticeUrl.replace('/admin/content/', '/articles/'));
        assert.match(await page.locator('.article-files').innerText(), /三公经费决算表\.xlsx\s*（Excel，1 KB）/);
        const img = page.getByRole('img', { name: /公务用车运行费占比最高/ });
        assert.ok(await loaded(img), 'the picture loads');
        await expectAccessible(page);
        const [download] = await Promise.all([
          page.waitForEvent('download'),
          page.getByRole('link', { name: '三公经费决算表.xlsx' }).click(),
        ]);
        assert.equal(download.suggestedFilename(), '三公经费决算表.xlsx');
      } finally {
        await ctx.close();
      }
    }
  });

  it('after a change, the reviewer compares the versions', async () => {
    await open(editor, noticeUrl);
    await editor.locator('#f-title').fill('渝州市2025年市级“三公”经费决算情况说明（更正）');
    await follow(editor, editor.getByRole('button', { name: '保存草稿' }));
    await open(reviewer, noticeUrl);
    await follow(reviewer, reviewer.getByRole('link', { name: /查看修改内容/ }));
    assert.match(await reviewer.locator('h1').innerText(), /版本对比/);
    assert.match(await reviewer.locator('.diff-section ins').first().innerText(), /更正/);
    await expectAccessible(reviewer);
  });

  it('wanted notices, topics and an interpretation picture read well in every mode', async () => {
    for (const mode of ['zh-CN', 'elder', 'en']) {
      const ctx = await newContext(browser, portal.base, { mode });
      const page = await ctx.newPage();
      try {
        await open(page, `${portal.base}/sites/police/tongji`);
        await expectAccessible(page);
        assert.match(await page.locator('.article-list').innerText(), /已抓获|Captured/, 'caught ones are marked in the list');
        await follow(page, page.locator('.article-list a').first());
        assert.match(await page.locator('.wanted-facts').innerText(), /悬赏|Reward/);
        await expectAccessible(page);
        await open(page, `${portal.base}/sites/police/zt-fanzha`);
        assert.match(await page.locator('.lead').innerText(), /96110/);
        await expectAccessible(page);
        await open(page, `${portal.base}/sites/city/jiedu`);
        await follow(page, page.locator('.article-list a').first());
        assert.ok(await loaded(page.locator('.article-graphic img')), 'the 一图读懂 picture draws');
        await expectAccessible(page);
      } finally {
        await ctx.close();
      }
    }
  });
});

describe('the new staff pages in elder and English modes', () => {
  for (const mode of ['elder', 'en']) {
    it(`pass axe (${mode})`, async () => {
      for (const [user, pages] of [
        ['editor', ['/admin/content/new', noticeUrl, `${noticeUrl}/diff`, '/admin/content/health', '/admin/content?review=1']],
        ['reviewer2', ['/admin/content/sites']],
      ]) {
        const ctx = await newContext(browser, portal.base, { mode });
        const page = await ctx.newPage();
        try {
          await signIn(page, portal.base, user);
          for (const url of pages) {
            await open(page, url.startsWith('http') ? url : `${portal.base}${url}`);
            await expectAccessible(page);
          }
        } finally {
          await ctx.close();
        }
      }
    });
  }
});
