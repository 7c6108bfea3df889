"""What the planner can answer, field by field: how each GraphQL field of the read path is written in SQL.

A field is a ``Leaf`` (a JSON value of the row), ``Same`` (an object made of the same row: an address, the
payment behind an applied payment), ``Child`` (one related row, or null), ``Children`` (a list of related rows)
or ``Page`` (a Relay connection). Every row source reads through the viewer's scope with the rules the loaders
use (``resolvers.reads``, ``Scope.attached_conditions`` for the children of a row already in scope), and every
value is written as the type's ``from_row`` builds it; ``tests/persisted/test_planner_parity.py`` compares the
two over the fixture data. A field that is not here makes the operation unplanned: normal execution answers it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Select, case, func, literal, select

from core.scope import (
    T_ALLOCATION,
    T_COMMENT,
    T_CONTACT,
    T_ESTIMATE,
    T_INVOICE,
    T_LINE_ITEM,
    T_ORGANIZATION,
    T_PAYMENT,
    Scope,
)
from models.estimates import DASHBOARD_FIGURES
from models.invoices import OUTSTANDING_SHOWN, InvoiceStatus
from resolvers import reads
from resolvers.planner.specs import (
    ById,
    Child,
    Children,
    JsonbKeys,
    Leaf,
    Page,
    Row,
    Same,
    Spec,
    View,
    _date,
    _datetime,
    _id,
    _money,
    _raw,
    _text,
    _trimmed,
    camel,
    digits_of,
    json_list,
)
from resolvers.planner.sqljson import (
    money,
    precision,
    raw_of,
    text_of,
)
from services.documents import statuses

OVERDUE = InvoiceStatus.OVERDUE


def _comment_count(owner: str) -> Leaf:
    def count(r: Row, scope: Scope) -> Any:
        column = T_COMMENT.c[f"{owner}_id"]
        return raw_of(
            select(func.count())
            .select_from(T_COMMENT)
            .where(column == r.c["id"], *scope.attached_conditions(T_COMMENT))
            .scalar_subquery()
        )

    return Leaf(count)


def _lines(owner: str) -> Children:
    def rows(scope: Scope, parent: Row) -> Select[Any]:
        return select(T_LINE_ITEM, parent.c["digits"].label("digits")).where(
            T_LINE_ITEM.c[f"{owner}_id"] == parent.c["id"], *scope.attached_conditions(T_LINE_ITEM)
        )

    return Children("LineItem", rows, lambda r: [r.c["position"], r.c["id"]])


def _taxes(owner: str) -> Children:
    """Lines' taxes grouped by name and rate, in order of first appearance (``tax_breakdown``)."""

    def rows(scope: Scope, parent: Row) -> Select[Any]:
        line = T_LINE_ITEM
        return (
            select(
                line.c.tax_name.label("name"),
                line.c.tax_percent.label("percent"),
                func.sum(line.c.tax_amount).label("amount"),
                func.min(line.c.position).label("first_position"),
                func.min(line.c.id).label("first_id"),
                parent.c["digits"].label("digits"),
            )
            .where(
                line.c[f"{owner}_id"] == parent.c["id"],
                *scope.attached_conditions(line),
                (line.c.tax_name.is_not(None)) | (line.c.tax_percent > 0),
            )
            .group_by(line.c.tax_name, line.c.tax_percent)
        )

    return Children("TaxAmount", rows, lambda r: [r.c["first_position"], r.c["first_id"]])


def _comments(owner: str, table: Any) -> Page:
    def rows(scope: Scope, parent: Row | None) -> Select[Any]:
        assert parent is not None
        return reads.comments(scope, on=table).where(T_COMMENT.c[f"{owner}_id"] == parent.c["id"])

    return Page("Comment", rows, (("id", "int"),), descending=False)


def _contact(scope: Scope, parent: Row) -> Select[Any]:
    return scope.select(T_CONTACT).where(T_CONTACT.c.id == parent.c["contact_id"])


def _invoices(scope: Scope, _: Row | None = None) -> Select[Any]:
    return reads.invoices(scope).add_columns(digits_of(T_INVOICE))


def _estimates(scope: Scope, _: Row | None = None) -> Select[Any]:
    return reads.estimates(scope).add_columns(digits_of(T_ESTIMATE))


def _document_fields(type_name: str, owner: str, table: Any) -> dict[str, Spec]:
    return {
        "id": _id(type_name),
        "number": _text("number"),
        "reference": _text("reference"),
        "status": _text("effective_status"),
        "issueDate": _date("issue_date"),
        "currency": _text("currency"),
        "subtotal": _money("subtotal"),
        "taxTotal": _money("tax_total"),
        "total": _money("total"),
        "notes": _text("notes"),
        "terms": _text("terms"),
        "sentAt": _datetime("sent_at"),
        "createdAt": _datetime("created_at"),
        "viewed": Leaf(lambda r, _: raw_of(r.c["viewed_at"].is_not(None))),
        "viewedAt": _datetime("viewed_at"),
        "commentCount": _comment_count(owner),
        "lineItems": _lines(owner),
        "taxes": _taxes(owner),
        "comments": _comments(owner, table),
        "contact": Child("Contact", _contact, nullable=False),
    }


