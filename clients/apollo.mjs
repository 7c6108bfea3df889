// Apollo Client 3 against a live Portico: a signed-out client logs a portal person in, a client with the token
// and generated possibleTypes reads a fragment on the Document interface, and a mutation's answer updates the
// normalized cache (Estimate:<id>) that a watched query reads from.
//
// Apollo Client 3 has no "exports" map: in Node's ESM import its entry points by file, '@apollo/client/core/index.js'.
import { readFileSync } from 'node:fs';
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from '@apollo/client/core/index.js';
import { loadDevMessages, loadErrorMessages } from '@apollo/client/dev/index.js';
import { check, abort, env, httpUrl, run } from './lib/portico.mjs';

loadDevMessages(); // Apollo's warnings and errors in words, not as links
loadErrorMessages();

// codegen's fragment-matcher plugin writes { possibleTypes: { Document: ['Estimate', 'Invoice'], … } }
const { possibleTypes } = JSON.parse(readFileSync(new URL('./generated/possible-types.json', import.meta.url)));

const LOGIN = gql`
  mutation Login($input: LoginInput!) {
    login(input: $input) {
      __typename
      ... on Session { token viewer { __typename ... on ContactPerson { id email } } }
      ... on LoginError { code message }
    }
  }
`;

// the card a portal page shows for any document: written once, on the interface
const DOCUMENT_CARD = gql`
  fragment DocumentCard on Document { id number total currency viewed }
`;

const DOCUMENT = gql`
  query Document($id: ID!) {
    node(id: $id) { __typename id ...DocumentCard ... on Estimate { status } }
  }
  ${DOCUMENT_CARD}
`;

const ESTIMATES = gql`
  query Estimates {
    estimates(first: 10) { totalCount edges { cursor node { id status ...DocumentCard } } }
  }
  ${DOCUMENT_CARD}
`;

const ACCEPT = gql`
  mutation Accept($id: ID!) {
    acceptEstimate(id: $id) { __typename ... on Estimate { id status acceptedAt } ... on AcceptEstimateError { code } }
  }
`;

function client({ token, withPossibleTypes }) {
  const auth = new ApolloLink((operation, forward) => {
    if (token) operation.setContext(({ headers }) => ({ headers: { ...headers, authorization: `Bearer ${token}` } }));
    return forward(operation);
  });
  return new ApolloClient({
    link: auth.concat(new HttpLink({ uri: httpUrl() })),
    // the default dataIdFromObject normalizes by `${__typename}:${id}`; Portico's ids are global anyway
    cache: new InMemoryCache(withPossibleTypes ? { possibleTypes } : {}),
    defaultOptions: { query: { fetchPolicy: 'network-only' } },
  });
}

async function main() {
  check('possibleTypes generated for Document', String(possibleTypes.Document?.sort()) === 'Estimate,Invoice',
    possibleTypes.Document);

  // 1. sign in: the login mutation, from a client without a token
  const anonymous = client({ token: null, withPossibleTypes: true });
  const login = await anonymous.mutate({
    mutation: LOGIN,
    variables: { input: { email: env('PORTICO_EMAIL'), password: env('PORTICO_PASSWORD'), portal: env('PORTICO_PORTAL') } },
  });
  const session = login.data?.login;
  if (session?.__typename !== 'Session') return abort('login answers a Session', session);
  check('login answers a Session with a token', session.token.length > 20);
  check('the viewer is the portal person', session.viewer.email === env('PORTICO_EMAIL'), session.viewer);

  // 2. a list, then one document through node(id:) with the fragment on the interface
  const signedIn = client({ token: session.token, withPossibleTypes: true });
  const list = await signedIn.query({ query: ESTIMATES });
  const estimates = list.data.estimates.edges.map((edge) => edge.node);
  check('estimates: the person sees their two', list.data.estimates.totalCount === 2 && estimates.length === 2,
    estimates.map((e) => e.number));
  check('fragment fields on a concrete type (Estimate) are there', estimates.every((e) => e.number && e.total));
  const estimate = estimates.find((e) => e.status === 'SENT');
  if (!estimate) return abort('a SENT estimate to accept', estimates);

  const withTypes = await signedIn.query({ query: DOCUMENT, variables: { id: estimate.id } });
  const node = withTypes.data?.node;
  check('with possibleTypes: node(id) ... on Document has number, total, currency, viewed',
    node && node.number === estimate.number && node.total === estimate.total && node.currency && node.viewed === false,
    node);

  // the same query on a cache without possibleTypes: Apollo cannot tell that an Estimate is a Document, so the
  // fragment's fields are written (with a warning) but not read back; what reaches the UI lacks them
  const withoutTypes = client({ token: session.token, withPossibleTypes: false });
  const warn = console.warn, error = console.error;
  const silenced = [];
  console.warn = console.error = (...args) => silenced.push(args.map(String).join(' ').slice(0, 200));
  let dropped;
  try {
    dropped = await withoutTypes.query({ query: DOCUMENT, variables: { id: estimate.id } });
  } finally {
    console.warn = warn;
    console.error = error;
  }
  const bare = dropped.data?.node;
  check('without possibleTypes: the fragment on Document is dropped (the reason to generate them)',
    !bare || bare.number === undefined, { data: dropped.data ?? null, warnings: silenced.length });

  // 3. a mutation: its answer is normalized into Estimate:<id>, and a watched query sees the new status
  const cacheKey = signedIn.cache.identify({ __typename: 'Estimate', id: estimate.id });
  check('the cache normalizes by __typename:id', cacheKey === `Estimate:${estimate.id}` &&
    signedIn.cache.extract()[cacheKey]?.number === estimate.number, cacheKey);
  const seen = [];
  const watching = signedIn.watchQuery({ query: ESTIMATES, fetchPolicy: 'cache-only' })
    .subscribe(({ data }) => seen.push(data.estimates.edges.find((edge) => edge.node.id === estimate.id).node.status));
  const accepted = await signedIn.mutate({ mutation: ACCEPT, variables: { id: estimate.id } });
  const result = accepted.data?.acceptEstimate;
  check('acceptEstimate answers the Estimate, ACCEPTED', result?.__typename === 'Estimate' && result.status === 'ACCEPTED', result);
  await new Promise((resolve) => setTimeout(resolve, 50));
  watching.unsubscribe();
  check('the cached estimate is ACCEPTED (no refetch)', signedIn.cache.extract()[cacheKey]?.status === 'ACCEPTED',
    signedIn.cache.extract()[cacheKey]?.status);
  check('the watched list query saw SENT, then ACCEPTED', seen.join(',') === 'SENT,ACCEPTED', seen);
  const again = await signedIn.query({ query: ESTIMATES, fetchPolicy: 'cache-only' });
  check('a cache-only read of the list has the new status',
    again.data.estimates.edges.find((edge) => edge.node.id === estimate.id).node.status === 'ACCEPTED');
}

run(main);
