"""The measured operations: the portal's persisted documents, and for reads the raw SQL answering each with the
same JSON (the baseline a hand-written endpoint reaches), plus the PostGraphile peer's equivalent of Q1."""

from __future__ import annotations

from core.persisted import load_manifest
from services.persisted_manifest import MANIFEST


def document(name: str) -> str:
    """The manifest document of operation ``name`` (operations/portal/<name>.graphql)."""
    for text in load_manifest(MANIFEST).values():
        if text.split("(", 1)[0].split("{", 1)[0].split()[-1] == name:
            return text
    raise KeyError(name)


def arbitrary(text: str) -> str:
    """``text`` as a document no manifest holds (a leading comment line): the server sees an ad-hoc query."""
    return "# an arbitrary document: the manifest's text after this comment line\n" + text


Q1 = document("InvoiceList")
Q2 = document("Dashboard")
Q3 = document("EstimateList")
Q4 = document("InvoiceDetail")
M1 = document("AddComment")
M2 = document("AcceptEstimate")
LOGIN = document("Login")

VIEWER_CTE = """
viewer AS (
    SELECT p.contact_id, s.organization_id
    FROM auth_session s JOIN contact_person p ON p.id = s.contact_person_id
    JOIN organization o ON o.id = s.organization_id
    WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
      AND p.portal_status = 'ACTIVE' AND o.portal_enabled
)"""


def b64url(expression: str) -> str:
    """SQL for base64url without padding (global ids and cursors)."""
    return f"rtrim(translate(encode(convert_to({expression}, 'UTF8'), 'base64'), '+/', '-_'), '=')"


def gid(type_name: str, column: str) -> str:
    return b64url(f"'{type_name}:' || {column}")


def money(column: str) -> str:
    return f"({column})::numeric(20,2)::text"


