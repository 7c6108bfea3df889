"""The demo's estimates and invoices: for every portal contact, at least one document in every status.

The tables below name the status each demo document reads as (``shows``, a member of the models' StrEnums) and
how it got there; a status they leave out that a client's answer leads to gets a document of its own
(``_every_status``), and ``tests/documents/test_status_vocabulary.py`` fails when a status has none. A client's
answer or staff's move is one of the models' ``Move``s: its time column, its history entry and the reason the
client gave (``ESTIMATE_REASONS``) follow from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import update

from core.money import quantize
from core.scope import T_ALLOCATION, T_ESTIMATE, T_INVOICE, T_PAYMENT
from models.documents import Move, moves_of
from models.estimates import ESTIMATE_REASONS, EstimateMoves, EstimateStatus
from models.invoices import InvoiceKind, InvoiceMoves, InvoiceStatus
from services.documents.lines import LineDraft, replace_line_items
from services.documents.numbering import next_number

if TYPE_CHECKING:
    from services.demo.contact import ContactSeeder

GATEWAYS = ["ACH", "CARD"]


CURRENCY = "USD"


TERMS = "Payment due within 30 days of the invoice date. Thank you for your business."


ESTIMATE_TERMS = "Prices are valid until the expiry date. 50% of the total is invoiced on acceptance."


# what the client wrote, for each answer that takes a reason (ESTIMATE_REASONS); others get the general one
REASONS: dict[str, str] = {
    EstimateStatus.DECLINED: "Our budget for this quarter is already committed; let's revisit this next quarter.",
}


GENERAL_REASON = "Could we go through the scope together before we decide?"


INVOICE_NOTES = {
    "retainer": "This retainer is drawn down against next quarter's invoices.",
    "paid": "Thank you for the prompt payment!",
}


@dataclass(frozen=True, slots=True)
class DemoDocument:
    """One demo document; days are offsets from the day of seeding (derived statuses are right on that day)."""

    key: str
    shows: str  # the status it reads as
    lines: tuple[int, ...]  # catalogue entries; () is the retainer line
    ends: int  # the expiry or due date
    sent: int | None  # None: a draft, created yesterday (estimates) or today (invoices)
    viewed: int | None = None
    then: tuple[Move, int] | None = None  # what happened after it was sent, and when
    reference: str | None = None
    kind: str = InvoiceKind.REGULAR


# oldest first, so numbers follow dates; each one's "then" comes from the client, or from staff for VOID
ESTIMATES = (
    DemoDocument("invoiced", EstimateStatus.INVOICED, (0, 1), -40, -70, -68, then=(EstimateMoves.ACCEPT, -65)),
    DemoDocument("expired", EstimateStatus.EXPIRED, (5, 6), -20, -50, -48),
    DemoDocument("accepted", EstimateStatus.ACCEPTED, (2, 4), -10, -40, -36, then=(EstimateMoves.ACCEPT, -35)),
    DemoDocument("declined", EstimateStatus.DECLINED, (3,), 0, -30, -28, then=(EstimateMoves.DECLINE, -27)),
    DemoDocument("sent_viewed", EstimateStatus.SENT, (2, 3), 24, -6, -5, reference="Phase 2"),
    DemoDocument("sent", EstimateStatus.SENT, (4, 6), 28, -2),
    DemoDocument("draft", EstimateStatus.DRAFT, (0, 1, 5), 29, None),
)


INVOICES = (
    DemoDocument("paid", InvoiceStatus.PAID, (0, 1), -30, -60, -58),
    DemoDocument("overdue", InvoiceStatus.OVERDUE, (5,), -15, -45, -40),
    DemoDocument("void", InvoiceStatus.VOID, (6,), 5, -25, then=(InvoiceMoves.VOID, -24)),
    DemoDocument("partial", InvoiceStatus.PARTIALLY_PAID, (2, 3), 10, -20, -19),
    DemoDocument("retainer", InvoiceStatus.SENT, (), 10, -5, kind=InvoiceKind.RETAINER),
    DemoDocument("sent", InvoiceStatus.SENT, (3, 6), 27, -3),
    DemoDocument("draft", InvoiceStatus.DRAFT, (4,), 30, None),
)


def _every_status(rows: tuple[DemoDocument, ...], vocabulary: type[StrEnum], moves: type) -> tuple[DemoDocument, ...]:
    """``rows``, plus one for each status they leave out that a client's answer leads to, so a new answer has its
    demo document without a line here; oldest first, drafts last (a status nothing leads to fails the test)."""
    shown = {row.shows for row in rows}
    answers = {move.to: move for move in moves_of(moves) if move.notify and move.to is not None}
    derived = tuple(
        DemoDocument(str(status).lower(), status, (1, 2), 21, -9, -8, then=(answers[status], -7))
        for status in vocabulary
        if status not in shown and status in answers
    )
    return tuple(sorted(rows + derived, key=lambda row: row.sent if row.sent is not None else 1))


# the status a demo row is written with: a derived one is computed from its dates, the paid ones are SENT until
# the demo's payments (below) pay them
WRITTEN_AS = {
    EstimateStatus.EXPIRED: EstimateStatus.SENT,
    InvoiceStatus.OVERDUE: InvoiceStatus.SENT,
    InvoiceStatus.PAID: InvoiceStatus.SENT,
    InvoiceStatus.PARTIALLY_PAID: InvoiceStatus.SENT,
}


@dataclass(frozen=True, slots=True)
class Seeded:
    pk: int
    total: Decimal


def _retainer_line() -> LineDraft:
    return LineDraft(
        name="Retainer: next quarter's support",
        description="Paid in advance and drawn down against future invoices",
        quantity=Decimal(1),
        rate=Decimal(3000),
    )


def _lines(contact: ContactSeeder, indexes: tuple[int, ...]) -> list[LineDraft]:
    tax_name, tax_percent = contact.spec.tax
    if not indexes:
        return [_retainer_line()]
    lines = []
    for index in indexes:
        name, description, quantity, rate, discount, taxed = contact.spec.catalogue[index]
        lines.append(
            LineDraft(
                name=name,
                description=description,
                quantity=Decimal(quantity),
                rate=Decimal(rate),
                discount_percent=Decimal(discount),
                tax_name=tax_name if taxed else None,
                tax_percent=Decimal(tax_percent) if taxed else Decimal(0),
            )
        )
    return lines


async def _insert(
    contact: ContactSeeder, document: Literal["estimate", "invoice"], spec: DemoDocument, **values: Any
) -> Seeded:
    org = contact.org
    table = T_ESTIMATE if document == "estimate" else T_INVOICE
    number = await next_number(contact.session, organization_id=org.org_id, kind=document)
    pk = await contact.insert(table, number=number, currency=CURRENCY, **values)
    totals = await replace_line_items(
        contact.session,
        organization_id=org.org_id,
        owner=document,
        owner_id=pk,
        lines=_lines(contact, spec.lines),
        currency=CURRENCY,
    )
    money: dict[str, Any] = {"subtotal": totals.subtotal, "tax_total": totals.tax_total, "total": totals.total}
    if document == "invoice":
        money |= {"amount_paid": Decimal(0), "balance_due": totals.total}
    await contact.session.execute(update(table).where(table.c.id == pk).values(**money))
    return Seeded(pk=pk, total=totals.total)


def _dates(contact: ContactSeeder, spec: DemoDocument, end_column: str, draft_day: int) -> dict[str, Any]:
    """Issue, sent and (optionally) viewed-by-the-client columns of a document."""
    at, day = contact.org.at, contact.org.day
    values: dict[str, Any] = {"status": WRITTEN_AS.get(spec.shows, spec.shows), end_column: day(spec.ends)}
    if spec.sent is None:
        return values | {"issue_date": day(draft_day), "created_at": at(draft_day, 9)}
    values |= {"issue_date": day(spec.sent), "sent_at": at(spec.sent, 11), "created_at": at(spec.sent, 9)}
    if spec.viewed is not None:
        values |= {"viewed_at": at(spec.viewed, 15, 20), "viewed_by_id": contact.person_id}
    return values


def _then(contact: ContactSeeder, spec: DemoDocument) -> dict[str, Any]:
    """The columns of what happened after sending: the move's time, the acceptance, the reason given."""
    if spec.then is None:
        return {}
    move, day = spec.then
    values: dict[str, Any] = {move.at: contact.org.at(day)} if move.at else {}
    if move is EstimateMoves.ACCEPT:
        values |= {"accepted_by_id": contact.person_id, "signature_name": contact.person_name}
    if move.to in ESTIMATE_REASONS:
        values[ESTIMATE_REASONS[move.to]] = _reason(move)  # type: ignore[index]
    return values


