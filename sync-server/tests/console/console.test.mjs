// End-to-end tests of the analyst console: the real `fraudshield-server` binary on a temporary
// data directory on 127.0.0.1 (port 0; the bound address is read from what the server prints),
// tokens made with its admin CLI, and the Debian `chromium` package driven by playwright-core.
//
// Run by scripts/console-test.sh, which builds the binary and sets CONSOLE_SERVER_BIN.
// Every wait is an explicit wait for an element, a URL or a response, bounded by a timeout;
// nothing sleeps.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const BIN = process.env.CONSOLE_SERVER_BIN;
const ARTIFACTS = resolve(process.env.CONSOLE_ARTIFACTS ?? 'target/test-artifacts/console');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const WAIT_MS = 20_000; // every single wait (element, navigation, response)
const START_MS = 60_000; // the server printing its address

const IDENT = '+8613800138000';
const TIP_TEXT = '自称公安局民警，说我的银行卡涉嫌洗钱，要求把钱转到“安全账户”。';
const TIP_TEXT_2 = '对方知道我的身份证号，让我下载会议软件共享屏幕。';

let dir, server, serverLog = '', addr, base;
let tokens = {};
let context, page, profile;
const secrets = []; // values that must never appear in the server's logs

function cli(...args) {
  return execFileSync(BIN, ['--data-dir', join(dir, 'data'), ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  }).trim();
}

function token(role, name) {
  const t = cli('token', 'create', '--role', role, '--name', name);
  secrets.push(t);
  return t;
}

// Starts the server and resolves with the address it prints (`listening on http://ADDR/`).
function startServer() {
  return new Promise((resolveAddr, reject) => {
    const timer = setTimeout(() => reject(new Error('the server did not print its address in time')), START_MS);
    server = spawn(BIN, ['--data-dir', join(dir, 'data'), 'serve', '--listen', '127.0.0.1:0'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, FRAUDSHIELD_LOG: 'info' },
    });
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      serverLog += d;
      const m = out.match(/listening on http:\/\/([0-9.]+:[0-9]+)\//);
      if (m) {
        clearTimeout(timer);
        resolveAddr(m[1]);
      }
    });
    server.stderr.on('data', (d) => { serverLog += d; });
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited early (${code})`));
    });
  });
}

async function api(method, path, tokenText, body) {
  const res = await fetch(base + path, {
    method,
    headers: {
      ...(tokenText ? { authorization: `Bearer ${tokenText}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

let shot = 0;
async function screenshot(name, opts = {}) {
  shot += 1;
  const file = join(ARTIFACTS, `${String(shot).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true, ...opts });
  return file;
}

async function signIn(tokenText) {
  await page.goto(`${base}/console/login`);
  await page.getByLabel('API token').fill(tokenText);
  await Promise.all([
    page.waitForURL(`${base}/console/`),
    page.getByRole('button', { name: 'Sign in' }).click(),
  ]);
}

async function signOut() {
  await Promise.all([
    page.waitForURL(`${base}/console/login`),
    page.getByRole('button', { name: 'Sign out' }).click(),
  ]);
}

// Clicks `button` and returns the response to the form's POST.
async function submit(button, pathEnd) {
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.endsWith(pathEnd)),
    button.click(),
  ]);
  await page.waitForLoadState('domcontentloaded');
  return resp;
}

async function openIdentifier() {
  await page.goto(`${base}/console/identifier?kind=phone&value=${encodeURIComponent(IDENT)}`);
  await page.getByRole('heading', { level: 1, name: /\+8613800138000/ }).waitFor();
}

before(async () => {
  assert.ok(BIN, 'CONSOLE_SERVER_BIN must name the server binary');
  mkdirSync(ARTIFACTS, { recursive: true });
  dir = mkdtempSync(join(tmpdir(), 'fraudshield-console-'));
  const init = cli('init');
  tokens.admin = init.match(/admin token[^:]*: (\S+)/)[1];
  secrets.push(tokens.admin);
  tokens.reporter = token('reporter', 'police-app');
  tokens.alice = token('analyst', 'alice');
  tokens.bob = token('analyst', 'bob');
  tokens.carol = token('publisher', 'carol');
  addr = await startServer();
  base = `http://${addr}`;

  // Two citizens report the same number, spelled two ways.
  for (const [value, text, client] of [
    ['138 0013 8000', TIP_TEXT, 'install-1'],
    ['+86 138-0013-8000', TIP_TEXT_2, 'install-2'],
  ]) {
    const r = await api('POST', '/v1/reports', tokens.reporter, {
      kind: 'phone', value, category: 'police_impersonation', text, contact: 'wechat: zhang_wei_88', client_id: client,
    });
    assert.equal(r.status, 201, JSON.stringify(r.json));
    tokens[client] = r.json.tracking_id;
  }

  profile = mkdtempSync(join(tmpdir(), 'fraudshield-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
    ],
    viewport: { width: 1100, height: 800 },
    locale: 'zh-CN',
  });
  context.setDefaultTimeout(WAIT_MS);
  context.setDefaultNavigationTimeout(WAIT_MS);
  page = context.pages()[0] ?? (await context.newPage());
});

