"""Compiled hot operations: a registered document answered by one SQL statement with the exact response bytes.

For the portal's hottest persisted operations (the invoice list, the dashboard) a portal viewer's request is
answered by one statement that builds the response JSON in PostgreSQL from the same scoped SELECTs, status
expressions and rounding rules as normal execution. Anything else — another viewer kind, a variable this path
does not handle, a bad cursor, an unexpected operation name — returns None and normal execution answers, with
its own errors. ``tests/persisted/test_compiled_parity.py`` compares both paths byte for byte.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import orjson
from babel.numbers import get_currency_precision, list_currencies
from graphql import GraphQLError
from sqlalchemy import (
    Select,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.types import Text

from core.auth import PortalViewer, Viewer
from core.database import Database
from core.nul_bytes import nul_path
from core.scope import (
    T_ALLOCATION,
    T_COMMENT,
    T_CONTACT,
    T_ESTIMATE,
    T_INVOICE,
    T_LINE_ITEM,
    T_PAYMENT,
    PortalScope,
    Scope,
)
from resolvers import reads
from resolvers.pagination import MAX_PAGE, decode_cursor

_ODD_PRECISIONS = {code: get_currency_precision(code) for code in list_currencies()}
_ODD_PRECISIONS = {code: digits for code, digits in _ODD_PRECISIONS.items() if digits != 2}


def precision(currency: Any) -> Any:
    """The number of decimals of ``currency`` (computed once per row: a CASE over every odd currency)."""
    return case(*((currency == code, digits) for code, digits in _ODD_PRECISIONS.items()), else_=2)


def money(value: Any, digits: Any) -> Any:
    """``quantize(value, currency)`` as SQL text, given the currency's ``precision``."""
    return cast(func.round(value, digits), Text)


def b64url(text: Any) -> Any:
    """Base64url without padding, as ``core.ids`` and the cursors encode."""
    encoded = func.encode(func.convert_to(text, "UTF8"), "base64")
    return func.rtrim(func.translate(func.replace(encoded, "\n", ""), "+/", "-_"), "=")


def global_id(type_name: str, pk: Any) -> Any:
    return b64url(literal(f"{type_name}:") + cast(pk, Text))


def date_cursor(day: Any, pk: Any) -> Any:
    """``encode_cursor([day, pk])``: base64url of ``["YYYY-MM-DD",pk]``."""
    return b64url(literal('["') + func.to_char(day, "YYYY-MM-DD") + literal('",') + cast(pk, Text) + literal("]"))


def obj(*pairs: Any) -> Any:
    return func.json_build_object(*pairs)


def json_list(expression: Any, *order_by: Any) -> Any:
    """A JSON array of ``expression`` in ``order_by`` order; ``[]`` when there are no rows."""
    return func.coalesce(func.json_agg(aggregate_order_by(expression, *order_by)), literal_column("'[]'::json"))


# The statements are built once, for a scope whose ids are bind parameters, and compiled once to SQL text;
# each request only binds its viewer's ids and its variables.
_MARKER = re.compile(r"__param_([a-z_]+)__")


def param(name: str, sql_type: str) -> Any:
    """A request-time parameter; everything else in the statement is a literal, so PostgreSQL can plan it once."""
    return literal_column(f"CAST(__param_{name}__ AS {sql_type})")


TEMPLATE_SCOPE = PortalScope(
    organization_id=param("organization_id", "BIGINT"),
    contact_id=param("contact_id", "BIGINT"),
    contact_person_id=param("contact_person_id", "BIGINT"),
    show_projects=False,
)


@dataclass(frozen=True, slots=True)
class CompiledOperation:
    operation_name: str
    variant: Callable[[dict[str, Any]], tuple[Hashable, dict[str, Any]] | None]  # None: not handled here
    build: Callable[[Scope, Hashable], Select[Any]]


def _invoice_list_variant(variables: dict[str, Any]) -> tuple[Hashable, dict[str, Any]] | None:
    if set(variables) - {"first", "after", "filter"} or variables.get("filter") is not None:
        return None
    first = variables.get("first", 20)
    if first is None:
        first = 20
    if not isinstance(first, int) or isinstance(first, bool) or not 0 <= first <= MAX_PAGE:
        return None
    after = variables.get("after")
    if after is None:
        return "first page", {"first": first, "page_limit": first + 1}
    if not isinstance(after, str):
        return None
    try:
        after_date, after_id = decode_cursor(after, [dt.date, int])  # the rules normal execution applies
    except GraphQLError:  # normal execution reports the bad cursor
        return None
    return "after", {"first": first, "page_limit": first + 1, "after_date": after_date, "after_id": after_id}


