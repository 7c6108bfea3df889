// The official graphql-ws client against a running Portico: one subscription, every event as a JSON line on
// stdout ({"event": "connected" | "next" | "error" | "complete" | "closed", ...}). No retries: a close is final.
// Usage: node graphql_ws_client.mjs <ws-url> <token or ""> <query>
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';

const [url, token, query] = process.argv.slice(2);
const out = (message) => process.stdout.write(JSON.stringify(message) + '\n');

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  retryAttempts: 0,
  lazy: false,
  on: {
    connected: () => out({ event: 'connected' }),
    ping: (received) => out({ event: 'ping', received }),
    closed: (event) => {
      out({ event: 'closed', code: event.code, reason: event.reason });
      process.exit(0);
    },
  },
});

client.subscribe(
  { query },
  {
    next: (result) => out({ event: 'next', result }),
    error: (error) => out({ event: 'error', error: error?.code ?? (Array.isArray(error) ? error : String(error)) }),
    complete: () => out({ event: 'complete' }),
  },
);

process.stdin.on('end', () => client.dispose().then(() => process.exit(0)));
process.stdin.resume();