after(async () => {
  await context?.close();
  if (server && server.exitCode === null) {
    const exited = new Promise((r) => server.once('exit', r));
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, WAIT_MS).unref())]);
    if (server.exitCode === null) server.kill('SIGKILL');
  }
  if (ARTIFACTS) writeFileSync(join(ARTIFACTS, 'server.log'), serverLog);
  if (profile) rmSync(profile, { recursive: true, force: true });
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('sign in and see the tip in the review queue', async () => {
  await page.goto(`${base}/console/queue`);
  await page.waitForURL(`${base}/console/login`); // no session: back to sign-in
  await page.getByLabel('API token').waitFor();
  await screenshot('login');

  // A reporter token (an app's) cannot sign in; a wrong token neither.
  await page.getByLabel('API token').fill(tokens.reporter);
  const refused = await submit(page.getByRole('button', { name: 'Sign in' }), '/console/login');
  assert.equal(refused.status(), 403);
  await page.getByText('Reporter tokens belong to apps').waitFor();

  await signIn(tokens.alice);
  const cookies = await context.cookies(`${base}/console/`);
  const session = cookies.find((c) => c.name === 'fs_console');
  assert.ok(session, 'a session cookie');
  assert.equal(session.httpOnly, true);
  assert.equal(session.sameSite, 'Strict');
  secrets.push(session.value);
  assert.ok(!page.url().includes('fs1.'), 'no token in the URL');
  await screenshot('dashboard-empty');

  await page.getByRole('link', { name: 'Review queue' }).click();
  await page.waitForURL(`${base}/console/queue`);
  await page.getByText(TIP_TEXT).waitFor();
  await page.getByText(TIP_TEXT_2).waitFor();
  const row = page.locator('ol.queue > li').first();
  await row.getByText(IDENT).waitFor();
  assert.equal(await row.locator('dt:has-text("Distinct reporters") + dd').innerText(), '2');
  await screenshot('queue');
  await page.setViewportSize({ width: 390, height: 844 });
  await screenshot('queue-phone');
  await page.setViewportSize({ width: 1100, height: 800 });
});

test('a form posted without its CSRF token is refused', async () => {
  await openIdentifier();
  const form = page.locator('form.propose');
  await form.getByLabel('Reason').fill('未带令牌的表单');
  await form.locator('input[name="csrf"]').evaluate((el) => el.remove());
  const resp = await submit(form.getByRole('button', { name: 'Propose' }), '/console/propose');
  assert.equal(resp.status(), 403);
  await page.getByRole('heading', { name: 'Form refused' }).waitFor();
  await screenshot('csrf-refused');
  await openIdentifier();
  await page.getByText('No proposal yet.').waitFor(); // nothing was recorded
});

