// The official graphql-ws client (with ws in Node) against a live Portico: a staff dashboard subscribes to
// commentAdded; the portal person comments over HTTP; the event arrives; the client completes the subscription
// and the socket goes on serving (a query over it completes from the server's side); dispose closes with 1000.
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { abort, check, env, post, run, within, wsUrl } from './lib/portico.mjs';

const COMMENT_ADDED = 'subscription Staff { commentAdded { id body authorKind authorName } }';
const ADD_COMMENT = `mutation AddComment($input: AddCommentInput!) {
  addComment(input: $input) { __typename ... on Comment { id body } ... on AddCommentError { code } } }`;

async function main() {
  const staffToken = env('PORTICO_STAFF_TOKEN');
  const portalToken = env('PORTICO_TOKEN');
  const lifecycle = [];
  let closed;
  const closedEvent = new Promise((resolve) => (closed = resolve));
  const client = createClient({
    url: wsUrl(),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${staffToken}` },
    retryAttempts: 0,
    lazy: false, // one socket for the whole page, as a dashboard keeps it (lazy closes it with its last operation)
    on: {
      connected: () => lifecycle.push('connected'),
      closed: (event) => { lifecycle.push(`closed ${event.code}`); closed(event); },
    },
  });

  // the target: one of the person's estimates (a plain query over HTTP, as the portal page has it)
  const listed = await post({ query: '{ estimates(first: 1) { edges { node { id number } } } }' }, portalToken);
  const target = listed.body.data?.estimates.edges[0]?.node;
  if (!target) return abort('the portal person has an estimate', listed.body);

  // 1. subscribe (an async iterator: leaving the loop sends complete)
  const subscription = client.iterate({ query: COMMENT_ADDED });
  const firstEvent = subscription.next();

  // 2. comment over HTTP until the event arrives (the subscription listens a moment after subscribe)
  const sent = [];
  let waiting = true;
  firstEvent.finally(() => (waiting = false));
  const poster = (async () => {
    while (waiting && sent.length < 20) {
      const body = `graphql-ws comment ${sent.length + 1}`;
      const answer = await post({ query: ADD_COMMENT, variables: { input: { targetId: target.id, body } } }, portalToken);
      sent.push({ body, answer: answer.body.data?.addComment ?? answer.body.errors });
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  })();
  const { value, done } = await within(10_000, 'a commentAdded event', firstEvent);
  await poster;
  check('the portal person\'s comment over HTTP answered a Comment', sent[0]?.answer?.__typename === 'Comment', sent[0]);
  const event = value?.data?.commentAdded;
  check('the live event arrived on the staff socket', !done && event && !value.errors, value);
  check('it is the comment the portal person posted', sent.some((s) => s.body === event?.body) &&
    event?.authorKind === 'CLIENT', event);

  // 3. complete: return() on the iterator sends {type: complete}; the iterator ends
  const ended = await subscription.return();
  check('the subscription completed on the client', ended.done === true);

  // 4. the socket serves on: a query over it completes from the server's side
  const answers = [];
  const completedByServer = await within(5_000, 'a query over the socket to complete', new Promise((resolve, reject) => {
    client.subscribe({ query: '{ me { __typename ... on StaffUser { id } } }' }, {
      next: (result) => answers.push(result),
      error: reject,
      complete: () => resolve(true),
    });
  }));
  check('a query over the same socket: one answer, then complete from the server',
    completedByServer && answers.length === 1 && answers[0].data?.me?.__typename === 'StaffUser', answers);

  // 5. dispose closes the socket normally
  await client.dispose();
  const close = await within(5_000, 'the socket to close', closedEvent);
  check('one socket throughout; dispose closed it with 1000', close.code === 1000 &&
    lifecycle.join() === 'connected,closed 1000', lifecycle);
}

run(main);