def _applied_payments(scope: Scope, parent: Row) -> Select[Any]:
    return (
        select(T_PAYMENT, T_ALLOCATION.c.amount.label("applied_amount"), digits_of(T_PAYMENT))
        .select_from(T_ALLOCATION)
        .join(T_PAYMENT, T_PAYMENT.c.id == T_ALLOCATION.c.payment_id)
        .where(T_ALLOCATION.c.invoice_id == parent.c["id"], *scope.attached_conditions(T_ALLOCATION))
    )


LAST_PAYMENT_STATUSES = ("SUCCEEDED", "PENDING")


def _dashboard(scope: Scope, _: Row | None) -> Select[Any]:
    """The dashboard's figures as one row (``resolvers.dashboard.build_dashboard`` reads the same)."""
    if scope.is_staff:
        currency = scope.select(T_ORGANIZATION, T_ORGANIZATION.c.base_currency).scalar_subquery()
    else:
        currency = scope.select(T_CONTACT, T_CONTACT.c.currency).scalar_subquery()
    base = scope.select(T_INVOICE, T_INVOICE.c.kind, T_INVOICE.c.balance_due).where(statuses.outstanding())

    def figure(kind: str, value: Any) -> Any:
        of_kind = base.where(T_INVOICE.c.kind == kind, T_INVOICE.c.currency == currency)
        return func.coalesce(of_kind.with_only_columns(value).scalar_subquery(), 0)

    def overdue_figure(value: Any) -> Any:
        late = base.where(
            T_INVOICE.c.kind == "REGULAR", T_INVOICE.c.currency == currency, statuses.invoice_status_in([OVERDUE])
        )
        return func.coalesce(late.with_only_columns(value).scalar_subquery(), 0)

    count = scope.select(T_ESTIMATE, func.count())
    estimate_figures = [
        count.where(statuses.estimate_status_in(wanted)).scalar_subquery().label(name)
        for name, wanted in DASHBOARD_FIGURES.items()
    ]
    return select(
        currency.label("currency"),
        precision(currency).label("digits"),
        figure("REGULAR", func.sum(T_INVOICE.c.balance_due)).label("regular_total"),
        figure("REGULAR", func.count()).label("regular_count"),
        figure("RETAINER", func.sum(T_INVOICE.c.balance_due)).label("retainer_total"),
        figure("RETAINER", func.count()).label("retainer_count"),
        overdue_figure(func.sum(T_INVOICE.c.balance_due)).label("overdue_total"),
        overdue_figure(func.count()).label("overdue_count"),
        *estimate_figures,
    )


def _by_currency(scope: Scope, _: Row) -> Select[Any]:
    regular = scope.select(T_INVOICE, T_INVOICE.c.currency, func.count().label("count"))
    return (
        regular.add_columns(
            func.sum(T_INVOICE.c.balance_due).label("total"), precision(T_INVOICE.c.currency).label("digits")
        )
        .where(statuses.outstanding(), T_INVOICE.c.kind == "REGULAR")
        .group_by(T_INVOICE.c.currency)
    )


def _last_payment(scope: Scope, _: Row) -> Select[Any]:
    return (
        scope.select(T_PAYMENT, T_PAYMENT, digits_of(T_PAYMENT))
        .where(T_PAYMENT.c.status.in_(LAST_PAYMENT_STATUSES))
        .order_by(T_PAYMENT.c.payment_date.desc(), T_PAYMENT.c.id.desc())
        .limit(1)
    )


def _filter_values(kind: str, shown: tuple[Any, ...] = OUTSTANDING_SHOWN) -> Callable[[Row], Row]:
    return lambda row: View(row, {"filter_kind": literal(kind), "filter_statuses": json_list(shown)})


def _address(column: str) -> Same:
    return Same("Address", lambda row: JsonbKeys(row.c[column]))


_ADDRESS_PARTS = ("attention", "street1", "street2", "city", "state", "zip", "country", "phone")