def iso(column: str) -> str:
    """Python's ``isoformat()`` of a timestamptz in UTC: microseconds only when there are some."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"CASE WHEN extract(microseconds FROM {column}) % 1000000 = 0"
        f' THEN to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS"+00:00"\')'
        f' ELSE to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\') END'
    )


def statement(ctes: str, field: str, value: str) -> str:
    """One statement: the session check (``viewer``), ``ctes``, and the response ``{"data": {field: value}}`` as
    text, or NULL (UNAUTHENTICATED) when the session is not valid."""
    return (
        f"WITH {VIEWER_CTE},\n{ctes}\n"
        f"SELECT CASE WHEN EXISTS (SELECT 1 FROM viewer) THEN json_build_object('data', json_build_object("
        f"'{field}', {value}))::text END"
    )


INVOICE_STATUS = (
    "CASE WHEN i.status IN ('SENT', 'PARTIALLY_PAID') AND i.due_date < current_date THEN 'OVERDUE' ELSE i.status END"
)
ESTIMATE_STATUS = "CASE WHEN e.status = 'SENT' AND e.expiry_date < current_date THEN 'EXPIRED' ELSE e.status END"
INVOICE_CURSOR = b64url("'[\"' || to_char(i.issue_date, 'YYYY-MM-DD') || '\",' || i.id || ']'")
ESTIMATE_CURSOR = b64url("'[\"' || to_char(e.issue_date, 'YYYY-MM-DD') || '\",' || e.id || ']'")
# the portal shows client comments, and staff comments marked visible in the portal
COMMENT_SHOWN = "(c.visible_in_portal OR c.author_contact_person_id IS NOT NULL)"

LINE_ITEMS = """(SELECT coalesce(json_agg(json_build_object({position}
          'name', l.name, 'quantity', trim_scale(l.quantity)::text, 'rate', {rate},
          'amount', {amount}, 'taxAmount', {tax}) ORDER BY l.position, l.id), '[]')
        FROM line_item l WHERE l.invoice_id = i.id)"""


def line_items(*, position: bool) -> str:
    return LINE_ITEMS.format(
        position="'position', l.position," if position else "",
        rate=money("l.rate"),
        amount=money("l.amount"),
        tax=money("l.tax_amount"),
    )


APPLIED_PAYMENTS = f"""(SELECT coalesce(json_agg(json_build_object(
          'amount', {money("a.amount")}, 'paymentDate', p.payment_date, 'mode', p.mode, 'status', p.status)
          ORDER BY p.payment_date, p.id), '[]')
        FROM payment_allocation a JOIN payment p ON p.id = a.payment_id WHERE a.invoice_id = i.id)"""

Q1_CTES = """visible AS (
    SELECT i.* FROM invoice i JOIN viewer v ON i.organization_id = v.organization_id AND i.contact_id = v.contact_id
    WHERE i.status <> 'DRAFT'
),
page AS (SELECT * FROM visible ORDER BY issue_date DESC, id DESC LIMIT 51),
shown AS (SELECT * FROM page ORDER BY issue_date DESC, id DESC LIMIT 50)"""
Q1_INVOICES = f"""json_build_object(
    'totalCount', (SELECT count(*) FROM visible),
    'pageInfo', json_build_object(
        'hasNextPage', (SELECT count(*) FROM page) > 50,
        'endCursor', (SELECT {INVOICE_CURSOR} FROM shown i ORDER BY issue_date, id LIMIT 1)),
    'edges', coalesce((SELECT json_agg(json_build_object('cursor', {INVOICE_CURSOR}, 'node', json_build_object(
      'id', {gid("Invoice", "i.id")}, 'number', i.number, 'status', {INVOICE_STATUS}, 'kind', i.kind,
      'issueDate', i.issue_date, 'dueDate', i.due_date, 'currency', i.currency,
      'total', {money("i.total")}, 'balanceDue', {money("i.balance_due")}, 'viewed', i.viewed_at IS NOT NULL,
      'commentCount', (SELECT count(*) FROM comment c WHERE c.invoice_id = i.id
                         AND c.organization_id = i.organization_id AND c.contact_id = i.contact_id AND {COMMENT_SHOWN}),
      'lineItems', {line_items(position=False)},
      'payments', {APPLIED_PAYMENTS}
    )) ORDER BY i.issue_date DESC, i.id DESC) FROM shown i), '[]'::json)
  )"""
Q1_SQL = statement(Q1_CTES, "invoices", Q1_INVOICES)

Q2_CTES = """outstanding AS (
    SELECT i.kind, count(*) AS count, coalesce(sum(i.balance_due), 0) AS total
    FROM invoice i JOIN viewer v ON i.organization_id = v.organization_id AND i.contact_id = v.contact_id
    JOIN contact c ON c.id = v.contact_id
    WHERE i.status IN ('SENT', 'PARTIALLY_PAID') AND i.currency = c.currency
    GROUP BY i.kind
),
last_payment AS (
    SELECT p.* FROM payment p JOIN viewer v ON p.organization_id = v.organization_id AND p.contact_id = v.contact_id
    WHERE p.status IN ('SUCCEEDED', 'PENDING') ORDER BY p.payment_date DESC, p.id DESC LIMIT 1
)"""
Q2_DASHBOARD = f"""json_build_object(
    'currency', (SELECT c.currency FROM contact c JOIN viewer v ON c.id = v.contact_id),
    'outstandingTotal', {money("coalesce((SELECT total FROM outstanding WHERE kind = 'REGULAR'), 0)")},
    'outstandingCount', coalesce((SELECT count FROM outstanding WHERE kind = 'REGULAR'), 0),
    'retainerInvoices', json_build_object(
        'total', {money("coalesce((SELECT total FROM outstanding WHERE kind = 'RETAINER'), 0)")},
        'count', coalesce((SELECT count FROM outstanding WHERE kind = 'RETAINER'), 0)),
    'lastPayment', (SELECT json_build_object('id', {gid("Payment", "p.id")}, 'amount', {money("p.amount")},
                    'paymentDate', p.payment_date, 'mode', p.mode, 'status', p.status) FROM last_payment p),
    'estimatesAwaitingApproval', (SELECT count(*) FROM estimate e JOIN viewer v
        ON e.organization_id = v.organization_id AND e.contact_id = v.contact_id
        WHERE e.status = 'SENT' AND (e.expiry_date IS NULL OR e.expiry_date >= current_date))
  )"""
Q2_SQL = statement(Q2_CTES, "dashboard", Q2_DASHBOARD)


ESTIMATE_PAGE = f"""json_build_object(
    'pageInfo', json_build_object(
        'hasNextPage', (SELECT count(*) FROM page) > $2::int,
        'endCursor', (SELECT {ESTIMATE_CURSOR} FROM shown e ORDER BY issue_date, id LIMIT 1)),
    'edges', coalesce((SELECT json_agg(json_build_object('cursor', {ESTIMATE_CURSOR}, 'node', json_build_object(
      'id', {gid("Estimate", "e.id")}, 'number', e.number, 'status', {ESTIMATE_STATUS},
      'issueDate', e.issue_date, 'expiryDate', e.expiry_date, 'total', {money("e.total")},
      'currency', e.currency, 'viewed', e.viewed_at IS NOT NULL
    )) ORDER BY e.issue_date DESC, e.id DESC) FROM shown e), '[]'::json)
  )"""


def estimate_page_sql(*, after: bool) -> str:
    """EstimateList: $2 = first; after a cursor, $3 and $4 are its issue date and id (keyset, newest first). The
    viewer's contact is a scalar subquery so PostgreSQL walks ix_estimate_contact_date backwards and stops."""
    keyset = "AND (e.issue_date, e.id) < ($3::date, $4::bigint)" if after else ""
    ctes = f"""page AS (
    SELECT e.* FROM estimate e
    WHERE e.contact_id = (SELECT contact_id FROM viewer) AND e.organization_id = (SELECT organization_id FROM viewer)
      AND e.status <> 'DRAFT' {keyset}
    ORDER BY e.issue_date DESC, e.id DESC LIMIT $2::int + 1
),
shown AS (SELECT * FROM page ORDER BY issue_date DESC, id DESC LIMIT $2::int)"""
    return statement(ctes, "estimates", ESTIMATE_PAGE)


