// The graphql-ws reference of `make bench-fanout`: a minimal server on the official graphql-ws + ws + graphql-js,
// with an in-memory pub/sub, the same subscription shape as Portico's documentStatusChanged and the same
// graphql-transport-ws protocol. No database, no session check: what a bare graphql-ws server costs.
//
//   node bench/reference/fanout.mjs PORT
//
// Tokens are `ref:<organization>:<contact>` (contact 0: staff, who see every event of their organization; a
// portal user sees only their own contact's). HTTP: POST /graphql runs `sendEstimate(id)` (publishes to the
// caller's organization), POST /publish {organization, contact, id, sentAt} publishes an event as the benchmark's
// load does on Portico's broker, GET /healthz.
import http from "node:http";
import { buildSchema, graphql } from "graphql";
import { useServer } from "graphql-ws/use/ws";
import { WebSocketServer } from "ws";

const schema = buildSchema(`
  interface Document { id: ID! number: String! }
  type Estimate implements Document { id: ID! number: String! status: String! sentAt: String total: String! }
  type Invoice implements Document { id: ID! number: String! status: String! }
  type StaffUser { id: ID! name: String! }
  type ContactPerson { id: ID! name: String! }
  union Actor = StaffUser | ContactPerson
  type DocumentStatusEvent { document: Document! previousStatus: String status: String! actor: Actor }
  type Query { ok: Boolean }
  type Mutation { sendEstimate(id: ID!): Estimate }
  type Subscription { documentStatusChanged: DocumentStatusEvent! }
`);

const channels = new Map(); // organization -> Set of listeners

function listen(organization) {
  // an async iterator fed by publish(); one per subscription, as graphql-ws expects
  const pending = [];
  let wake = null;
  const listener = (event) => {
    if (wake) {
      const resolve = wake;
      wake = null;
      resolve({ value: event, done: false });
    } else {
      pending.push(event);
    }
  };
  let set = channels.get(organization);
  if (!set) channels.set(organization, (set = new Set()));
  set.add(listener);
  const stop = () => {
    set.delete(listener);
    if (wake) wake({ value: undefined, done: true });
    return Promise.resolve({ value: undefined, done: true });
  };
  return {
    [Symbol.asyncIterator]() {
      return this;
    },
    next() {
      if (pending.length) return Promise.resolve({ value: pending.shift(), done: false });
      return new Promise((resolve) => (wake = resolve));
    },
    return: stop,
    throw: stop,
  };
}

function publish(organization, event) {
  for (const listener of channels.get(organization) ?? []) listener(event);
}

function statusEvent(id, contact, sentAt) {
  const document = { __typename: "Estimate", id, number: `EST-${id}`, status: "SENT", sentAt, total: "100.00" };
  return { contact, documentStatusChanged: { document, previousStatus: "DRAFT", status: "SENT", actor: null } };
}

async function* visible(source, viewer) {
  for await (const event of source) {
    if (viewer.contact === 0 || event.contact === viewer.contact) yield event;
  }
}

schema.getType("Document").resolveType = (value) => value.__typename;
schema.getType("Actor").resolveType = (value) => value.__typename;
const subscriptionField = schema.getSubscriptionType().getFields().documentStatusChanged;
subscriptionField.subscribe = (_root, _args, viewer) => visible(listen(viewer.organization), viewer);
subscriptionField.resolve = (event) => event.documentStatusChanged;
schema.getMutationType().getFields().sendEstimate.resolve = (_root, { id }, viewer) => {
  const event = statusEvent(id, 0, new Date().toISOString());
  publish(viewer.organization, event);
  return event.documentStatusChanged.document;
};

function viewerOf(authorization) {
  const match = /^Bearer ref:(\d+):(\d+)$/.exec(authorization ?? "");
  return match ? { organization: Number(match[1]), contact: Number(match[2]) } : null;
}

function body(request) {
  return new Promise((resolve) => {
    const chunks = [];
    request.on("data", (chunk) => chunks.push(chunk));
    request.on("end", () => resolve(JSON.parse(Buffer.concat(chunks).toString() || "{}")));
  });
}

async function handle(request, response) {
  const reply = (status, value) => {
    response.writeHead(status, { "content-type": "application/json" });
    response.end(JSON.stringify(value));
  };
  if (request.method === "GET" && request.url === "/healthz") return reply(200, { status: "ok" });
  if (request.method === "POST" && request.url === "/publish") {
    const { organization, contact, id, sentAt } = await body(request);
    publish(organization, statusEvent(String(id), contact, sentAt));
    return reply(200, { published: true });
  }
  if (request.method === "POST" && request.url === "/graphql") {
    const viewer = viewerOf(request.headers.authorization);
    if (!viewer) return reply(401, { errors: [{ message: "unauthenticated" }] });
    const { query, variables } = await body(request);
    return reply(200, await graphql({ schema, source: query, variableValues: variables, contextValue: viewer }));
  }
  return reply(404, { errors: [{ message: "not found" }] });
}

const server = http.createServer((request, response) => {
  handle(request, response).catch((error) => {
    response.writeHead(500);
    response.end(String(error));
  });
});
const sockets = new WebSocketServer({ server, path: "/graphql", perMessageDeflate: false });
useServer(
  {
    schema,
    onConnect: (ctx) => viewerOf(ctx.connectionParams?.authorization) !== null,
    context: (ctx) => viewerOf(ctx.connectionParams?.authorization),
  },
  sockets,
);
server.listen(Number(process.argv[2] ?? 4100), "127.0.0.1", 8192);
process.on("SIGTERM", () => process.exit(0));
