"""What a PDF shows, read through the viewer's ``Scope`` (a row outside it is "not found"): plain data, no ORM."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from core.money import quantize, trim
from core.scope import T_CONTACT, T_ESTIMATE, T_INVOICE, T_LINE_ITEM, T_ORGANIZATION, Scope
from models.estimates import ESTIMATE_REASONS
from services.documents.lines import LineDraft
from services.documents.pdf.formats import address_lines, pdf_filename
from services.documents.statuses import ESTIMATE_STATUS, INVOICE_STATUS
from services.statements.compute import Statement, compute_statement

DocumentKind = Literal["estimate", "invoice"]


# per kind: the status whose row column holds the client's own words, printed under the totals
REASONS: dict[str, dict[Any, str]] = {"estimate": dict(ESTIMATE_REASONS), "invoice": {}}


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    lines: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True, kw_only=True)
class PdfLine(LineDraft):
    """A line as the PDF prints it: the line as entered, and its amounts rounded to the document's currency."""

    amount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True, slots=True)
class DocumentData:
    kind: DocumentKind
    id: int
    contact_id: int
    number: str
    reference: str | None
    status: str  # the effective status: OVERDUE and EXPIRED derived from the dates
    issue_date: dt.date
    second_date_label: str
    second_date: dt.date | None
    currency: str
    locale: str
    organization: Party
    bill_to: Party
    lines: list[PdfLine]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal | None
    balance_due: Decimal | None
    notes: str | None
    terms: str | None
    accepted_by: str | None = None
    accepted_at: dt.datetime | None = None
    reason: str | None = None  # the client's words for the status it is in (a DECLINED estimate's reason)
    organization_email: str | None = None

    @property
    def title(self) -> str:
        return "Estimate" if self.kind == "estimate" else "Invoice"

    @property
    def filename(self) -> str:
        return pdf_filename(self.number)

    def taxes(self) -> list[tuple[str, Decimal, Decimal]]:
        """Tax amounts grouped by name and rate, in order of first appearance: (name, percent, amount)."""
        groups: dict[tuple[str, Decimal], Decimal] = {}
        for line in self.lines:
            if line.tax_amount == 0 and line.tax_percent == 0:
                continue
            key = (line.tax_name or "Tax", trim(line.tax_percent))
            groups[key] = groups.get(key, Decimal(0)) + line.tax_amount
        return [(name, percent, amount) for (name, percent), amount in groups.items()]


@dataclass(frozen=True, slots=True)
class StatementData:
    statement: Statement
    organization: Party
    contact: Party
    locale: str

    @property
    def filename(self) -> str:
        s = self.statement
        return pdf_filename(f"statement-{s.contact_name}-{s.from_.isoformat()}-{s.to.isoformat()}")


def _company_line(contact: Any) -> list[str]:
    """The company name under the display name, when it says something more."""
    return [contact.company_name] if contact.company_name and contact.company_name != contact.display_name else []


def _organization(org: Any) -> Party:
    return Party(org.name, address_lines(org.address) + ([org.email] if org.email else []))


ENTERED = tuple(field.name for field in fields(LineDraft))  # what staff entered of a line, as stored


def _pdf_line(line: Any, currency: str) -> PdfLine:
    """A stored line as the PDF prints it: as entered, with its amounts rounded to the document's currency."""
    entered = {name: getattr(line, name) for name in ENTERED}
    return PdfLine(**entered, amount=quantize(line.amount, currency), tax_amount=quantize(line.tax_amount, currency))


async def _document_row(session: AsyncSession, scope: Scope, kind: DocumentKind, pk: int) -> Any:
    table, status = (T_ESTIMATE, ESTIMATE_STATUS) if kind == "estimate" else (T_INVOICE, INVOICE_STATUS)
    stmt = scope.select(table, table, status.label("effective_status")).where(table.c.id == pk)
    return (await session.execute(stmt)).one_or_none()


async def _lines(session: AsyncSession, scope: Scope, kind: DocumentKind, pk: int, currency: str) -> list[PdfLine]:
    owner_column = T_LINE_ITEM.c.estimate_id if kind == "estimate" else T_LINE_ITEM.c.invoice_id
    stmt = scope.select(T_LINE_ITEM).where(owner_column == pk).order_by(T_LINE_ITEM.c.position, T_LINE_ITEM.c.id)
    return [_pdf_line(line, currency) for line in (await session.execute(stmt)).all()]


async def load_document(session: AsyncSession, scope: Scope, kind: DocumentKind, pk: int) -> DocumentData | None:
    """What the PDF of estimate or invoice ``pk`` shows, read through ``scope``; None outside it."""
    row = await _document_row(session, scope, kind, pk)
    if row is None:
        return None
    contact = (await session.execute(scope.where_id(T_CONTACT, row.contact_id))).one()
    org = (await session.execute(scope.select(T_ORGANIZATION))).one()
    currency = row.currency
    bill_to_lines = _company_line(contact) + address_lines(contact.billing_address)
    if contact.email:
        bill_to_lines.append(contact.email)
    is_invoice = kind == "invoice"
    reason_column = REASONS[kind].get(row.effective_status)
    return DocumentData(
        kind=kind,
        id=row.id,
        contact_id=row.contact_id,
        number=row.number,
        reference=row.reference,
        status=row.effective_status,
        issue_date=row.issue_date,
        second_date_label="Due date" if is_invoice else "Expiry date",
        second_date=row.due_date if is_invoice else row.expiry_date,
        currency=currency,
        locale=org.locale,
        organization=_organization(org),
        bill_to=Party(contact.display_name, bill_to_lines),
        lines=await _lines(session, scope, kind, pk, currency),
        subtotal=quantize(row.subtotal, currency),
        tax_total=quantize(row.tax_total, currency),
        total=quantize(row.total, currency),
        amount_paid=quantize(row.amount_paid, currency) if is_invoice else None,
        balance_due=quantize(row.balance_due, currency) if is_invoice else None,
        notes=row.notes,
        terms=row.terms,
        accepted_by=None if is_invoice else row.signature_name,
        accepted_at=None if is_invoice else row.accepted_at,
        reason=getattr(row, reason_column) if reason_column else None,
        organization_email=org.email,
    )


async def load_statement(
    session: AsyncSession, scope: Scope, contact_id: int, from_: dt.date, to: dt.date
) -> StatementData | None:
    """What the statement PDF shows (``services.statements.compute_statement`` plus the parties); None outside."""
    statement = await compute_statement(session, scope, contact_id, from_, to)
    if statement is None:
        return None
    org = (await session.execute(scope.select(T_ORGANIZATION))).one()
    contact = (await session.execute(scope.where_id(T_CONTACT, contact_id))).one()
    return StatementData(
        statement=statement,
        organization=_organization(org),
        contact=Party(contact.display_name, _company_line(contact) + address_lines(contact.billing_address)),
        locale=org.locale,
    )
