// What every client script shares: the server it talks to (from the environment the pytest wrapper sets), a
// check() that prints each thing checked, and a finish() that exits non-zero when any check failed.
//
// PORTICO_URL       base URL of a running Portico (http://127.0.0.1:8000); /graphql is appended
// PORTICO_TOKEN     a portal person's bearer token (the scripts that do not sign in themselves)
// PORTICO_STAFF_TOKEN  a staff user's bearer token of the same organization (the subscriber of live events)
// PORTICO_EMAIL, PORTICO_PASSWORD, PORTICO_PORTAL  a portal person's login (Apollo signs in with it)

export function env(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`FAIL: ${name} is not set (the pytest wrapper tests/clients/test_real_clients.py sets it)`);
    process.exit(2);
  }
  return value;
}

export const baseUrl = () => env('PORTICO_URL').replace(/\/$/, '');
export const httpUrl = () => `${baseUrl()}/graphql`;
export const wsUrl = () => httpUrl().replace(/^http/, 'ws');

let failures = 0;

/** Print one checked fact; a false condition counts as a failure (the script goes on, then exits 1). */
export function check(label, condition, detail) {
  const shown = detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`;
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${label}${shown}`);
  if (!condition) failures += 1;
  return Boolean(condition);
}

/** Stop at once: a step the following ones depend on did not work. */
export function abort(label, detail) {
  check(label, false, detail);
  return finish();
}

export function finish() {
  console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
  process.exit(failures ? 1 : 0);
}

/** Run ``main``; an exception is a failure with its stack, and the process always ends (sockets included). */
export function run(main) {
  const watchdog = setTimeout(() => abort('finished within 30 s'), 30_000);
  watchdog.unref();
  main().then(finish, (error) => abort('no exception', error?.stack ?? String(error)));
}

/** A plain GraphQL POST with a bearer token: what the scripts use to cause events beside the client under test. */
export async function post(body, token) {
  const response = await fetch(httpUrl(), {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, body: await response.json() };
}

/** Resolve with the first value of ``promise`` or reject after ``ms``, naming what was waited for. */
export function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
