"""The measured operations: each GraphQL document and, for reads, the raw SQL answering with the same JSON."""

from __future__ import annotations

VIEWER_CTE = """
viewer AS (
    SELECT p.contact_id, s.organization_id
    FROM auth_session s JOIN contact_person p ON p.id = s.contact_person_id
    JOIN organization o ON o.id = s.organization_id
    WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
      AND p.portal_status = 'ACTIVE' AND o.portal_enabled
)"""


def gid(type_name: str, column: str) -> str:
    """SQL for the opaque global id: base64url of 'Type:pk' without padding."""
    return f"rtrim(translate(encode(convert_to('{type_name}:' || {column}, 'UTF8'), 'base64'), '+/', '-_'), '=')"


def money(column: str) -> str:
    return f"({column})::numeric(20,2)::text"


INVOICE_STATUS = (
    "CASE WHEN i.status IN ('SENT', 'PARTIALLY_PAID') AND i.due_date < current_date THEN 'OVERDUE' ELSE i.status END"
)

Q1 = """query Q1 { invoices(first: 50) { edges { node {
  id number status issueDate dueDate currency total balanceDue
  lineItems { name quantity rate amount taxAmount }
} } } }"""

Q1_SQL = f"""
WITH {VIEWER_CTE},
page AS (
    SELECT i.* FROM invoice i JOIN viewer v ON i.organization_id = v.organization_id AND i.contact_id = v.contact_id
    WHERE i.status <> 'DRAFT'
    ORDER BY i.issue_date DESC, i.id DESC LIMIT 50
)
SELECT CASE WHEN EXISTS (SELECT 1 FROM viewer) THEN json_build_object('data', json_build_object('invoices',
  json_build_object('edges', coalesce((SELECT json_agg(json_build_object('node', json_build_object(
    'id', {gid("Invoice", "i.id")}, 'number', i.number, 'status', {INVOICE_STATUS},
    'issueDate', i.issue_date, 'dueDate', i.due_date, 'currency', i.currency,
    'total', {money("i.total")}, 'balanceDue', {money("i.balance_due")},
    'lineItems', (SELECT coalesce(json_agg(json_build_object(
        'name', l.name, 'quantity', trim_scale(l.quantity)::text, 'rate', {money("l.rate")},
        'amount', {money("l.amount")}, 'taxAmount', {money("l.tax_amount")}) ORDER BY l.position, l.id), '[]')
      FROM line_item l WHERE l.invoice_id = i.id)
  )) ORDER BY i.issue_date DESC, i.id DESC) FROM page i), '[]'::json))))::text END
"""

Q3 = """query Q3($after: String) { estimates(first: 20, after: $after) {
  pageInfo { hasNextPage endCursor } edges { node { id number status issueDate total } } } }"""

RAW_SQL = {"q1": Q1_SQL}
