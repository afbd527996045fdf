// Shared helpers for the browser tests.
//
// Each test file calls `startPortal()` once (in `before`) and `stop()` once
// (in `after`): it owns a fresh data directory, a staff account made with the
// CLI and its own `zhiban serve` process on a free loopback port.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm, mkdir } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const execFileP = promisify(execFile);

export const TEST_DIR = path.dirname(fileURLToPath(import.meta.url));
export const ARTIFACTS = path.join(TEST_DIR, 'artifacts');
export const ZHIBAN_BIN = process.env.ZHIBAN_BIN
  ? path.resolve(process.env.ZHIBAN_BIN)
  : path.resolve(TEST_DIR, '../../target/debug/zhiban');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export const ADMIN_USER = 'admin';
export const ADMIN_PASSWORD = 'Passw0rd!x';
/** The security auditor (三员分立: the administrator does not read the audit log). */
export const AUDITOR_USER = 'auditor';

const READY_TIMEOUT_MS = 60_000;

/** A TCP port that was free a moment ago on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Poll GET /readyz until it answers 200, the process exits, or the timeout.
 * Resolves true when ready, false when the process died first.
 */
async function waitReady(base, child, deadline) {
  let exited = child.exitCode !== null;
  const onExit = () => { exited = true; };
  child.once('exit', onExit);
  try {
    while (!exited) {
      if (Date.now() > deadline) {
        throw new Error(`zhiban did not become ready at ${base}/readyz within ${READY_TIMEOUT_MS / 1000}s`);
      }
      try {
        const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return true;
      } catch {
        // not listening yet
      }
      // Poll interval while the server starts: a bounded wait for an external
      // process, not a sleep standing in for a condition.
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  } finally {
    child.off('exit', onExit);
  }
}

/**
 * Start a portal on a fresh data dir with a staff account.
 * Returns { base, dataDir, logs(), stop() }.
 */
export async function startPortal({ label = 'zhiban', env = {} } = {}) {
  if (!existsSync(ZHIBAN_BIN)) {
    throw new Error(`zhiban binary not found at ${ZHIBAN_BIN}: run \`cargo build --bin zhiban\` or set ZHIBAN_BIN`);
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), `zhiban-browser-${label}-`));
  try {
    for (const [user, role] of [[ADMIN_USER, 'system_admin'], [AUDITOR_USER, 'auditor']]) {
      await execFileP(ZHIBAN_BIN, ['create-admin', '--data-dir', dataDir, '--username', user, '--role', role], {
        env: { ...process.env, ZHIBAN_ADMIN_PASSWORD: ADMIN_PASSWORD },
      });
    }
    return await serve(dataDir, env);
  } catch (err) {
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

async function serve(dataDir, extraEnv = {}) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let output = '';
  // The free port can be taken between our probe and the server's bind: try again then.
  for (let attempt = 1; attempt <= 5; attempt++) {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const child = spawn(ZHIBAN_BIN, ['serve', '--data-dir', dataDir, '--listen', `127.0.0.1:${port}`], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // Every test here signs in from 127.0.0.1; the per-address limit
      // (default 10 a minute) has its own test in the Rust suite. The
      // portal is reached as 127.0.0.1 and as localhost (passkeys need a
      // domain name), so the issuer follows the Host, as in development.
      env: {
        ...process.env,
        ZHIBAN__SECURITY__SIGN_IN_PER_MINUTE: '600',
        ZHIBAN__OIDC_ISSUER_FROM_HOST: 'true',
        ...extraEnv,
      },
    });
    output = '';
    const keep = (chunk) => {
      output += chunk;
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.setEncoding('utf8').on('data', keep);
    child.stderr.setEncoding('utf8').on('data', keep);
    // Safety net: never leave a server behind if the test process ends early.
    const killOnExit = () => child.kill('SIGKILL');
    process.once('exit', killOnExit);

    let ready;
    try {
      ready = await waitReady(base, child, deadline);
    } catch (err) {
      child.kill('SIGKILL');
      process.off('exit', killOnExit);
      throw new Error(`${err.message}\n--- server output ---\n${output}`);
    }
    if (!ready) {
      process.off('exit', killOnExit);
      if (/address already in use|os error 98/i.test(output) && attempt < 5) continue;
      throw new Error(`zhiban serve exited with code ${child.exitCode}\n--- server output ---\n${output}`);
    }

    const stop = async () => {
      process.off('exit', killOnExit);
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dataDir, { recursive: true, force: true });
    };
    return { base, dataDir, logs: () => output, stop };
  }
  throw new Error(`could not bind a free port\n${output}`);
}

