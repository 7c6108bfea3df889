// GraphQL Code Generator's typed documents against a Portico in allow-list mode (PERSISTED_ONLY=true) whose
// manifest is the build's generated persisted-documents.json: queries and mutations go by documentId over HTTP,
// the subscription by documentId over graphql-ws. Type-checked with tsc --strict (tsconfig.json), then run.
import { createClient, type SubscribePayload } from 'graphql-ws';
import WebSocket from 'ws';
import { useFragment, type FragmentType } from '../generated/gql/fragment-masking';
import {
  AddCommentDocument,
  CommentAddedDocument,
  DocumentCardFragmentDoc,
  PortalDocumentsDocument,
  type PortalDocumentsQuery,
} from '../generated/gql/graphql';
import type { TypedDocumentNode } from '@graphql-typed-document-node/core';

type Persisted<TResult, TVariables> = TypedDocumentNode<TResult, TVariables> & { __meta__?: { hash: string } };
interface Answer<TResult> {
  status: number;
  data?: TResult | null;
  errors?: { message: string; extensions?: { code?: string } }[];
}

const baseUrl = required('PORTICO_URL').replace(/\/$/, '');
const httpUrl = `${baseUrl}/graphql`;
let failures = 0;

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (tests/clients/test_real_clients.py sets it)`);
  return value;
}

function check(label: string, condition: unknown, detail?: unknown): boolean {
  const shown = detail === undefined ? '' : `: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`;
  console.log(`${condition ? 'ok  ' : 'FAIL'} ${label}${shown}`);
  if (!condition) failures += 1;
  return Boolean(condition);
}

function documentId<TResult, TVariables>(document: Persisted<TResult, TVariables>): string {
  const hash = document.__meta__?.hash;
  if (!hash) throw new Error('the document has no __meta__.hash: is presetConfig.persistedDocuments set?');
  return `sha256:${hash}`;
}

/** One operation by its documentId: all a client sends to an allow-list server. */
async function execute<TResult, TVariables>(
  document: Persisted<TResult, TVariables>,
  variables: TVariables,
  token: string,
): Promise<Answer<TResult>> {
  const response = await fetch(httpUrl, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify({ documentId: documentId(document), variables }),
  });
  return { status: response.status, ...((await response.json()) as Omit<Answer<TResult>, 'status'>) };
}

type Card = FragmentType<typeof DocumentCardFragmentDoc>;
type EstimateNode = PortalDocumentsQuery['estimates']['edges'][number]['node'];

async function main(): Promise<void> {
  const token = required('PORTICO_TOKEN');
  const staffToken = required('PORTICO_STAFF_TOKEN');

  // 1. a query by documentId; the fragment's fields are reached through useFragment (fragment masking)
  const page = await execute(PortalDocumentsDocument, { first: 10 }, token);
  check('the query by documentId is accepted', page.status === 200 && page.data && !page.errors, page.errors);
  const me = page.data?.me;
  check('me is the portal person', me?.__typename === 'ContactPerson' && me.email === process.env.PORTICO_EMAIL, me);
  const estimates: EstimateNode[] = page.data?.estimates.edges.map((edge) => edge.node) ?? [];
  const cards = estimates.map((node) => useFragment(DocumentCardFragmentDoc, node as Card));
  check('two estimates with their DocumentCard fields', cards.length === 2 &&
    cards.every((card) => card.number.startsWith('EST-') && card.total && card.currency === 'USD'), cards);
  check('three invoices', page.data?.invoices.totalCount === 3, page.data?.invoices.totalCount);
  const target = cards[0];
  if (!target) throw new Error('no estimate to comment on');

  // 2. a document that is not in the manifest is refused; an unknown id is PERSISTED_QUERY_NOT_FOUND
  const plain = await fetch(httpUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: '{ me { __typename } }' }),
  });
  const plainBody = (await plain.json()) as Answer<unknown>;
  check('a plain document is refused (PERSISTED_QUERY_REQUIRED)',
    plainBody.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_REQUIRED', plainBody.errors);
  const unknown = await execute({ ...PortalDocumentsDocument, __meta__: { hash: '0'.repeat(64) } }, { first: 1 }, token);
  check('an unknown documentId is PERSISTED_QUERY_NOT_FOUND',
    unknown.errors?.[0]?.extensions?.code === 'PERSISTED_QUERY_NOT_FOUND', unknown.errors);

  // 3. a subscription by documentId over graphql-ws (staff), and the mutation that causes its event
  const ws = createClient({
    url: httpUrl.replace(/^http/, 'ws'),
    webSocketImpl: WebSocket,
    connectionParams: { authorization: `Bearer ${staffToken}` },
    retryAttempts: 0,
  });
  // graphql-ws's client refuses a subscribe payload whose `query` is not a string, so the id goes with an
  // empty query (docs/clients.md); Portico runs the manifest's document for the documentId
  const payload: SubscribePayload & { documentId: string } = {
    query: '',
    documentId: documentId(CommentAddedDocument),
    variables: { targetId: target.id },
  };
  const subscription = ws.iterate<{ commentAdded: { id: string; body: string; authorKind: string } }>(payload);
  const firstEvent = subscription.next();
  let waiting = true;
  void firstEvent.finally(() => (waiting = false));
  const sent: string[] = [];
  let firstAnswer: unknown;
  while (waiting && sent.length < 20) {
    const body = `codegen comment ${sent.length + 1}`;
    const answer = await execute(AddCommentDocument, { input: { targetId: target.id, body } }, token);
    firstAnswer ??= answer.data?.addComment ?? answer.errors;
    sent.push(body);
    await Promise.race([firstEvent, new Promise((resolve) => setTimeout(resolve, 250))]);
  }
  check('the mutation by documentId answers a Comment',
    (firstAnswer as { __typename?: string } | undefined)?.__typename === 'Comment', firstAnswer);
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('no event in 10 s')), 10_000));
  const event = await Promise.race([firstEvent, timeout]).catch((error: unknown) => ({ error }));
  const value = 'value' in event ? event.value : undefined;
  check('the subscription by documentId delivered the comment',
    value?.data?.commentAdded && sent.includes(value.data.commentAdded.body), 'error' in event ? String(event.error) : value);
  await subscription.return?.();
  await ws.dispose();
}

main()
  .catch((error: unknown) => check('no exception', false, error instanceof Error ? error.stack : String(error)))
  .finally(() => {
    console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
    process.exit(failures ? 1 : 0);
  });
