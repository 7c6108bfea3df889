// Drives Portico's GraphiQL page in headless Chromium (Debian's package, through playwright-core: no browser
// download) with every host but 127.0.0.1 unresolvable, and prints one JSON report on stdout.
//
// Usage: node tests/http/graphiql_browser.mjs <json options>
//   options: { baseUrl, chromium, screenshot, token, email, password, expect, typed }
// Two runs of the page: (1) the bearer token in GraphiQL's headers (URL parameter), running `{ me }`;
// (2) a fresh context signing in with the `login` mutation, then `{ me }` with the session cookie (GraphiQL
// echoes the CSRF cookie in X-CSRF-Token); (3) `typed` typed into the query editor key by key, slowly, five times.
import { chromium } from 'playwright-core';

const options = JSON.parse(process.argv[2]);
const ME = '{ me { __typename ... on StaffUser { email organization { name } } } }';

const browser = await chromium.launch({
  executablePath: options.chromium,
  headless: true,
  chromiumSandbox: false,
  args: [
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--disable-sync',
    '--disable-dev-shm-usage',
  ],
});

const report = { requests: [], offHost: [], failedRequests: [], consoleErrors: [], pageErrors: [], runs: [] };

function watch(page) {
  page.on('request', (request) => {
    const url = request.url();
    report.requests.push(url);
    if (!url.startsWith(options.baseUrl) && !url.startsWith('data:')) report.offHost.push(url);
  });
  page.on('requestfailed', (request) => {
    report.failedRequests.push({ url: request.url(), error: request.failure()?.errorText });
  });
  page.on('console', (message) => {
    if (message.type() === 'error') report.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => report.pageErrors.push(String(error)));
}

function pageUrl(query, headers) {
  const url = new URL('/graphql', options.baseUrl);
  url.searchParams.set('q', query);
  if (headers) url.searchParams.set('headers', JSON.stringify(headers));
  return url.toString();
}

// Runs the query in the editor with GraphiQL's play button; returns the result pane's text once it has `expect`.
async function runQuery(page, name, expect) {
  await page.waitForSelector('.graphiql-execute-button', { timeout: 30_000 });
  await page.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 30_000 });
  await page.click('.graphiql-execute-button');
  const pane = page.locator('.result-window');
  let text = '';
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    text = (await pane.innerText().catch(() => '')) || '';
    if (text.includes(expect)) break;
    await page.waitForTimeout(100);
  }
  report.runs.push({ name, ok: text.includes(expect), result: text });
  return text;
}

try {
  // 1. bearer token from the headers editor
  const first = await browser.newContext({ viewport: { width: 1400, height: 800 } });
  const page = await first.newPage();
  watch(page);
  await page.goto(pageUrl(ME, { Authorization: `Bearer ${options.token}` }), { waitUntil: 'load' });
  report.title = await page.title();
  await runQuery(page, 'bearer', options.expect);
  await page.screenshot({ path: options.screenshot });
  await first.close();

  // 2. sign in with the login mutation, then use the session cookie
  const second = await browser.newContext({ viewport: { width: 1400, height: 800 } });
  const cookiePage = await second.newPage();
  watch(cookiePage);
  const login = `mutation { login(input: {email: ${JSON.stringify(options.email)}, password: ${JSON.stringify(
    options.password,
  )}}) { __typename } }`;
  await cookiePage.goto(pageUrl(login), { waitUntil: 'load' });
  await runQuery(cookiePage, 'login', '"Session"');
  await cookiePage.goto(pageUrl(ME), { waitUntil: 'load' });
  await runQuery(cookiePage, 'cookie', options.expect);
  await second.close();

  // 3. a person typing: slowly (60-200 ms between keys, as people do), five times; the editor keeps the exact text
  const third = await browser.newContext({ viewport: { width: 1400, height: 800 } });
  const typingPage = await third.newPage();
  watch(typingPage);
  await typingPage.goto(pageUrl('{ __typename }'), { waitUntil: 'load' });
  await typingPage.waitForSelector('.graphiql-query-editor .CodeMirror', { timeout: 30_000 });
  report.typed = [];
  let seed = 7;
  const pause = () => 60 + ((seed = (seed * 48271) % 2147483647) % 141); // (a fixed sequence: reruns type alike)
  for (let attempt = 0; attempt < 5; attempt += 1) {
    await typingPage.click('.graphiql-query-editor .CodeMirror');
    await typingPage.keyboard.press('Control+A');
    await typingPage.keyboard.press('Delete');
    for (const key of options.typed) {
      await typingPage.keyboard.type(key);
      await typingPage.waitForTimeout(pause());
    }
    await typingPage.waitForTimeout(300);
    report.typed.push(
      await typingPage.evaluate(() => document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()),
    );
  }
  await third.close();
} catch (error) {
  report.fatal = String(error && error.stack ? error.stack : error);
} finally {
  await browser.close();
}

console.log(JSON.stringify(report));
