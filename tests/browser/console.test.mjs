// End-to-end: the real debug binary (`serve --demo` on a scratch SQLite
// file and a free port) in Debian's Chromium, driven by playwright-core.
// Writes docs/screenshots/{review,account,segments}.png and prints the
// page weight and time to first chart of the Review page.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const binary = process.env.ACCORD_BIN ?? join(process.env.CARGO_TARGET_DIR ?? join(root, 'target'), 'debug', 'accord');
const shots = join(root, 'docs', 'screenshots');
const scratch = mkdtempSync(join(tmpdir(), 'accord-browser-'));
const database = `sqlite://${join(scratch, 'accord.db')}?mode=rwc`;
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'];

let server;
let base;
let browser;

before(async () => {
  server = spawn(binary, ['serve', '--demo', '--bind', '127.0.0.1:0', '--database-url', database], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ACCORD_LOG: 'warn' } });
  base = await new Promise((resolveBase, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${seen}`)), 180_000);
    server.stdout.on('data', (chunk) => {
      seen += chunk;
      const match = seen.match(/listening on (http:\/\/[^/\s]+)\//);
      if (match) {
        clearTimeout(timer);
        resolveBase(match[1]);
      }
    });
    server.on('exit', (code) => reject(new Error(`the server exited with ${code}: ${seen}`)));
  });
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  mkdirSync(shots, { recursive: true });
});

after(async () => {
  await browser?.close();
  server?.kill('SIGTERM');
  rmSync(scratch, { recursive: true, force: true });
});

/** A page that records console errors and every request it makes. */
async function open(path, viewport = { width: 1280, height: 800 }) {
  const page = await browser.newPage({ viewport });
  const problems = [];
  const requests = [];
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('request', (request) => requests.push(request));
  await page.goto(`${base}${path}`);
  return { page, problems, requests };
}

function onlyThisHost(requests) {
  const elsewhere = requests.map((r) => r.url()).filter((url) => !url.startsWith(`${base}/`) && !url.startsWith('data:'));
  assert.deepEqual(elsewhere, [], 'requests to another host');
}

const graphqlPosts = (requests) => requests.filter((r) => r.url() === `${base}/graphql` && r.method() === 'POST').length;

test('Review renders charts with data points, re-queries on a filter change; weight and time to first chart', async () => {
  const { page, problems, requests } = await open('/#/review');
  const chart = page.locator('.chart .uplot canvas').first();
  await chart.waitFor();
  const firstChartMs = await page.evaluate(() => performance.now());
  const points = Number(await page.locator('.chart').first().getAttribute('data-points'));
  assert.ok(points > 0, `the revenue chart plots ${points} points`);
  // Revenue, orders, won revenue and NPS are insights.series, each with its band and previous period.
  const sent = JSON.parse(requests.find((r) => r.url() === `${base}/graphql` && /insights/.test(r.postData() ?? '')).postData());
  assert.match(sent.query, /series\(metrics: \[REVENUE, ORDERS, WON_REVENUE, NPS\][^)]*compareTo: PREVIOUS_PERIOD/);
  for (const title of ['Revenue', 'Orders', 'Won revenue', 'Net Promoter Score']) {
    const card = page.locator(`section.card[aria-label="${title}"]`);
    await card.locator('.chart .uplot canvas').waitFor();
    assert.ok(Number(await card.locator('.chart').getAttribute('data-points')) > 0, `${title} plots points`);
    assert.match(await card.locator('.legend').innerText(), /Previous period[\s\S]*95% interval/, title);
  }
  await page.locator('table.heatmap td.heat').first().waitFor();
  await page.waitForLoadState('networkidle');
  let bytes = 0;
  for (const request of requests) {
    const sizes = await request.sizes();
    bytes += sizes.responseBodySize + sizes.responseHeadersSize;
  }
  console.log(`Review page: ${requests.length} requests, ${(bytes / 1024).toFixed(1)} KB transferred, first chart after ${firstChartMs.toFixed(0)} ms`);
  // The definition of a number is one click away.
  const definition = page.locator('section.card[aria-label="Net Promoter Score"] details.definition');
  await definition.locator('summary').click();
  assert.match(await definition.innerText(), /promoters/i);
  assert.match(await definition.innerText(), /compareTo = PREVIOUS_PERIOD/);
  await page.screenshot({ path: join(shots, 'review.png') });
  const before = graphqlPosts(requests);
  const answered = page.waitForResponse((r) => r.url() === `${base}/graphql` && r.request().method() === 'POST');
  await page.selectOption('#f-period', 'QUARTER');
  await answered;
  assert.equal(graphqlPosts(requests), before + 1, 'a filter change sends one new query');
  assert.equal(JSON.parse(requests.at(-1).postData()).variables.period, 'QUARTER');
  await page.locator('.chart .uplot canvas').first().waitFor();
  assert.deepEqual(problems, []);
  onlyThisHost(requests);
  await page.close();
});

test('Account search finds an account and shows its health and contacts', async () => {
  const { page, problems, requests } = await open('/#/account');
  await page.fill('#account-search', 'A0001');
  await page.locator('#account-results button').first().click();
  await page.locator('#health-score').waitFor();
  assert.match(await page.locator('#health-score').innerText(), /^\d+$/);
  assert.match(await page.locator('#contacts td.email').first().innerText(), /@/, 'ADMIN (demo, no key) sees emails');
  await page.screenshot({ path: join(shots, 'account.png') });
  assert.deepEqual(problems, []);
  onlyThisHost(requests);
  await page.close();
});

test('an ANALYST key sees contacts masked', async () => {
  const key = execFileSync(binary, ['keys', 'create', '--role', 'ANALYST', '--name', 'browser-test', '--database-url', database], { encoding: 'utf8' }).trim();
  const { page, problems, requests } = await open('/#/account');
  await page.fill('#api-key', key);
  await page.press('#api-key', 'Enter');
  await page.fill('#account-search', 'A0001');
  await page.locator('#account-results button').first().click();
  await page.locator('#contacts').waitFor();
  const emails = await page.locator('#contacts td.email').allInnerTexts();
  assert.ok(emails.length > 0);
  assert.deepEqual([...new Set(emails)], ['hidden for your role']);
  const sent = requests.filter((r) => r.url() === `${base}/graphql`).at(-1);
  assert.equal(sent.headers().authorization, `Bearer ${key}`);
  assert.deepEqual(problems, []);
  await page.close();
});

test('Segments: a rule preview shows a size; a saved and refreshed segment has a size history chart', async () => {
  const { page, problems, requests } = await open('/#/segments');
  await page.locator('#preview-button').click();
  await page.locator('#preview-size').waitFor();
  const size = Number((await page.locator('#preview-size').innerText()).replaceAll(',', ''));
  assert.ok(size > 0, `the preview matched ${size} customers`);
  await page.fill('#segment-name', 'UK customers');
  await page.getByRole('button', { name: 'Save segment' }).click();
  await page.getByRole('button', { name: 'Refresh' }).first().click();
  await page.locator('#segment-history .uplot canvas').waitFor();
  assert.ok(Number(await page.locator('#segment-history .chart').getAttribute('data-points')) > 0);
  await page.screenshot({ path: join(shots, 'segments.png') });
  assert.deepEqual(problems, []);
  onlyThisHost(requests);
  await page.close();
});

test('GraphiQL renders offline from the binary', async () => {
  const { page, problems, requests } = await open('/graphql');
  await page.locator('.graphiql-container').waitFor();
  await page.locator('.graphiql-execute-button').waitFor();
  assert.deepEqual(problems, []);
  onlyThisHost(requests);
  await page.close();
});

test('every page fits a phone width without sideways scrolling', async () => {
  for (const path of ['/#/review', '/#/account', '/#/segments']) {
    const { page, problems } = await open(path, { width: 390, height: 844 });
    await page.waitForLoadState('networkidle');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `${path} is ${overflow}px wider than the phone`);
    assert.deepEqual(problems, [], path);
    await page.close();
  }
});
