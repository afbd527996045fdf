// 智能客服 in a real browser (issue #19): from the launcher on any page a
// person asks, reads the answer with its source, follows up without naming
// the service again, picks between two items, and is offered a person when
// the assistant does not know; an editor answers that question in the
// knowledge base and the assistant answers it next time; a person who asks
// for an agent is answered live by one in another browser (the queue, the
// reply and the end reach the other page without a reload). Every page
// passes axe in normal, elder and English mode.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startPortal, launchBrowser, newContext, open, signIn, follow, axeViolations, formatViolations,
} from './helpers.js';

let portal;
let browser;

before(async () => {
  // Agents answer round the clock here, so the hand-off test does not
  // depend on when CI runs (the hours themselves are tested in Rust).
  portal = await startPortal({
    label: 'assistant',
    env: { ZHIBAN__ASSISTANT__AGENT_HOURS: '00:00-24:00', ZHIBAN__ASSISTANT__AGENT_DAYS: 'all' },
  });
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

async function ask(page, q) {
  await page.locator('#assistant-q').fill(q);
  await follow(page, page.locator('.chat-form button[type="submit"]'));
}

const lastAnswer = (page) => page.locator('.chat-turn').last().locator('.chat-a');

for (const mode of ['zh-CN', 'elder', 'en']) {
  describe(`assistant, ${mode}`, () => {
    it('answers, follows up, lets the person pick, and offers a person', async () => {
      const context = await newContext(browser, portal.base, { mode, viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      try {
        await open(page, `${portal.base}/services`);
        await follow(page, page.locator('a.assistant-launcher'));
        await expectAccessible(page);
        await ask(page, '身份证丢了怎么补办');
        const a = lastAnswer(page);
        assert.match(await a.innerText(), /居民身份证补领/);
        assert.equal(await a.locator('a[href="/services/500000-GA-HZ-0001-03"]').count(), 1);
        await ask(page, '要多少钱');
        assert.match(await lastAnswer(page).innerText(), /工本费40元/);
        await expectAccessible(page);
        // Two items fit: both are shown, and one is picked with a button.
        await ask(page, '办居住证要带什么');
        assert.match(await lastAnswer(page).innerText(), /居住证签注/);
        await follow(page, page.locator('.chat-choices button', { hasText: '居住证申领' }));
        const picked = await lastAnswer(page).innerText();
        assert.match(picked, /居住证申领/);
        assert.doesNotMatch(picked, /居住证签注/);
        await ask(page, '我家阳台上的多肉植物怎么养');
        await page.locator('#person-title').waitFor();
        await expectAccessible(page);
        await follow(page, page.locator('form[action="/assistant/restart"] button'));
        assert.equal(await page.locator('.chat-turn').count(), 0);
      } finally {
        await context.close();
      }
    });
  });
}

describe('knowledge base', () => {
  it('an editor answers a question from the queue and the assistant uses it', async () => {
    const context = await newContext(browser, portal.base, { mode: 'zh-CN' });
    const page = await context.newPage();
    const citizen = await (await newContext(browser, portal.base, { mode: 'zh-CN' })).newPage();
    try {
      await open(citizen, `${portal.base}/assistant`);
      await ask(citizen, '政务中心可以带宠物进去吗');
      await citizen.locator('#person-title').waitFor();
      await signIn(page, portal.base);
      await open(page, `${portal.base}/admin/assistant`);
      await expectAccessible(page);
      await follow(page, page.locator('tr', { hasText: '政务中心可以带宠物进去吗' }).locator('a'));
      await page.locator('#kb_answer').fill('除导盲犬等服务犬外，宠物不能进入政务服务中心办事大厅。');
      await follow(page, page.locator('form.form button[type="submit"]'));
      await page.locator('#error-summary').waitFor();
      await expectAccessible(page);
      await page.locator('#kb_links').fill('渝州市政务服务中心|/departments');
      await follow(page, page.locator('form.form button[type="submit"]'));
      assert.match(await page.locator('[role="status"]').innerText(), /已保存/);
      await ask(citizen, '政务中心可以带宠物进去吗');
      const a = await lastAnswer(citizen).innerText();
      assert.match(a, /导盲犬/);
      await follow(citizen, lastAnswer(citizen).locator('a').first());
      assert.match(await citizen.locator('h1').innerText(), /宠物/);
      await expectAccessible(citizen);
    } finally {
      await context.close();
    }
  });
});

for (const mode of ['zh-CN', 'elder', 'en']) {
  describe(`live hand-off, ${mode}`, () => {
    it('an agent takes the chat and answers while the citizen watches', async () => {
      const agentContext = await newContext(browser, portal.base, { mode, viewport: { width: 1280, height: 900 } });
      const citizenContext = await newContext(browser, portal.base, { mode, viewport: { width: 375, height: 740 } });
      const desk = await agentContext.newPage();
      const citizen = await citizenContext.newPage();
      const question = '隔壁老王家的猫爬树上下不来了';
      try {
        await signIn(desk, portal.base);
        await open(desk, `${portal.base}/admin/chats`);
        await expectAccessible(desk);

        await open(citizen, `${portal.base}/assistant`);
        await ask(citizen, question);
        await citizen.locator('#person-title').waitFor();
        await follow(citizen, citizen.locator('form[action="/assistant/agent"] button'));
        await citizen.locator('[data-chat-status]').waitFor();
        await expectAccessible(citizen);

        // The queue shows the new chat without a reload.
        const row = desk.locator('[data-queue] tr', { hasText: question });
        await row.waitFor({ timeout: 15_000 });
        await follow(desk, row.locator('form[action$="/accept"] button'));
        await desk.locator('#chat-body').waitFor();
        // What the person asked the assistant is there.
        assert.match(await desk.locator('.chat').innerText(), new RegExp(question));
        await expectAccessible(desk);
        // A canned answer fills the box; the agent adds a link and sends
        // without leaving the page.
        await desk.locator('#chat-canned').selectOption({ index: 1 });
        assert.notEqual(await desk.locator('#chat-body').inputValue(), '');
        await desk.locator('#chat-body').fill('可以拨打 119 求助，或看 /services/500000-GA-HZ-0001-03');
        await desk.locator('[data-chat-form] button[type="submit"]').click();
        await desk.locator('.chat-line-agent', { hasText: '119' }).waitFor({ timeout: 15_000 });
        assert.equal(await desk.locator('#chat-body').inputValue(), '');

        // The citizen sees it arrive, with the link, without a reload.
        const reply = citizen.locator('.chat-line-agent', { hasText: '119' });
        await reply.waitFor({ timeout: 15_000 });
        assert.equal(await reply.locator('a[href="/services/500000-GA-HZ-0001-03"]').count(), 1);
        await citizen.locator('#assistant-q').fill('好的，谢谢您');
        await citizen.locator('.chat-form button[type="submit"]').click();
        await desk.locator('.chat-line-citizen', { hasText: '好的，谢谢您' }).waitFor({ timeout: 15_000 });
        await expectAccessible(citizen);

        await follow(desk, desk.locator('form[action$="/close"] button'));
        await citizen.locator('[data-chat-open-only]').first().waitFor({ state: 'hidden', timeout: 15_000 });
        assert.ok(await citizen.locator('.chat-line-system').count() >= 3);
        await expectAccessible(citizen);

        await open(desk, `${portal.base}/admin/chats/canned`);
        await expectAccessible(desk);
        await follow(desk, desk.locator('form[action="/admin/chats/canned"] button'));
        assert.equal(await desk.locator('[aria-invalid="true"]').count(), 2);
        await expectAccessible(desk);
      } finally {
        await agentContext.close();
        await citizenContext.close();
      }
    });
  });
}
