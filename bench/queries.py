"""The measured operations: the portal's persisted documents, and for reads the raw SQL answering each with the
same JSON (the baseline a hand-written endpoint reaches)."""

from __future__ import annotations

from core.persisted import load_manifest
from services.persisted_manifest import MANIFEST


def document(name: str) -> str:
    """The manifest document of operation ``name`` (operations/portal/<name>.graphql)."""
    for text in load_manifest(MANIFEST).values():
        if text.split("(", 1)[0].split("{", 1)[0].split()[-1] == name:
            return text
    raise KeyError(name)


Q1 = document("InvoiceList")
Q2 = document("Dashboard")
Q3 = document("EstimateList")
M1 = document("AddComment")
M2 = document("AcceptEstimate")

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


INVOICE_STATUS = (
    "CASE WHEN i.status IN ('SENT', 'PARTIALLY_PAID') AND i.due_date < current_date THEN 'OVERDUE' ELSE i.status END"
)
INVOICE_CURSOR = b64url("'[\"' || to_char(i.issue_date, 'YYYY-MM-DD') || '\",' || i.id || ']'")

Q1_SQL = f"""
WITH {VIEWER_CTE},
visible AS (
    SELECT i.* FROM invoice i JOIN viewer v ON i.organization_id = v.organization_id AND i.contact_id = v.contact_id
    WHERE i.status <> 'DRAFT'
),
page AS (SELECT * FROM visible ORDER BY issue_date DESC, id DESC LIMIT 51),
shown AS (SELECT * FROM page ORDER BY issue_date DESC, id DESC LIMIT 50)
SELECT CASE WHEN EXISTS (SELECT 1 FROM viewer) THEN json_build_object('data', json_build_object('invoices',
  json_build_object(
    'totalCount', (SELECT count(*) FROM visible),
    'pageInfo', json_build_object(
        'hasNextPage', (SELECT count(*) FROM page) > 50,
        'endCursor', (SELECT {INVOICE_CURSOR} FROM shown i ORDER BY issue_date, id LIMIT 1)),
    'edges', coalesce((SELECT json_agg(json_build_object('cursor', {INVOICE_CURSOR}, 'node', json_build_object(
      'id', {gid("Invoice", "i.id")}, 'number', i.number, 'status', {INVOICE_STATUS}, 'kind', i.kind,
      'issueDate', i.issue_date, 'dueDate', i.due_date, 'currency', i.currency,
      'total', {money("i.total")}, 'balanceDue', {money("i.balance_due")}, 'viewed', i.viewed_at IS NOT NULL,
      'commentCount', (SELECT count(*) FROM comment c WHERE c.invoice_id = i.id
                         AND (c.visible_in_portal OR c.author_contact_person_id IS NOT NULL)),
      'lineItems', (SELECT coalesce(json_agg(json_build_object(
          'name', l.name, 'quantity', trim_scale(l.quantity)::text, 'rate', {money("l.rate")},
          'amount', {money("l.amount")}, 'taxAmount', {money("l.tax_amount")}) ORDER BY l.position, l.id), '[]')
        FROM line_item l WHERE l.invoice_id = i.id),
      'payments', (SELECT coalesce(json_agg(json_build_object(
          'amount', {money("a.amount")}, 'paymentDate', p.payment_date, 'mode', p.mode, 'status', p.status)
          ORDER BY p.payment_date, p.id), '[]')
        FROM payment_allocation a JOIN payment p ON p.id = a.payment_id WHERE a.invoice_id = i.id)
    )) ORDER BY i.issue_date DESC, i.id DESC) FROM shown i), '[]'::json)
  )))::text END
"""

Q2_SQL = f"""
WITH {VIEWER_CTE},
outstanding AS (
    SELECT i.kind, count(*) AS count, coalesce(sum(i.balance_due), 0) AS total
    FROM invoice i JOIN viewer v ON i.organization_id = v.organization_id AND i.contact_id = v.contact_id
    JOIN contact c ON c.id = v.contact_id
    WHERE i.status IN ('SENT', 'PARTIALLY_PAID') AND i.currency = c.currency
    GROUP BY i.kind
),
last_payment AS (
    SELECT p.* FROM payment p JOIN viewer v ON p.organization_id = v.organization_id AND p.contact_id = v.contact_id
    WHERE p.status IN ('SUCCEEDED', 'PENDING') ORDER BY p.payment_date DESC, p.id DESC LIMIT 1
)
SELECT CASE WHEN EXISTS (SELECT 1 FROM viewer) THEN json_build_object('data', json_build_object('dashboard',
  json_build_object(
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
        WHERE e.status = 'SENT' AND NOT (e.expiry_date < current_date))
  )))::text END
"""

RAW_SQL = {"q1": Q1_SQL, "q2": Q2_SQL}