/** Launch Debian's Chromium (never a downloaded browser). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Preference cookies for a mode name. */
export const MODES = {
  'zh-CN': { lang: 'zh-CN' },
  elder: { lang: 'zh-CN', elder: true },
  contrast: { lang: 'zh-CN', contrast: true },
  en: { lang: 'en' },
  'zh-HK': { lang: 'zh-HK' },
};

export function prefCookies(base, mode) {
  const m = MODES[mode];
  if (!m) throw new Error(`unknown mode ${mode}`);
  const cookies = [{ name: 'zb_lang', value: m.lang, url: base }];
  if (m.elder) cookies.push({ name: 'zb_elder', value: '1', url: base });
  if (m.contrast) cookies.push({ name: 'zb_contrast', value: '1', url: base });
  return cookies;
}

/** A new browser context; `mode` sets the preference cookies. */
export async function newContext(browser, base, { mode, ...options } = {}) {
  const context = await browser.newContext({
    locale: 'zh-CN',
    viewport: { width: 1280, height: 900 },
    ...options,
  });
  if (mode) await context.addCookies(prefCookies(base, mode));
  return context;
}

/** Open `url`, fail on a non-2xx answer unless `status` says otherwise. */
export async function open(page, url, { status } = {}) {
  const res = await page.goto(url, { waitUntil: 'load' });
  if (!res) throw new Error(`no response for ${url}`);
  const got = res.status();
  if (status !== undefined ? got !== status : got >= 400) {
    throw new Error(`GET ${url} answered ${got}${status !== undefined ? `, expected ${status}` : ''}`);
  }
  return res;
}

export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

/** Run axe with the WCAG 2.1 A/AA tags and return its violations. */
export async function axeViolations(page) {
  const results = await new AxeBuilder({ page }).withTags(WCAG_TAGS).analyze();
  return results.violations;
}

/** A readable report of axe violations: id, impact, help, each target. */
export function formatViolations(violations) {
  return violations
    .map((v) => {
      const nodes = v.nodes
        .map((n) => {
          const target = n.target.map((t) => (Array.isArray(t) ? t.join(' >>> ') : t)).join(' | ');
          const why = (n.failureSummary || '').split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
          return `      - ${target}\n        ${why}\n        ${n.html.slice(0, 200)}`;
        })
        .join('\n');
      return `  * ${v.id} (${v.impact}): ${v.help}\n    ${v.helpUrl}\n${nodes}`;
    })
    .join('\n');
}

/**
 * Click something that loads a new page (a link, a submit button) and wait
 * for that page's load event. Unlike waitForURL this also works when the new
 * page has the same URL (preference links redirect back to where they were).
 */
export async function follow(page, locator) {
  await Promise.all([page.waitForEvent('load'), locator.click()]);
  return new URL(page.url());
}