def _invoice_list(scope: Scope, variant: Hashable) -> Select[Any]:
    visible = reads.invoices(scope)
    visible_page = visible
    if variant == "after":
        after = tuple_(param("after_date", "DATE"), param("after_id", "BIGINT"))
        visible_page = visible.where(tuple_(T_INVOICE.c.issue_date, T_INVOICE.c.id) < after)
    first = param("first", "INTEGER")
    order = (T_INVOICE.c.issue_date.desc(), T_INVOICE.c.id.desc())
    page = (
        visible_page.add_columns(precision(T_INVOICE.c.currency).label("digits"))
        .order_by(*order)
        .limit(param("page_limit", "INTEGER"))
        .cte("page")
    )
    shown = select(page).order_by(page.c.issue_date.desc(), page.c.id.desc()).limit(first).cte("shown")
    i = shown.c
    comment_count = (
        select(func.count())
        .select_from(T_COMMENT)
        .where(T_COMMENT.c.invoice_id == i.id, *scope.attached_conditions(T_COMMENT))
        .scalar_subquery()
    )
    lines = (
        select(
            json_list(
                obj(
                    "name",
                    T_LINE_ITEM.c.name,
                    "quantity",
                    cast(func.trim_scale(T_LINE_ITEM.c.quantity), Text),
                    "rate",
                    money(T_LINE_ITEM.c.rate, i.digits),
                    "amount",
                    money(T_LINE_ITEM.c.amount, i.digits),
                    "taxAmount",
                    money(T_LINE_ITEM.c.tax_amount, i.digits),
                ),
                T_LINE_ITEM.c.position,
                T_LINE_ITEM.c.id,
            )
        )
        .where(T_LINE_ITEM.c.invoice_id == i.id, *scope.attached_conditions(T_LINE_ITEM))
        .scalar_subquery()
    )
    payments = (
        select(
            json_list(
                obj(
                    "amount",
                    money(T_ALLOCATION.c.amount, precision(T_PAYMENT.c.currency)),
                    "paymentDate",
                    T_PAYMENT.c.payment_date,
                    "mode",
                    T_PAYMENT.c.mode,
                    "status",
                    T_PAYMENT.c.status,
                ),
                T_PAYMENT.c.payment_date,
                T_PAYMENT.c.id,
            )
        )
        .select_from(T_ALLOCATION)
        .join(T_PAYMENT, T_PAYMENT.c.id == T_ALLOCATION.c.payment_id)
        .where(
            T_ALLOCATION.c.invoice_id == i.id,
            *scope.attached_conditions(T_ALLOCATION),
        )
        .scalar_subquery()
    )
    node = obj(
        "id",
        global_id("Invoice", i.id),
        "number",
        i.number,
        "status",
        i.effective_status,
        "kind",
        i.kind,
        "issueDate",
        i.issue_date,
        "dueDate",
        i.due_date,
        "currency",
        i.currency,
        "total",
        money(i.total, i.digits),
        "balanceDue",
        money(i.balance_due, i.digits),
        "viewed",
        i.viewed_at.is_not(None),
        "commentCount",
        comment_count,
        "lineItems",
        lines,
        "payments",
        payments,
    )
    edges = select(
        json_list(obj("cursor", date_cursor(i.issue_date, i.id), "node", node), i.issue_date.desc(), i.id.desc())
    ).scalar_subquery()
    end_cursor = (
        select(date_cursor(shown.c.issue_date, shown.c.id))
        .order_by(shown.c.issue_date, shown.c.id)
        .limit(1)
        .scalar_subquery()
    )
    total = select(func.count()).select_from(visible.subquery()).scalar_subquery()
    has_next = select(func.count() > first).select_from(page).scalar_subquery()
    connection = obj(
        "totalCount",
        total,
        "pageInfo",
        obj("hasNextPage", has_next, "endCursor", end_cursor),
        "edges",
        edges,
    )
    return select(cast(obj("data", obj("invoices", connection)), Text))


def _dashboard_variant(variables: dict[str, Any]) -> tuple[Hashable, dict[str, Any]] | None:
    return None if variables else ("only", {})


