// The operations relay-compiler compiles (named after this module, as it requires; it reads the graphql`` tags; this file is never run: relay.mjs
// loads the compiled artifacts from generated/relay/ as a Babel plugin would put them in place of the tags).
import { graphql } from 'relay-runtime';

// a page of the person's invoices, paginated through a @connection and refetchable as a whole (on Query)
graphql`
  fragment PortalInvoiceList_query on Query
  @refetchable(queryName: "PortalInvoiceListPaginationQuery")
  @argumentDefinitions(first: { type: "Int", defaultValue: 2 }, after: { type: "String" }) {
    invoices(first: $first, after: $after) @connection(key: "PortalInvoiceList_invoices") {
      totalCount
      edges { node { id number status total } }
    }
  }
`;

// one estimate, refetchable through Query.node(id:) (Estimate implements Node)
graphql`
  fragment PortalEstimate_estimate on Estimate @refetchable(queryName: "PortalEstimateRefetchQuery") {
    id
    number
    status
    viewed
    total
  }
`;

graphql`
  query PortalQuery {
    ...PortalInvoiceList_query
    estimates(first: 5) { edges { node { ...PortalEstimate_estimate } } }
  }
`;

graphql`
  mutation PortalRecordViewMutation($id: ID!) {
    recordView(id: $id) {
      __typename
      ... on Estimate { id viewed viewedAt }
      ... on RecordViewError { code }
    }
  }
`;
