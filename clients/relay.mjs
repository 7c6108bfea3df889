// relay-runtime 18 against a Portico in allow-list mode whose manifest holds relay-compiler's persisted queries:
// the network layer sends only { id, variables } (the compiled artifacts carry no text); a query with a
// @connection, its next page through the @refetchable pagination query (merged by the ConnectionHandler), a
// mutation, and a refetch of one estimate through Query.node(id:).
import { createRequire } from 'node:module';
import relayRuntime from 'relay-runtime'; // CommonJS: its names are not all visible to ESM's named imports

import { abort, check, env, httpUrl, run } from './lib/portico.mjs';

// what babel-plugin-relay puts in place of each graphql`` tag of relay/Portal.js
const artifact = createRequire(import.meta.url);
const PortalQuery = artifact('./generated/relay/PortalQuery.graphql.js');
const PaginationQuery = artifact('./generated/relay/PortalInvoiceListPaginationQuery.graphql.js');
const EstimateRefetchQuery = artifact('./generated/relay/PortalEstimateRefetchQuery.graphql.js');
const RecordViewMutation = artifact('./generated/relay/PortalRecordViewMutation.graphql.js');
const InvoiceListFragment = artifact('./generated/relay/PortalInvoiceList_query.graphql.js');
const EstimateFragment = artifact('./generated/relay/PortalEstimate_estimate.graphql.js');

const {
  Environment, Network, RecordSource, Store, commitMutation, createOperationDescriptor, fetchQuery, getSingularSelector,
} = relayRuntime;
const sent = [];

function environment(token) {
  const network = Network.create(async (params, variables) => {
    // persisted: params.text is null and params.id is the SHA-256 the manifest is keyed by
    const body = { id: params.id, variables };
    sent.push({ name: params.name, id: params.id, text: params.text });
    const response = await fetch(httpUrl(), {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify(body),
    });
    return response.json();
  });
  return new Environment({ network, store: new Store(new RecordSource()) });
}

/** What useFragment would render: the fragment's data read from the store. */
const read = (env, fragment, ref) => env.lookup(getSingularSelector(fragment, ref)).data;

async function main() {
  const relay = environment(env('PORTICO_TOKEN'));

  // 1. the page query by persisted id
  const operation = createOperationDescriptor(PortalQuery, {});
  relay.retain(operation); // as a mounted component keeps it
  let page;
  try {
    page = await fetchQuery(relay, PortalQuery, {}).toPromise();
  } catch (error) {
    return abort('PortalQuery by persisted id is accepted', error.message);
  }
  check('relay sent the id alone (no text)', sent[0].text === null && /^[0-9a-f]{64}$/.test(sent[0].id), sent[0]);
  let invoices = read(relay, InvoiceListFragment, page).invoices;
  check('the @connection: first page of 2 of 3 invoices', invoices.totalCount === 3 && invoices.edges.length === 2,
    invoices.edges.map((edge) => edge.node.number));

  // 2. the next page, as usePaginationFragment's loadNext sends it; the ConnectionHandler appends its edges
  const snapshot = relay.lookup(operation.fragment);
  const connectionRecord = Object.values(relay.getStore().getSource().toJSON())
    .find((record) => record.__typename === 'InvoiceConnection');
  const cursor = relay.getStore().getSource().get(connectionRecord.pageInfo.__ref).endCursor;
  check('pageInfo says there is a next page', relay.getStore().getSource().get(connectionRecord.pageInfo.__ref).hasNextPage === true);
  await fetchQuery(relay, PaginationQuery, { first: 2, after: cursor }).toPromise();
  invoices = read(relay, InvoiceListFragment, relay.lookup(operation.fragment).data).invoices;
  const numbers = invoices.edges.map((edge) => edge.node.number);
  check('after loadNext the connection holds all 3 invoices, newest first', numbers.length === 3 &&
    new Set(numbers).size === 3 && numbers.join() === [...numbers].sort().reverse().join(), numbers);
  check('the page query snapshot was not missing data', snapshot.isMissingData === false);

  // 3. a mutation by persisted id; its answer updates the Estimate record the fragment reads
  const estimateRef = page.estimates.edges[0].node;
  const before = read(relay, EstimateFragment, estimateRef);
  check('the estimate fragment reads from the store', before.number?.startsWith('EST-') && before.viewed === false, before);
  const viewed = await new Promise((resolve, reject) => commitMutation(relay, {
    mutation: RecordViewMutation,
    variables: { id: before.id },
    onCompleted: (response, errors) => (errors ? reject(new Error(JSON.stringify(errors))) : resolve(response)),
    onError: reject,
  }));
  check('recordView by persisted id answers the Estimate', viewed.recordView.__typename === 'Estimate' &&
    viewed.recordView.viewed === true, viewed.recordView);
  check('the fragment now reads viewed: true (normalized by id)', read(relay, EstimateFragment, estimateRef).viewed === true);

  // 4. refetch through node(id:): useRefetchableFragment's refetch, a fresh environment to see the server's state
  const fresh = environment(env('PORTICO_TOKEN'));
  const refetched = await fetchQuery(fresh, EstimateRefetchQuery, { id: before.id }).toPromise();
  const node = read(fresh, EstimateFragment, refetched.node);
  check('node(id:) refetched the estimate: same number, viewed on the server', refetched.node && node.id === before.id &&
    node.number === before.number && node.viewed === true, node);
  check('every request went by persisted id', sent.every((request) => request.text === null),
    sent.map((request) => request.name));
}

run(main);