def _dashboard(scope: Scope, variant: Hashable) -> Select[Any]:
    viewer_contact = scope.select(T_CONTACT, T_CONTACT.c.currency, precision(T_CONTACT.c.currency).label("digits")).cte(
        "viewer_contact"
    )
    contact = select(viewer_contact.c.currency).scalar_subquery()
    digits = select(viewer_contact.c.digits).scalar_subquery()
    outstanding = (
        scope.select(
            T_INVOICE,
            T_INVOICE.c.kind,
            func.count().label("count"),
            func.coalesce(func.sum(T_INVOICE.c.balance_due), 0).label("total"),
        )
        .where(reads.outstanding(), T_INVOICE.c.currency == contact)
        .group_by(T_INVOICE.c.kind)
        .cte("outstanding")
    )

    def figure(kind: str, column: str) -> Any:
        return func.coalesce(select(outstanding.c[column]).where(outstanding.c.kind == kind).scalar_subquery(), 0)

    last = (
        scope.select(T_PAYMENT)
        .where(T_PAYMENT.c.status.in_(("SUCCEEDED", "PENDING")))
        .order_by(T_PAYMENT.c.payment_date.desc(), T_PAYMENT.c.id.desc())
        .limit(1)
        .cte("last_payment")
    )
    last_payment = select(
        obj(
            "id",
            global_id("Payment", last.c.id),
            "amount",
            money(last.c.amount, precision(last.c.currency)),
            "paymentDate",
            last.c.payment_date,
            "mode",
            last.c.mode,
            "status",
            last.c.status,
        )
    ).scalar_subquery()
    awaiting = scope.select(T_ESTIMATE, func.count()).where(reads.awaiting_approval()).scalar_subquery()
    dashboard = obj(
        "currency",
        contact,
        "outstandingTotal",
        money(figure("REGULAR", "total"), digits),
        "outstandingCount",
        figure("REGULAR", "count"),
        "retainerInvoices",
        obj("total", money(figure("RETAINER", "total"), digits), "count", figure("RETAINER", "count")),
        "lastPayment",
        last_payment,
        "estimatesAwaitingApproval",
        awaiting,
    )
    return select(cast(obj("data", obj("dashboard", dashboard)), Text))


# keyed by the manifest document's first line (operation keyword and name), checked against the text at start
OPERATIONS = {
    "InvoiceList": CompiledOperation("InvoiceList", _invoice_list_variant, _invoice_list),
    "Dashboard": CompiledOperation("Dashboard", _dashboard_variant, _dashboard),
}


@dataclass(frozen=True, slots=True)
class Prepared:
    sql: str
    names: tuple[str, ...]  # the request-time parameters, as $1, $2, … in this order


@lru_cache(maxsize=64)
def prepared(operation_name: str, variant: Hashable) -> Prepared:
    """The operation's SQL text, built and compiled once: constants inline, request values as $n."""
    statement = OPERATIONS[operation_name].build(TEMPLATE_SCOPE, variant)
    rendered = str(
        statement.compile(
            dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True, "render_postcompile": True}
        )
    )
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    return Prepared(_MARKER.sub(number, rendered), tuple(names))


class CompiledOperations:
    """The compiled operations found in the manifest, by document id."""

    def __init__(self, manifest: dict[str, str]) -> None:
        self.by_document: dict[str, CompiledOperation] = {}
        for document_id, text in manifest.items():
            name = text.split("(", 1)[0].split("{", 1)[0].split()[-1]
            if name in OPERATIONS:
                self.by_document[document_id] = OPERATIONS[name]

    async def answer(
        self, db: Database, viewer: Viewer | None, document_id: str | None, variables: Any, operation_name: Any
    ) -> bytes | None:
        """The response body, or None to let normal execution answer."""
        operation = self.by_document.get(document_id or "")
        if operation is None or not isinstance(viewer, PortalViewer):
            return None
        if operation_name is not None and operation_name != operation.operation_name:
            return None
        if variables is None:
            variables = {}
        if not isinstance(variables, dict) or nul_path(variables) is not None:
            return None  # normal execution refuses it, as for any operation
        handled = operation.variant(variables)
        if handled is None:
            return None
        variant, values = handled
        statement = prepared(operation.operation_name, variant)
        bound = {
            **values,
            "organization_id": viewer.organization_id,
            "contact_id": viewer.contact_id,
            "contact_person_id": viewer.contact_person_id,
        }
        async with db.session() as session:
            connection = await (await session.connection()).get_raw_connection()
            text = await connection.driver_connection.fetchval(statement.sql, *(bound[n] for n in statement.names))
        # PostgreSQL's json text has spaces after separators; orjson writes exactly what normal execution sends
        return orjson.dumps(orjson.loads(text))
