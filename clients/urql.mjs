// urql 5 (@urql/core) against a live Portico: a portal person's comment thread. A query over HTTP
// (fetchExchange, cacheExchange), a subscription over graphql-transport-ws (subscriptionExchange on the official
// graphql-ws client) and the comment that causes its event, sent as a mutation over HTTP.
import { cacheExchange, createClient, fetchExchange, gql, subscriptionExchange } from '@urql/core';
import { createClient as createWsClient } from 'graphql-ws';
import WebSocket from 'ws';
import { abort, check, env, httpUrl, run, within, wsUrl } from './lib/portico.mjs';

const THREAD = gql`
  query Thread {
    estimates(first: 5) { edges { node { id number commentCount comments(first: 5) { totalCount edges { node { id body } } } } } }
  }
`;

const COMMENT_ADDED = gql`
  subscription CommentAdded($targetId: ID) { commentAdded(targetId: $targetId) { id body authorKind } }
`;

const ADD_COMMENT = gql`
  mutation AddComment($input: AddCommentInput!) {
    addComment(input: $input) { __typename ... on Comment { id body } ... on AddCommentError { code message } }
  }
`;

async function main() {
  const token = env('PORTICO_TOKEN');
  const socketEvents = [];
  const ws = createWsClient({
    url: wsUrl(),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${token}` },
    on: { connected: () => socketEvents.push('connected'), closed: (event) => socketEvents.push(`closed ${event.code}`) },
  });
  const client = createClient({
    url: httpUrl(),
    fetchOptions: () => ({ headers: { authorization: `Bearer ${token}` } }),
    exchanges: [
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query || '' };
          return { subscribe: (sink) => ({ unsubscribe: ws.subscribe(input, sink) }) };
        },
      }),
    ],
  });

  // 1. a query over HTTP
  const thread = await client.query(THREAD, {}).toPromise();
  if (thread.error) return abort('the thread query answers', thread.error.message);
  const estimates = thread.data.estimates.edges.map((edge) => edge.node);
  check('query: the person\'s estimates with their comments', estimates.length === 2 &&
    estimates.every((e) => e.comments.totalCount === 0 && e.commentCount === 0), estimates.map((e) => e.number));
  const target = estimates[0];
  const cached = await client.query(THREAD, {}).toPromise();
  check('the same query again is answered by cacheExchange', cached.operation.context.meta?.cacheOutcome === 'hit',
    cached.operation.context.meta?.cacheOutcome);

  // 2. a subscription over graphql-ws; comments are posted until the first event arrives (a subscription
  //    listens some time after its subscribe message, and the protocol does not say when)
  const events = [];
  let received;
  const arrived = new Promise((resolve) => (received = resolve));
  const subscription = client.subscription(COMMENT_ADDED, { targetId: target.id }).subscribe((result) => {
    events.push(result);
    received(result);
  });
  const sent = [];
  let posting = true;
  const poster = (async () => {
    while (posting && sent.length < 20) {
      const body = `urql comment ${sent.length + 1}`;
      const answer = await client.mutation(ADD_COMMENT, { input: { targetId: target.id, body } }).toPromise();
      sent.push({ body, answer: answer.data?.addComment ?? answer.error?.message });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const first = await within(10_000, 'a commentAdded event', arrived);
  posting = false;
  await poster;
  check('the mutation over HTTP answered a Comment', sent[0].answer?.__typename === 'Comment', sent[0].answer);
  check('subscription: commentAdded arrived over graphql-ws', !first.error && first.data?.commentAdded?.authorKind,
    first.error?.message ?? first.data);
  check('the event is one of the posted comments', sent.some((s) => s.body === first.data?.commentAdded?.body),
    first.data?.commentAdded?.body);
  subscription.unsubscribe();
  check('the socket was connected', socketEvents[0] === 'connected', socketEvents);

  // 3. the mutations are on the server: a network-only query shows them
  const after = await client.query(THREAD, {}, { requestPolicy: 'network-only' }).toPromise();
  const updated = after.data.estimates.edges.find((edge) => edge.node.id === target.id).node;
  check('network-only query: the comments are there', updated.comments.totalCount === sent.length,
    { totalCount: updated.comments.totalCount, posted: sent.length });
  await ws.dispose();
}

run(main);
