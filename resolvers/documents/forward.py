"""forwardDocument: a portal user (or staff) mails an estimate or invoice, PDF attached, to another person.

The recipient becomes a contact person of the document's contact (not invited to the portal), so staff see
who else receives the business's documents. When a contact person with that address already exists in the
organization: at the same contact it is reused; at another contact the mail is still sent (the sender chose
the address) but nobody is created or moved between customers, and the sender is told nothing about the
other customer (the answer is the same as for a new address).

Throttled per sender: at most ``MAX_FORWARDS_PER_HOUR`` in any hour, counted from the ``forwarded`` history
entries (PostgreSQL, so every app process shares the count); concurrent forwards of one sender queue on a
row lock of the sender, so the limit holds under concurrency.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import strawberry
from sqlalchemy import func
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core import validation
from core.auth import PortalViewer, Viewer
from core.context import Context
from core.errors import DomainError, not_found
from core.ids import from_global_id
from core.metrics import THROTTLED
from core.scope import T_ACTIVITY, T_CONTACT_PERSON, T_STAFF_USER, Scope
from models.estimates import EstimateStatus
from resolvers.common import record_action, returns_errors
from schema.documents.mutations import ForwardDocumentError, ForwardDocumentInput, ForwardDocumentResult
from services import receipts
from services.documents.pdf import DocumentData, Formats, RenderedPdf, load_document, to_pdf
from services.mail import outbox as mail
from services.mail.render import render_mail

MAX_FORWARDS_PER_HOUR = 10


WINDOW = timedelta(hours=1)


KINDS = {"Estimate": "estimate", "Invoice": "invoice"}


def _actor_filter(viewer: Viewer) -> Any:
    if isinstance(viewer, PortalViewer):
        return T_ACTIVITY.c.actor_contact_person_id == viewer.contact_person_id
    return T_ACTIVITY.c.actor_staff_id == viewer.staff_user_id


async def _check_throttle(session: AsyncSession, scope: Scope, viewer: Viewer) -> None:
    """TOO_MANY_FORWARDS when the sender forwarded ``MAX_FORWARDS_PER_HOUR`` documents in the last hour."""
    since = datetime.now(UTC) - WINDOW
    recent = (
        await session.execute(
            scope.select(T_ACTIVITY, func.count(), func.min(T_ACTIVITY.c.created_at)).where(
                T_ACTIVITY.c.kind == "forwarded", T_ACTIVITY.c.created_at > since, _actor_filter(viewer)
            )
        )
    ).one()
    if recent[0] >= MAX_FORWARDS_PER_HOUR:
        retry_after = max(1, int((recent[1] + WINDOW - datetime.now(UTC)).total_seconds()) + 1)
        THROTTLED.labels("forwards").inc()
        raise DomainError(
            "TOO_MANY_FORWARDS",
            f"At most {MAX_FORWARDS_PER_HOUR} forwards per hour; try again later.",
            retry_after_seconds=retry_after,
        )


async def _lock_sender(session: AsyncSession, scope: Scope, viewer: Viewer) -> Any:
    """The sender's row, locked: one sender's forwards run one at a time, so the hourly count is exact."""
    if isinstance(viewer, PortalViewer):
        stmt = scope.where_id(T_CONTACT_PERSON, viewer.contact_person_id)
    else:
        stmt = scope.where_id(T_STAFF_USER, viewer.staff_user_id)
    return (await session.execute(stmt.with_for_update())).one()


def _sender_name(sender: Any) -> str:
    if hasattr(sender, "first_name"):
        return " ".join(part for part in (sender.first_name, sender.last_name) if part)
    return str(sender.name)


def _split_name(name: str | None, email: str) -> tuple[str, str | None]:
    if not name:
        return email.split("@", 1)[0][:100], None
    first, _, last = name.partition(" ")
    return first[:100], (last.strip()[:100] or None)


async def _recipient_person(
    session: AsyncSession, scope: Scope, contact_id: int, email: str, name: str | None
) -> tuple[int | None, str]:
    """The recipient as a contact person of ``contact_id`` (in the scope's organization): (id, "created" |
    "existing" | "other_contact")."""
    first_name, last_name = _split_name(name, email)
    # the organization-wide unique index on (organization_id, email) decides whether the address is taken
    created = await session.scalar(
        pg_insert(T_CONTACT_PERSON)
        .values(
            organization_id=scope.organization_id,
            contact_id=contact_id,
            first_name=first_name,
            last_name=last_name,
            email=email,
            portal_status="NOT_INVITED",
            is_primary=False,
        )
        .on_conflict_do_nothing(index_elements=[T_CONTACT_PERSON.c.organization_id, T_CONTACT_PERSON.c.email])
        .returning(T_CONTACT_PERSON.c.id)
    )
    if created is not None:
        return int(created), "created"
    existing = await session.scalar(
        scope.select(T_CONTACT_PERSON, T_CONTACT_PERSON.c.id).where(
            T_CONTACT_PERSON.c.email == email, T_CONTACT_PERSON.c.contact_id == contact_id
        )
    )
    return (int(existing), "existing") if existing is not None else (None, "other_contact")


def _facts(data: DocumentData) -> list[tuple[str, str]]:
    fmt = Formats.for_(data.locale, data.currency)
    facts = [(data.title, data.number), ("Issue date", fmt.date(data.issue_date))]
    if data.second_date:
        facts.append((data.second_date_label, fmt.date(data.second_date)))
    facts.append(("Total", fmt.money(data.total)))
    if data.balance_due is not None:
        facts.append(("Balance due", fmt.money(data.balance_due)))
    return facts


def _forward_mail(
    data: DocumentData, rendered: RenderedPdf, sender: Any, email: str, name: str | None, message: str | None
) -> Any:
    """The mail to the recipient: the sender's note, the document's summary, its PDF attached."""
    sender_name = _sender_name(sender)
    title = f"{data.title.lower()} {data.number}"
    return render_mail(
        "forward",
        to=email,
        subject=f"{sender_name} forwarded you {title} from {data.organization.name}",
        attachments=[mail.Attachment(rendered.filename, "application/pdf", rendered.content)],
        recipient_name=name or email,
        sender_name=sender_name,
        sender_email=sender.email,
        organization_name=data.organization.name,
        organization_email=data.organization_email,
        document_title=title,
        document_kind=data.title.lower(),
        message=message,
        facts=_facts(data),
    )


async def _forwardable(ctx: Context, viewer: Viewer, kind: str, pk: int) -> DocumentData:
    """What the PDF shows, once the document is known to be sent and the sender under the hourly limit."""
    async with ctx.db.session() as session:
        data = await load_document(session, ctx.scope, kind, pk)  # type: ignore[arg-type]
        if data is None:
            raise not_found("No estimate or invoice with this id.", "documentId")
        if data.status == EstimateStatus.DRAFT:  # the same word for invoices
            raise DomainError("INVALID_STATE", "Send the document before forwarding it.", "documentId")
        await _check_throttle(session, ctx.scope, viewer)  # before rendering: a throttled sender costs no PDF
    return data


@returns_errors(ForwardDocumentError)
async def forward_document(info: strawberry.Info, input: ForwardDocumentInput) -> ForwardDocumentResult:
    """Mail an estimate or invoice with its PDF attached; the recipient joins the contact's persons."""
    ctx: Context = info.context
    viewer = ctx.require_viewer()
    scope = ctx.scope
    decoded = from_global_id(input.document_id)
    if decoded is None or decoded[0] not in KINDS:
        raise not_found("No estimate or invoice with this id.", "documentId")
    type_name, pk = decoded
    email = validation.email(input.email, "email")
    if email is None:
        raise DomainError("INVALID_EMAIL", "Give the recipient's email address.", "email")
    name = validation.text(input.name, "name", max_length=200)
    message = validation.text(input.message, "message", max_length=2000)
    loader = ctx.loaders.estimate if type_name == "Estimate" else ctx.loaders.invoice

    async with ctx.db.session() as session:
        # a forward that already happened is answered before the checks below (the hourly limit counts it)
        forwarded = await receipts.earlier_result(session, viewer, operation="forwardDocument", input=input)
    if forwarded is not None:
        return await loader.load(forwarded)  # type: ignore[no-any-return]
    data = await _forwardable(ctx, viewer, KINDS[type_name], pk)
    rendered = await to_pdf(data)

    async def deliver(session: AsyncSession) -> int:
        sender = await _lock_sender(session, scope, viewer)
        await _check_throttle(session, scope, viewer)
        person_id, recipient = await _recipient_person(session, scope, data.contact_id, email, name)
        await record_action(
            ctx,
            session,
            kind="forwarded",
            description=f"{_sender_name(sender)} forwarded {data.title.lower()} {data.number} to {email}",
            contact_id=data.contact_id,
            **{f"{KINDS[type_name]}_id": pk},
            client_visible=True,
            details={"email": email, "name": name, "contact_person_id": person_id, "recipient": recipient},
        )
        forward = _forward_mail(data, rendered, sender, email, name, message)
        await mail.enqueue(session, forward, kind="forward", organization_id=viewer.organization_id)
        return pk

    async with ctx.db.transaction() as session:
        await receipts.once(
            session, viewer, operation="forwardDocument", input=input, result_type=type_name, create=deliver
        )
    return await loader.load(pk)  # type: ignore[no-any-return]


@strawberry.type
class Mutation:
    forward_document: ForwardDocumentResult = strawberry.field(resolver=forward_document)
