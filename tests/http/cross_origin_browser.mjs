// A web frontend on another origin, in headless Chromium (Debian's, through playwright-core): its page signs in
// with a cookie session, queries, subscribes over a websocket and sees its own comment arrive live; a page on an
// origin the API does not list can neither read an answer nor open a socket. Prints one JSON report on stdout.
//
// Usage: node tests/http/cross_origin_browser.mjs <json options>
//   options: { apiUrl, frontendOrigin, strangerOrigin, chromium, email, password, portal, invoiceId }
// The frontends' pages are served from their own loopback ports by this script (a plain static page each).
import http from 'node:http';
import { chromium } from 'playwright-core';

const options = JSON.parse(process.argv[2]);

const browser = await chromium.launch({
  executablePath: options.chromium,
  headless: true,
  chromiumSandbox: false,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', '--disable-background-networking'],
});

// What the page runs: the whole client, as a frontend team would write it with fetch and a WebSocket.
async function frontend({ apiUrl, email, password, portal, invoiceId }) {
  const steps = {};
  const post = async (query, variables, csrfToken) => {
    const response = await fetch(`${apiUrl}/graphql`, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json', ...(csrfToken ? { 'x-csrf-token': csrfToken } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return response.json();
  };
  try {
    const login = await post(
      `mutation($input: LoginInput!) { login(input: $input) {
         __typename ... on Session { transport token csrfToken } ... on LoginError { code } } }`,
      { input: { email, password, portal } },
    );
    steps.login = login.data.login;
    const csrfToken = steps.login.csrfToken;
    steps.me = (await post('{ me { __typename ... on ContactPerson { email } } }', {}, csrfToken)).data;
    steps.withoutCsrf = (await post('{ me { __typename } }', {}, null)).errors?.[0]?.extensions?.code;
    // the socket: the session cookie goes with the handshake (same site); connection_init carries no token
    const socket = new WebSocket(`${apiUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    const received = [];
    const opened = new Promise((resolve, reject) => {
      socket.onerror = () => reject(new Error('socket error'));
      socket.onclose = (event) => reject(new Error(`socket closed ${event.code}`));
      socket.onmessage = (event) => {
        const message = JSON.parse(event.data);
        received.push(message);
        if (message.type === 'connection_ack') resolve();
      };
    });
    socket.onopen = () => socket.send(JSON.stringify({ type: 'connection_init', payload: {} }));
    await opened;
    socket.send(
      JSON.stringify({
        id: '1',
        type: 'subscribe',
        payload: { query: 'subscription($t: ID) { commentAdded(targetId: $t) { body targetId } }', variables: { t: invoiceId } },
      }),
    );
    // (no message says a subscription listens yet: comment until the event comes back)
    const body = `from another origin ${Date.now()}`;
    for (let attempt = 0; attempt < 20 && !received.some((m) => m.type === 'next'); attempt += 1) {
      steps.comment = (
        await post(
          'mutation($input: AddCommentInput!) { addComment(input: $input) { __typename } }',
          { input: { targetId: invoiceId, body } },
          csrfToken,
        )
      ).data;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    steps.event = received.find((m) => m.type === 'next')?.payload?.data?.commentAdded ?? null;
    steps.body = body;
    socket.close(1000);
  } catch (error) {
    steps.error = String(error);
  }
  return steps;
}

// A page of an origin the API does not list: CORS hides every answer, and the socket is refused at the handshake.
async function stranger({ apiUrl }) {
  const steps = {};
  try {
    await fetch(`${apiUrl}/graphql`, {
      method: 'POST',
      credentials: 'include',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    steps.fetch = 'read';
  } catch (error) {
    steps.fetch = 'blocked';
  }
  steps.socket = await new Promise((resolve) => {
    const socket = new WebSocket(`${apiUrl.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
    socket.onopen = () => resolve('opened');
    socket.onerror = () => resolve('refused');
  });
  return steps;
}

const report = { consoleErrors: [] };
const servers = [];
try {
  for (const origin of [options.frontendOrigin, options.strangerOrigin]) {
    const server = http.createServer((_, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end('<!doctype html><title>frontend</title>');
    });
    await new Promise((resolve) => server.listen(Number(new URL(origin).port), '127.0.0.1', resolve));
    servers.push(server);
  }
  const context = await browser.newContext();
  const page = await context.newPage();
  page.on('console', (m) => report.consoleErrors.push(m.text()));
  page.on('requestfailed', (r) => report.consoleErrors.push('failed ' + r.url() + ' ' + r.failure()?.errorText));
  await page.goto(`${options.frontendOrigin}/app`);
  report.frontend = await page.evaluate(frontend, options);
  const other = await context.newPage();
  await other.goto(`${options.strangerOrigin}/app`);
  report.stranger = await other.evaluate(stranger, options);
  report.cookies = (await context.cookies(options.apiUrl)).map((c) => ({ name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite }));
  await context.close();
} catch (error) {
  report.fatal = String(error && error.stack ? error.stack : error);
} finally {
  await browser.close();
  for (const server of servers) server.close();
}
console.log(JSON.stringify(report));
