// graphql-http's server audits (GraphQL over HTTP spec) against a running server; prints one JSON object.
// Usage: node tests/http/audit.mjs http://127.0.0.1:PORT/graphql
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs <graphql url>');
  process.exit(2);
}

const results = await Promise.all(serverAudits({ url, fetchFn: fetch }).map((audit) => audit.fn()));
const counts = { ok: 0, notice: 0, warn: 0, error: 0 };
for (const result of results) counts[result.status] += 1;
const failures = results
  .filter((result) => result.status !== 'ok')
  .map(({ id, name, status, reason }) => ({ id, name, status, reason }));
console.log(JSON.stringify({ total: results.length, counts, failures }));