/** RFC 4648 base32 → bytes (authenticator secrets). */
function base32Decode(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of text.replace(/[\s=]/g, '').toUpperCase()) {
    const idx = alphabet.indexOf(ch);
    if (idx < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | idx;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The RFC 6238 code (SHA-1, 6 digits, 30 s) for time step `step`. */
export function totpCode(secret, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const bin = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(bin % 1_000_000).padStart(6, '0');
}

// Per portal and account (by port, so 127.0.0.1 and localhost are the same portal): the
// authenticator secret and the last time step used (the portal accepts each
// step once, and one step ahead for clock skew).
const authenticators = new Map();
const portalKey = (base, user) => `${new URL(base).port}|${user}`;

async function nextStep(base, user) {
  const auth = authenticators.get(portalKey(base, user));
  for (;;) {
    const now = Math.floor(Date.now() / 1000 / 30);
    const step = Math.max(now, auth.lastStep + 1);
    if (step <= now + 1) {
      auth.lastStep = step;
      return step;
    }
    // Both usable steps are spent: wait for the clock (a real condition).
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * Sign in as the staff account in `page`'s context: the password, then the
 * one-time code. The first sign-in on a portal enrols the authenticator from
 * the key shown on the page, as a person would type it into their phone.
 */
export async function signIn(page, base, user = ADMIN_USER) {
  await open(page, `${base}/admin/login`);
  await page.locator('#username').fill(user);
  await page.locator('#password').fill(ADMIN_PASSWORD);
  let url = await follow(page, page.locator('form[action="/admin/login"] button[type="submit"]'));
  if (!url.pathname.startsWith('/admin/login/verify')) throw new Error(`password step went to ${url}`);
  const shown = page.locator('#totp-secret');
  if (await shown.count()) {
    authenticators.set(portalKey(base, user), { secret: (await shown.innerText()).replace(/\s/g, ''), lastStep: 0 });
  }
  if (!authenticators.has(portalKey(base, user))) throw new Error('no authenticator enrolled for this portal');
  const step = await nextStep(base, user);
  await page.locator('#code').fill(totpCode(authenticators.get(portalKey(base, user)).secret, step));
  url = await follow(page, page.locator('form[action="/admin/login/verify"] button[type="submit"]'));
  if (url.pathname.startsWith('/admin/login')) throw new Error('sign-in failed at the one-time code');
}

/** Runs `zhiban ARGS…` against a portal's data directory; returns stdout. */
export async function zhibanCli(portal, args) {
  const { stdout } = await execFileP(ZHIBAN_BIN, ['--data-dir', portal.dataDir, ...args], {
    env: { ...process.env, ZHIBAN__LOG__LEVEL: 'warn' },
  });
  return stdout;
}

/** JSON from the portal's API. */
export async function api(base, pathAndQuery) {
  const res = await fetch(`${base}${pathAndQuery}`);
  if (!res.ok) throw new Error(`GET ${pathAndQuery} answered ${res.status}`);
  return res.json();
}

/** The code of the 居民身份证补领 guide (first search hit), else the first catalog item. */
export async function guideCode(base) {
  const res = await fetch(`${base}/search?q=${encodeURIComponent('身份证补领')}`);
  const html = await res.text();
  const m = html.match(/href="\/services\/([^"?#/]+)"/);
  if (m) return decodeURIComponent(m[1]);
  const list = await api(base, '/api/v1/services?limit=1');
  return list.items[0].code;
}

export async function ensureArtifacts() {
  await mkdir(ARTIFACTS, { recursive: true });
  return ARTIFACTS;
}

/** Parse RFC 4180 CSV (quoted fields may hold commas, quotes and newlines). */
export function parseCsv(text) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const rows = [];
  let row = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') { field += '"'; i++; } else quoted = false;
      } else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(field); field = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field); rows.push(row); row = []; field = '';
    } else field += c;
  }
  if (field !== '' || row.length) { row.push(field); rows.push(row); }
  return rows;
}

/** Write rows as CSV (UTF-8 with BOM, CRLF), quoting where needed. */
export function toCsv(rows) {
  const q = (v) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return `\ufeff${rows.map((r) => r.map(q).join(',')).join('\r\n')}\r\n`;
}

/** The newest SMS code in the development outbox, read by a signed-in staff page. */
export async function smsCodeFromOutbox(staffPage, base) {
  await open(staffPage, `${base}/admin/sms`);
  const body = await staffPage.locator('table.data tbody tr').first().innerText();
  return body.match(/\b(\d{6})\b/)[1];
}

/** Registers a citizen through the pages (the code read from the outbox by `staffPage`). */
export async function registerCitizen(page, staffPage, base, phone, password) {
  await open(page, `${base}/register`);
  await page.locator('#r-phone').fill(phone);
  await follow(page, page.getByRole('button', { name: '获取短信验证码' }));
  await page.locator('#r-sms_code').fill(await smsCodeFromOutbox(staffPage, base));
  await page.locator('#r-password').fill(password);
  await page.locator('#r-password_again').fill(password);
  await page.getByLabel(/我已阅读并同意/).check();
  await follow(page, page.getByRole('button', { name: '注册', exact: true }));
}