CATALOG: dict[str, dict[str, Spec]] = {
    "Query": {
        "invoices": Page("Invoice", _invoices, (("issue_date", "date"), ("id", "int")), True),
        "invoice": ById("Invoice", _invoices),
        "estimates": Page("Estimate", _estimates, (("issue_date", "date"), ("id", "int")), True),
        "estimate": ById("Estimate", _estimates),
        "dashboard": Child("Dashboard", _dashboard, nullable=False),
    },
    "Dashboard": {
        "currency": _text("currency"),
        "outstandingTotal": Leaf(lambda r, _: money(r.c["regular_total"], r.c["digits"])),
        "outstandingCount": _raw("regular_count"),
        "outstandingFilter": Same("InvoiceFilterValues", _filter_values("REGULAR")),
        "outstandingByCurrency": Children("CurrencyTotal", _by_currency, lambda r: [r.c["currency"]]),
        "retainerInvoices": Same(
            "OutstandingInvoices",
            lambda row: View(
                row,
                {
                    "total": "retainer_total",
                    "count": "retainer_count",
                    "filter_kind": literal("RETAINER"),
                    "filter_statuses": json_list(OUTSTANDING_SHOWN),
                },
            ),
        ),
        "overdue": Same(
            "OutstandingInvoices",
            lambda row: View(
                row,
                {
                    "total": "overdue_total",
                    "count": "overdue_count",
                    "filter_kind": literal("REGULAR"),
                    "filter_statuses": json_list((OVERDUE,)),
                },
            ),
        ),
        "lastPayment": Child("Payment", _last_payment),
        **{camel(name): _raw(name) for name in DASHBOARD_FIGURES},
        **{
            f"{camel(name)}Filter": Same(
                "EstimateFilterValues", lambda row, wanted=wanted: View(row, {"statuses": json_list(wanted)})
            )
            for name, wanted in DASHBOARD_FIGURES.items()
        },
    },
    "EstimateFilterValues": {"status": Leaf(lambda r, _: r.c["statuses"])},
    "InvoiceFilterValues": {
        "status": Leaf(lambda r, _: r.c["filter_statuses"]),
        "kind": Leaf(lambda r, _: r.c["filter_kind"]),
    },
    "OutstandingInvoices": {
        "total": Leaf(lambda r, _: money(r.c["total"], r.c["digits"])),
        "count": _raw("count"),
        "filter": Same("InvoiceFilterValues", lambda row: row),
    },
    "CurrencyTotal": {"currency": _text("currency"), "total": _money("total"), "count": _raw("count")},
    "Invoice": {
        **_document_fields("Invoice", "invoice", T_INVOICE),
        "kind": _text("kind"),
        "dueDate": _date("due_date"),
        "amountPaid": _money("amount_paid"),
        "balanceDue": _money("balance_due"),
        "paymentGateways": Leaf(lambda r, _: func.to_json(r.c["payment_gateways"])),
        "payments": Children("AppliedPayment", _applied_payments, lambda r: [r.c["payment_date"], r.c["id"]]),
    },
    "Estimate": {
        **_document_fields("Estimate", "estimate", T_ESTIMATE),
        "expiryDate": _date("expiry_date"),
        "acceptedAt": _datetime("accepted_at"),
        "signatureName": _text("signature_name"),
        "declinedAt": _datetime("declined_at"),
        "declineReason": _text("decline_reason"),
        "acceptedIp": Leaf(lambda r, _: text_of(func.host(r.c["accepted_ip"])), staff_only=True),
    },
    "LineItem": {
        "position": _raw("position"),
        "name": _text("name"),
        "description": _text("description"),
        "quantity": _trimmed("quantity"),
        "rate": _money("rate"),
        "discountPercent": _trimmed("discount_percent"),
        "taxName": _text("tax_name"),
        "taxPercent": _trimmed("tax_percent"),
        "amount": _money("amount"),
        "taxAmount": _money("tax_amount"),
    },
    "TaxAmount": {"name": _text("name"), "percent": _trimmed("percent"), "amount": _money("amount")},
    "AppliedPayment": {
        "amount": _money("applied_amount"),
        "paymentDate": _date("payment_date"),
        "mode": _text("mode"),
        "status": _text("status"),
        "reference": _text("reference"),
        "payment": Same("Payment"),
    },
    "Payment": {
        "id": _id("Payment"),
        "amount": _money("amount"),
        "currency": _text("currency"),
        "paymentDate": _date("payment_date"),
        "mode": _text("mode"),
        "status": _text("status"),
        "reference": _text("reference"),
        "notes": Leaf(lambda r, _: text_of(r.c["notes"]), staff_only=True),
        "createdAt": _datetime("created_at"),
        "contact": Child("Contact", _contact, nullable=False),
    },
    "Comment": {
        "id": _id("Comment"),
        "body": _text("body"),
        "visibleInPortal": _raw("visible_in_portal"),
        "authorKind": Leaf(
            lambda r, _: text_of(case((r.c["author_contact_person_id"].is_not(None), literal("CLIENT")), else_="STAFF"))
        ),
        "authorName": Leaf(lambda r, _: text_of(func.coalesce(r.c["author_name"], ""))),
        "createdAt": _datetime("created_at"),
    },
    "Contact": {
        "id": _id("Contact"),
        "displayName": _text("display_name"),
        "companyName": _text("company_name"),
        "email": _text("email"),
        "phone": _text("phone"),
        "currency": _text("currency"),
        "billingAddress": _address("billing_address"),
        "shippingAddress": _address("shipping_address"),
        "notes": Leaf(lambda r, _: text_of(r.c["notes"]), staff_only=True),
        "createdAt": _datetime("created_at"),
    },
    "Address": {part: _text(part) for part in _ADDRESS_PARTS},
}