test('the same analyst cannot approve their own proposal', async () => {
  await openIdentifier();
  const form = page.locator('form.propose');
  await form.getByLabel('Action').selectOption('add');
  await form.getByLabel('Category').selectOption('police_impersonation');
  await form.getByLabel('Risk').selectOption('high');
  await form.getByLabel('Reason').fill('两名群众举报冒充公安，话术一致。');
  const proposed = await submit(form.getByRole('button', { name: 'Propose' }), '/console/propose');
  assert.equal(proposed.status(), 303);
  await page.getByText('Proposal recorded.').waitFor();

  const approve = page.getByRole('button', { name: /^Approve #\d+$/ });
  const resp = await submit(approve, '/approve');
  assert.equal(resp.status(), 403);
  await page.getByText('four eyes: the proposer cannot approve their own proposal').waitFor();
  await screenshot('four-eyes-refused');
  await openIdentifier();
  await page.locator('.proposal .badge-pending').waitFor(); // still pending
});

test('a second analyst approves and answers the tipster', async () => {
  await signOut();
  await signIn(tokens.bob);
  await page.getByRole('link', { name: 'Proposals' }).click();
  await page.getByText('Proposed by alice').waitFor();
  await screenshot('proposals');
  await openIdentifier();
  const resp = await submit(page.getByRole('button', { name: /^Approve #\d+$/ }), '/approve');
  assert.equal(resp.status(), 303);
  await page.getByText('Approved. It goes out with the next release.').waitFor();
  await page.locator('.proposal .badge-approved').waitFor();

  const tip = page.locator('form.answer').first();
  await tip.getByLabel('Answer to the tipster').selectOption('approved');
  await tip.getByLabel('Message the tipster reads').fill('您举报的号码已核实，将加入预警名单。感谢您的举报！');
  const answered = await submit(tip.getByRole('button', { name: 'Send answer' }), '/answer');
  assert.equal(answered.status(), 303);
  await page.getByText('Answer recorded').waitFor();
  await screenshot('identifier');
  await page.setViewportSize({ width: 390, height: 844 });
  await page.screenshot({ path: join(ARTIFACTS, 'identifier-phone.png'), fullPage: false });
  await page.setViewportSize({ width: 1100, height: 800 });

  // The citizen sees the answer with their tracking id (public endpoint).
  const answeredTips = [];
  for (const id of [tokens['install-1'], tokens['install-2']]) {
    const r = await api('GET', `/v1/reports/${id}`);
    assert.equal(r.status, 200);
    if (r.json.status === 'answered') answeredTips.push(r.json.answer.message);
  }
  assert.deepEqual(answeredTips, ['您举报的号码已核实，将加入预警名单。感谢您的举报！']);
});

test('an analyst reads a tipster\'s contact only by asking, and the read is audited', async () => {
  // Bob is signed in from the test before.
  await openIdentifier();
  assert.equal(await page.getByText('zhang_wei_88').count(), 0, 'the contact is not on the page');
  const form = page.locator('form.reveal-contact').first();
  const resp = await submit(form.getByRole('button', { name: 'Show contact' }), '/contact');
  assert.equal(resp.status(), 200);
  await page.locator('p.contact .contact-value').getByText('wechat: zhang_wei_88').waitFor();
  await screenshot('identifier-contact');
  const audit = await api('GET', '/v1/audit', tokens.bob);
  assert.equal(audit.status, 200);
  assert.ok(audit.json.some((r) => r.action === 'read_contact' && r.actor === 'bob'), JSON.stringify(audit.json));
});

test('a wrong role cannot publish', async () => {
  // bob is an analyst: he sees the preview, but no publish button, and a forged POST fails.
  await page.getByRole('link', { name: 'Publish' }).click();
  await page.waitForURL(`${base}/console/publish`);
  await page.getByText('What release 2 will hold').waitFor();
  await page.locator('#no-publish').waitFor();
  assert.equal(await page.getByRole('button', { name: /^Publish release/ }).count(), 0);
  await screenshot('publish-analyst');
  const csrf = await page.locator('form.signout input[name="csrf"]').inputValue();
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/console/publish')),
    page.evaluate((token) => {
      const f = document.createElement('form');
      f.method = 'post';
      f.action = '/console/publish';
      const i = document.createElement('input');
      i.type = 'hidden'; i.name = 'csrf'; i.value = token;
      f.appendChild(i);
      document.body.appendChild(f);
      f.submit();
    }, csrf),
  ]);
  assert.equal(resp.status(), 403);
  await page.getByRole('heading', { name: 'Not allowed' }).waitFor();
  const releases = await api('GET', '/v1/releases', tokens.carol);
  assert.equal(releases.json[0].release, 1, 'nothing was published');
});

test('a publisher publishes and sees the release on the dashboard', async () => {
  await page.goto(`${base}/console/`);
  await signOut();
  await signIn(tokens.carol);
  await page.getByRole('link', { name: 'Publish' }).click();
  await page.waitForURL(`${base}/console/publish`);
  await page.locator('table').getByText(IDENT).waitFor();
  assert.equal(await page.locator('#pending-changes').innerText(), '1');
  await screenshot('publish-preview');
  await page.getByLabel('Note for the audit log (optional)').fill('首批核实号码');
  const resp = await submit(page.getByRole('button', { name: 'Publish release 2' }), '/console/publish');
  assert.equal(resp.status(), 303);
  await page.waitForURL(`${base}/console/?published=2`);
  await page.locator('#published').getByText('Release 2 published.').waitFor();
  assert.equal(await page.locator('#current-release').innerText(), '2');
  const row = page.locator('#releases tr[data-release="2"]');
  await row.waitFor();
  assert.match(await row.innerText(), /publish\s+1\s+1\s+\d+(\.\d)? (B|KiB)/);
  // Times are China Standard Time, labelled: the release's UTC time plus 8 hours.
  const cut = (await api('GET', '/v1/releases', tokens.carol)).json[0].created_at;
  const cst = new Date(Date.parse(cut) + 8 * 3600 * 1000).toISOString();
  assert.equal(await row.locator('td').nth(1).innerText(), `${cst.slice(0, 10)} ${cst.slice(11, 16)} CST`);
  assert.match(await page.locator('#time-zone').innerText(), /China Standard Time \(CST, UTC\+8\)/);
  await page.locator('svg.chart').first().waitFor();
  await screenshot('dashboard');
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-viewport.png'), fullPage: false });

  const releases = await api('GET', '/v1/releases', tokens.carol);
  assert.equal(releases.json[0].release, 2);
  assert.equal(releases.json[0].changes, 1);
});

test('the audit log shows who did what, filtered by analyst', async () => {
  await signOut();
  await signIn(tokens.admin);
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.waitForURL(`${base}/console/audit`);
  for (const who of ['alice', 'bob', 'carol']) await page.getByRole('cell', { name: who, exact: true }).first().waitFor();
  await page.getByLabel('Analyst (name or token id)').fill('bob');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/actor=bob/);
  await page.getByRole('cell', { name: 'approve', exact: true }).waitFor();
  assert.equal(await page.getByRole('cell', { name: 'alice', exact: true }).count(), 0);
  await screenshot('audit');
  await signOut();
  await page.goto(`${base}/console/audit`);
  await page.waitForURL(`${base}/console/login`); // the session is gone
});

test('no token, session id, identifier or tip text is logged', () => {
  for (const s of [...secrets, IDENT, '13800138000', TIP_TEXT, 'zhang_wei_88']) {
    assert.ok(!serverLog.includes(s), 'the server log holds a secret or personal datum');
  }
});
