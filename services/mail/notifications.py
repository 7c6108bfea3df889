"""Staff notifications: an email to the organization's notification recipients for each client action.

``services.history.record_activity`` calls ``notify_staff`` for the kinds below, inside the action's own
transaction, so the mail is written to the durable outbox together with the history entry (a rolled-back action
notifies nobody). Recipients: the organization's ``notification_emails``; when that list is empty, its active
owners. Actions of staff themselves notify nobody (they know); a comment notifies only when a client wrote it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from babel.numbers import format_currency
from sqlalchemy import JSON, Insert, ScalarSelect, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.auth import PortalViewer, StaffViewer, Viewer
from core.ids import to_global_id
from core.money import quantize
from core.scope import (
    T_COMMENT,
    T_CONTACT,
    T_CONTACT_PERSON,
    T_ESTIMATE,
    T_INVOICE,
    T_ORGANIZATION,
    T_PROJECT,
    T_REVIEW,
    T_STAFF_USER,
    StaffScope,
)
from core.settings import Settings, get_settings
from models.documents import moves_of
from models.estimates import EstimateMoves
from models.invoices import InvoiceMoves
from services.mail import outbox as mail
from services.mail.outbox import Mail
from services.mail.render import render_mail

log = logging.getLogger(__name__)

# "<who> <verb> <document>": the client actions that are no status change, and every move that notifies
_VERBS = {"viewed": "viewed", "commented": "commented on"} | {
    move.activity: move.notify for move in (*moves_of(EstimateMoves), *moves_of(InvoiceMoves)) if move.notify
}


NOTIFIED_KINDS = frozenset({*_VERBS, "review_submitted"})


def wants_notification(kind: str, viewer: Viewer | None) -> bool:
    """Whether an activity of ``kind`` by ``viewer`` (None: the system, e.g. a payment webhook) mails staff."""
    if kind not in NOTIFIED_KINDS or isinstance(viewer, StaffViewer):
        return False
    if kind == "commented":
        return isinstance(viewer, PortalViewer)
    return True


@dataclass(frozen=True, slots=True)
class _Target:
    kind: str  # "estimate", "invoice", "project", "review", "contact"
    title: str  # "invoice INV-000012", "project Website"
    path: str  # under the public portal URL
    facts: list[tuple[str, str]]
    row: Any = None


def head_column(organization_id: int, contact_id: Any, person_id: int | None) -> ScalarSelect[Any]:
    """What every notification mail of an action says: the organization's name, locale and recipients, the
    contact's and the acting person's names, as one JSON value (``notify_staff``'s ``head``) that the action reads
    with its own first statement; ``contact_id`` is a value or the column of the row that statement reads."""
    scope = StaffScope(organization_id=organization_id)
    owners = (
        scope.select(T_STAFF_USER, func.array_agg(T_STAFF_USER.c.email))
        .where(T_STAFF_USER.c.role == "OWNER", T_STAFF_USER.c.is_active)
        .scalar_subquery()
    )
    contact_name = (
        scope.select(T_CONTACT, T_CONTACT.c.display_name)
        .where(T_CONTACT.c.id == contact_id)
        .correlate_except(T_CONTACT)  # a column's table is the enclosing statement's
    )
    person_name = func.concat_ws(" ", T_CONTACT_PERSON.c.first_name, T_CONTACT_PERSON.c.last_name)
    actor_name = scope.select(T_CONTACT_PERSON, person_name).where(T_CONTACT_PERSON.c.id == person_id)
    head = func.json_build_object(
        "name",
        T_ORGANIZATION.c.name,
        "locale",
        T_ORGANIZATION.c.locale,
        "notification_emails",
        T_ORGANIZATION.c.notification_emails,
        "owners",
        owners,
        "contact_name",
        contact_name.scalar_subquery(),
        "actor_name",
        actor_name.scalar_subquery(),
        type_=JSON,
    )
    return select(head).where(T_ORGANIZATION.c.id == organization_id).scalar_subquery()


@dataclass(frozen=True, slots=True)
class _Head:
    name: str
    locale: str
    notification_emails: list[str]
    owners: list[str] | None
    contact_name: str | None
    actor_name: str | None


def _recipients(head: Any) -> tuple[list[str], str]:
    """The notification list, or else the active owners; and why each recipient gets the mail."""
    listed = [address for address in head.notification_emails if address]
    if listed:
        return listed, f"you are on the notification list of {head.name}"
    owners = [address for address in head.owners or [] if address]
    return owners, f"you own {head.name} on Portico and no notification list is set"


@dataclass(frozen=True, slots=True)
class ClientAction:
    """What a client did, as its history entry says, and what the caller has at hand for the mail: ``head`` (the
    action's first statement read ``head_column``), ``document`` (the estimate's, invoice's or project's row as the
    action left it), ``quote`` (the client's words, a comment's body); none of it is read again."""

    viewer: Viewer | None
    organization_id: int
    kind: str
    contact_id: int | None = None
    estimate_id: int | None = None
    invoice_id: int | None = None
    project_id: int | None = None
    details: dict[str, Any] = field(default_factory=dict)
    head: dict[str, Any] | None = None
    document: Any = None
    quote: str | None = None


async def notify_staff(
    session: AsyncSession, action: ClientAction, *, along: Insert | None = None, settings: Settings | None = None
) -> int:
    """Enqueue the notification mails of one client action in the caller's transaction; returns how many.

    ``along`` (the history entry's INSERT) is written in the same statement as the mails (or alone when there are
    none).
    """
    messages = await _messages(session, action, settings or get_settings())
    kind, organization_id = action.kind, action.organization_id
    if messages:
        await mail.enqueue_all(session, messages, kind=f"notify_{kind}", organization_id=organization_id, along=along)
    elif along is not None:
        await session.execute(along)
    return len(messages)


async def _messages(session: AsyncSession, action: ClientAction, settings: Settings) -> list[Mail]:
    """The mails of one action, one per recipient (none when a template or formatting bug stops them)."""
    viewer, organization_id, kind, head = action.viewer, action.organization_id, action.kind, action.head
    contact_id, estimate_id, invoice_id, project_id = (
        action.contact_id,
        action.estimate_id,
        action.invoice_id,
        action.project_id,
    )
    details, document, quote = action.details, action.document, action.quote
    scope = StaffScope(organization_id=organization_id)
    person_id = viewer.contact_person_id if isinstance(viewer, PortalViewer) else None
    if head is None:
        head = await session.scalar(select(head_column(organization_id, contact_id, person_id)))
    known = _Head(**head)  # type: ignore[arg-type]
    recipients, reason = _recipients(known)
    if not recipients:
        return []
    target = _known_target(known.locale, document, estimate_id, invoice_id, project_id) or await _target(
        session, scope, known.locale, estimate_id, invoice_id, project_id, contact_id, kind
    )
    rating = None
    if quote is None:
        quote, rating = await _quote(session, scope, kind, details, target, person_id)
    try:
        headline, facts = _headline(kind, known, target, details, quote_rating=rating)
        path, label = target.path, f"Open {target.title}" if target.kind != "review" else "See the reviews"
        if kind == "paid" and details.get("payment_invoices") and details.get("payment_id"):
            path, label = f"/payments/{to_global_id('Payment', int(details['payment_id']))}", "Open the payment"
        link = f"{settings.public_portal_url.rstrip('/')}{path}"
        mail = render_mail(
            "notification",
            to=recipients[0],
            subject=headline,
            headline=headline,
            facts=facts,
            quote=quote,
            link=link,
            link_label=label,
            organization_name=known.name,
            recipient_reason=reason,
        )
        messages = [replace(mail, to=address) for address in recipients]  # (the same words for every recipient)
    except Exception:  # a template or formatting bug must not undo the client's action; the log says what
        log.exception("could not build the %s notification for organization %s", kind, organization_id)
        return []
    return messages


def _money(amount: Decimal, currency: str, locale: str) -> str:
    return format_currency(quantize(Decimal(amount), currency), currency, locale=locale or "en_US")


def _document_target(name: str, row: Any, locale: str) -> _Target:
    facts = [("Total", _money(row.total, row.currency, locale))]
    if name == "invoice":
        facts.append(("Balance due", _money(row.balance_due, row.currency, locale)))
    path = f"/{name}s/{to_global_id(name.capitalize(), row.id)}"
    return _Target(kind=name, title=f"{name} {row.number}", path=path, facts=facts, row=row)


def _project_target(row: Any) -> _Target:
    return _Target("project", f"project {row.name}", f"/projects/{to_global_id('Project', row.id)}", [], row)


def _known_target(
    locale: str, row: Any, estimate_id: int | None, invoice_id: int | None, project_id: int | None
) -> _Target | None:
    """The target of the mail from the row the caller passed (the entry's invoice, else estimate, else project)."""
    if row is None:
        return None
    if invoice_id is not None or estimate_id is not None:
        name = "invoice" if invoice_id is not None else "estimate"
        return _document_target(name, row, locale) if row.id == (invoice_id or estimate_id) else None
    if project_id is not None and row.id == project_id:
        return _project_target(row)
    return None


async def _target(
    session: AsyncSession,
    scope: StaffScope,
    locale: str,
    estimate_id: int | None,
    invoice_id: int | None,
    project_id: int | None,
    contact_id: int | None,
    kind: str,
) -> _Target:
    if invoice_id is not None or estimate_id is not None:
        is_invoice = invoice_id is not None
        table = T_INVOICE if is_invoice else T_ESTIMATE
        pk = invoice_id if is_invoice else estimate_id
        row = (await session.execute(scope.where_id(table, pk))).one_or_none()  # type: ignore[arg-type]
        if row is not None:
            return _document_target("invoice" if is_invoice else "estimate", row, locale)
    if project_id is not None:
        row = (await session.execute(scope.where_id(T_PROJECT, project_id))).one_or_none()
        if row is not None:
            return _project_target(row)
    if kind == "review_submitted":
        return _Target("review", "the reviews", "/reviews", [])
    gid = to_global_id("Contact", contact_id) if contact_id else ""
    return _Target("contact", "the contact", f"/contacts/{gid}" if gid else "/", [])


async def _quote(
    session: AsyncSession, scope: StaffScope, kind: str, details: dict[str, Any], target: _Target, person_id: int | None
) -> tuple[str | None, int | None]:
    """The client's own words for the mail (comment, a reason given, review text) and a review's rating."""
    if details.get("reason"):
        return details["reason"], None
    if kind == "declined" and target.row is not None:
        return getattr(target.row, "decline_reason", None), None
    if kind == "commented" and target.row is not None:
        stmt = scope.select(T_COMMENT, T_COMMENT.c.body)
        if details.get("comment_id"):
            stmt = stmt.where(T_COMMENT.c.id == int(details["comment_id"]))
        else:  # the comment just written: the newest by this person on the target
            column = {"invoice": T_COMMENT.c.invoice_id, "estimate": T_COMMENT.c.estimate_id}.get(
                target.kind, T_COMMENT.c.project_id
            )
            stmt = stmt.where(column == target.row.id, T_COMMENT.c.author_contact_person_id == person_id)
        body = await session.scalar(stmt.order_by(T_COMMENT.c.id.desc()).limit(1))
        return body, None
    if kind == "review_submitted" and person_id is not None:
        review = (
            await session.execute(scope.select(T_REVIEW).where(T_REVIEW.c.contact_person_id == person_id))
        ).one_or_none()
        if review is not None:
            return review.text, review.rating
        return details.get("text"), details.get("rating")
    return None, None


def _headline(
    kind: str, head: Any, target: _Target, details: dict[str, Any], *, quote_rating: int | None
) -> tuple[str, list[tuple[str, str]]]:
    who = head.actor_name or head.contact_name or "A client"
    if head.actor_name and head.contact_name:
        who = f"{head.actor_name} ({head.contact_name})"
    facts: list[tuple[str, str]] = []
    if head.contact_name:
        facts.append(("Customer", head.contact_name))
    if kind == "review_submitted":
        stars = quote_rating if quote_rating is not None else details.get("rating")
        headline = f"{who} left a {stars}-star review" if stars else f"{who} left a review"
        if stars:
            facts.append(("Rating", f"{stars} / 5"))
        return headline, facts
    if kind == "paid" and details.get("payment_invoices") and target.row is not None:  # one payment, several
        numbers = details["payment_invoices"]
        amount = _money(Decimal(str(details["payment_total"])), target.row.currency, head.locale)
        facts += [("Invoices", ", ".join(numbers)), ("Amount paid", amount)]
        return f"{who} paid {amount} on {len(numbers)} invoices", facts
    if target.kind in ("estimate", "invoice"):
        facts.append((target.kind.capitalize(), target.row.number))
    elif target.kind == "project":
        facts.append(("Project", target.row.name))
    if kind == "paid" and details.get("amount") and target.row is not None:
        amount = _money(Decimal(str(details["amount"])), target.row.currency, head.locale)
        facts.append(("Amount paid", amount))
        headline = f"{who} paid {amount} on {target.title}"
    else:
        headline = f"{who} {_VERBS.get(kind, kind.replace('_', ' '))} {target.title}"
    if kind == "accepted" and target.row is not None and getattr(target.row, "signature_name", None):
        facts.append(("Signed as", target.row.signature_name))
    return headline, facts + target.facts