Q3_SQL = estimate_page_sql(after=False)
Q3_AFTER_SQL = estimate_page_sql(after=True)

Q4_CTES = f"""doc AS (
    SELECT i.* FROM invoice i JOIN viewer v ON i.organization_id = v.organization_id AND i.contact_id = v.contact_id
    WHERE i.id = $2::bigint AND i.status <> 'DRAFT'
),
thread AS (
    SELECT c.id, c.body, c.author_contact_person_id, c.created_at,
           coalesce(s.name, concat_ws(' ', p.first_name, p.last_name)) AS author_name
    FROM comment c JOIN doc i ON c.invoice_id = i.id
      AND c.organization_id = i.organization_id AND c.contact_id = i.contact_id
    LEFT JOIN staff_user s ON s.id = c.author_staff_id
    LEFT JOIN contact_person p ON p.id = c.author_contact_person_id
    WHERE {COMMENT_SHOWN}
)"""
Q4_INVOICE = f"""(SELECT json_build_object(
    'id', {gid("Invoice", "i.id")}, 'number', i.number, 'status', {INVOICE_STATUS},
    'issueDate', i.issue_date, 'dueDate', i.due_date, 'currency', i.currency,
    'subtotal', {money("i.subtotal")}, 'taxTotal', {money("i.tax_total")}, 'total', {money("i.total")},
    'amountPaid', {money("i.amount_paid")}, 'balanceDue', {money("i.balance_due")},
    'viewed', i.viewed_at IS NOT NULL,
    'lineItems', {line_items(position=True)},
    'payments', {APPLIED_PAYMENTS},
    'comments', json_build_object(
        'totalCount', (SELECT count(*) FROM thread),
        'edges', coalesce((SELECT json_agg(json_build_object('cursor', {b64url("'[' || c.id || ']'")},
          'node', json_build_object('id', {gid("Comment", "c.id")}, 'body', c.body, 'authorName', c.author_name,
            'authorKind', CASE WHEN c.author_contact_person_id IS NOT NULL THEN 'CLIENT' ELSE 'STAFF' END,
            'createdAt', {iso("c.created_at")})) ORDER BY c.id)
          FROM (SELECT * FROM thread ORDER BY id LIMIT 20) c), '[]'::json))
  ) FROM doc i)"""
Q4_SQL = statement(Q4_CTES, "invoice", Q4_INVOICE)

# PostGraphile v4's generated schema over the same tables: contact 1's first 50 invoices, newest first, with line
# items, payment allocations (and their payment) and the comment count. It has no session, no portal rule (drafts,
# staff-only comments) and no rate limit: it reads what the connection's role may read.
POSTGRAPHILE_Q1 = """query PeerInvoiceList {
  allInvoices(condition: {contactId: "1"}, first: 50, orderBy: [ISSUE_DATE_DESC, ID_DESC]) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id number status kind issueDate dueDate currency total balanceDue viewedAt
        commentsByInvoiceId { totalCount }
        lineItemsByInvoiceId(orderBy: [POSITION_ASC, ID_ASC]) { nodes { name quantity rate amount taxAmount } }
        paymentAllocationsByInvoiceId(orderBy: [ID_ASC]) {
          nodes { amount paymentByPaymentId { id paymentDate mode status } }
        }
      }
    }
  }
}"""