def _reason(move: Move) -> str | None:
    """What the client wrote with an answer that takes a reason."""
    return REASONS.get(str(move.to), GENERAL_REASON) if move.to in ESTIMATE_REASONS else None


def _history(contact: ContactSeeder, title: str, spec: DemoDocument, values: dict[str, Any], **owner: int) -> None:
    """Created, sent, viewed, and what happened then, as the history tells it."""
    contact.history("created", f"{title} created", at=values["created_at"], **owner)
    if spec.sent is not None:
        contact.history("sent", f"{title} sent", at=values["sent_at"], client=True, **owner)
    if spec.viewed is not None:
        contact.viewed(at=values["viewed_at"], **owner)
    if spec.then is None:
        return
    move, day = spec.then
    what = move.activity.replace("_", " ")
    if move.notify:  # the client's answer
        reason = _reason(move)
        contact.history(
            move.activity,
            f"{what.capitalize()} by {contact.person_name}",
            at=contact.org.at(day),
            by_client=True,
            details={"reason": reason} if reason else None,
            **owner,
        )
    else:
        contact.history(move.activity, f"{title} {what}", at=contact.org.at(day), **owner)


async def seed_invoices(contact: ContactSeeder) -> dict[str, Seeded]:
    """Invoices in every status, oldest first so numbers follow dates; the payments come afterwards."""
    invoices: dict[str, Seeded] = {}
    for spec in _every_status(INVOICES, InvoiceStatus, InvoiceMoves):
        values = _dates(contact, spec, "due_date", 0) | _then(contact, spec)
        invoices[spec.key] = seeded = await _insert(
            contact,
            "invoice",
            spec,
            kind=spec.kind,
            payment_gateways=GATEWAYS if spec.shows != InvoiceStatus.VOID else [],
            terms=TERMS,
            notes=INVOICE_NOTES.get(spec.key),
            **values,
        )
        _history(contact, "Invoice", spec, values, invoice_id=seeded.pk)
    return invoices


async def seed_estimates(contact: ContactSeeder, invoiced_as: Seeded) -> dict[str, Seeded]:
    """Estimates in every status; EXPIRED is a SENT estimate past its expiry date."""
    estimates: dict[str, Seeded] = {}
    for spec in _every_status(ESTIMATES, EstimateStatus, EstimateMoves):
        values = _dates(contact, spec, "expiry_date", -1) | _then(contact, spec)
        if spec.shows == EstimateStatus.INVOICED:
            values["invoice_id"] = invoiced_as.pk
        if spec.reference:
            values["reference"] = spec.reference
        estimates[spec.key] = seeded = await _insert(contact, "estimate", spec, terms=ESTIMATE_TERMS, **values)
        _history(contact, "Estimate", spec, values, estimate_id=seeded.pk)
    return estimates


async def seed_payments(contact: ContactSeeder, invoices: dict[str, Seeded]) -> None:
    """One bank transfer spanning the PAID invoice and part of the PARTIALLY_PAID one, then a cheque."""
    paid, partial = invoices["paid"], invoices["partial"]
    first_part = quantize(partial.total * Decimal("0.4"), CURRENCY)
    second_part = quantize(partial.total * Decimal("0.2"), CURRENCY)
    await _payment(contact, -15, "BANK_TRANSFER", "WIRE-2231-7781", [(paid, paid.total), (partial, first_part)])
    await _payment(contact, -4, "CHECK", "CHK-10452", [(partial, second_part)])
    for invoice, amount_paid in ((paid, paid.total), (partial, first_part + second_part)):
        status = InvoiceStatus.PAID if amount_paid == invoice.total else InvoiceStatus.PARTIALLY_PAID
        await contact.session.execute(
            update(T_INVOICE)
            .where(T_INVOICE.c.id == invoice.pk)
            .values(status=status, amount_paid=amount_paid, balance_due=invoice.total - amount_paid)
        )


async def _payment(
    contact: ContactSeeder, offset: int, mode: str, reference: str, parts: list[tuple[Seeded, Decimal]]
) -> None:
    org = contact.org
    payment_id = await contact.insert(
        T_PAYMENT,
        amount=sum((amount for _, amount in parts), Decimal(0)),
        currency=CURRENCY,
        payment_date=org.day(offset),
        mode=mode,
        status="SUCCEEDED",
        reference=reference,
        recorded_by_id=org.owner_id,
        created_at=org.at(offset, 14),
    )
    for invoice, amount in parts:
        await org.insert(
            T_ALLOCATION, organization_id=org.org_id, payment_id=payment_id, invoice_id=invoice.pk, amount=amount
        )
        contact.history(
            "paid",
            f"Payment of {amount} {CURRENCY} received by {mode.replace('_', ' ').lower()}",
            invoice_id=invoice.pk,
            at=org.at(offset, 14),
            client=True,
            details={"payment_id": payment_id, "amount": str(amount), "mode": mode},
        )
