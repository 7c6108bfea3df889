"""Staff notifications, enqueued by services.history.record_activity in the action's transaction.

Driven here through record_activity itself in a real transaction (the mutations that record these kinds have
their own tests), delivered over real SMTP (aiosmtpd).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.auth import PortalViewer, StaffViewer, Viewer
from core.database import Database
from core.scope import T_ORGANIZATION, T_REVIEW
from core.settings import Settings
from models import OutboxMail
from services.documents.history import record_activity
from tests.factories import Factory, Row, Tenant
from tests.smtp import Inbox, SmtpServer

T_OUTBOX = OutboxMail.__table__


def portal_viewer(tenant: Tenant) -> PortalViewer:
    return PortalViewer(
        session_id=0,
        organization_id=tenant.org.pk,
        contact_id=tenant.contact_a.pk,
        contact_person_id=tenant.person_a.pk,
        show_projects=True,
    )


def staff_viewer(tenant: Tenant) -> StaffViewer:
    return StaffViewer(session_id=0, organization_id=tenant.org.pk, staff_user_id=tenant.owner.pk, role="OWNER")


async def record(db: Database, tenant: Tenant, viewer: Viewer | None, kind: str, **target: Any) -> None:
    async with db.transaction() as session:
        await record_activity(
            session,
            viewer=viewer,
            organization_id=tenant.org.pk,
            contact_id=tenant.contact_a.pk,
            kind=kind,
            description=f"{kind} by a test",
            client_visible=True,
            **target,
        )


async def outbox_count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(T_OUTBOX)) or 0)


def person_name(person: Row) -> str:
    return f"{person.first_name} {person.last_name}"


@pytest.mark.parametrize(
    ("kind", "document", "words"),
    [
        ("viewed", "invoice", ["viewed invoice"]),
        ("accepted", "estimate", ["accepted estimate"]),
        ("declined", "estimate", ["declined estimate", "Too expensive for us."]),
        ("commented", "invoice", ["commented on invoice", "Can we split this in two?"]),
        ("paid", "invoice", ["paid $40.00 on invoice", "Balance due: $60.00"]),
    ],
)
async def test_client_action_on_a_document_mails_the_owner_with_a_link(
    kind: str,
    document: str,
    words: list[str],
    factory: Factory,
    db: Database,
    settings: Settings,
    smtp: SmtpServer,
) -> None:
    # given an organization without a notification list (so: its owner) and a document of contact A
    tenant = await factory.tenant()
    if document == "invoice":
        doc = await factory.invoice(tenant.contact_a, amount_paid=40, status="PARTIALLY_PAID")
    else:
        doc = await factory.estimate(tenant.contact_a, decline_reason="Too expensive for us.")
    details: dict[str, Any] = {}
    if kind == "commented":
        comment = await factory.comment(doc, person=tenant.person_a, body="Can we split this in two?")
        details = {"comment_id": comment.pk}
    if kind == "paid":
        details = {"amount": "40.00"}
    # when the portal user's action is recorded and the transaction commits
    async with db.transaction() as session:
        await record_activity(
            session,
            viewer=portal_viewer(tenant),
            organization_id=tenant.org.pk,
            contact_id=tenant.contact_a.pk,
            kind=kind,
            description="test",
            client_visible=True,
            details=details,
            **{f"{document}_id": doc.pk},
        )
    # then the owner gets one mail, plain text and HTML, naming who did what, with a link to the document
    assert await smtp.deliver(db, settings) == 1
    [message] = smtp.inbox.to(tenant.owner.email)
    text, html = Inbox.text(message), Inbox.html(message)
    assert person_name(tenant.person_a) in message["Subject"] and doc.number in message["Subject"]
    for word in words:
        assert word in text, (word, text)
    link = f"{settings.public_portal_url.rstrip('/')}/{document}s/{doc.gid}"
    assert link in text
    assert f'href="{link}"' in html
    assert tenant.contact_a.display_name in html


async def test_review_mails_the_rating_and_text(
    factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    tenant = await factory.tenant()
    async with db.transaction() as session:
        await session.execute(
            T_REVIEW.insert().values(
                organization_id=tenant.org.pk,
                contact_id=tenant.contact_a.pk,
                contact_person_id=tenant.person_a.pk,
                rating=4,
                text="Quick and friendly.",
            )
        )
        await record_activity(
            session,
            viewer=portal_viewer(tenant),
            organization_id=tenant.org.pk,
            contact_id=tenant.contact_a.pk,
            kind="review_submitted",
            description="review",
            details={"rating": 4},
        )
    assert await smtp.deliver(db, settings) == 1
    [message] = smtp.inbox.to(tenant.owner.email)
    assert "4-star review" in message["Subject"]
    assert "Quick and friendly." in Inbox.text(message)
    assert f"{settings.public_portal_url.rstrip('/')}/reviews" in Inbox.text(message)


async def test_notification_list_replaces_the_owner(
    factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    # given an organization whose notification recipients are two addresses
    tenant = await factory.tenant()
    async with db.transaction() as session:
        await session.execute(
            update(T_ORGANIZATION)
            .where(T_ORGANIZATION.c.id == tenant.org.pk)
            .values(notification_emails=["desk@example.test", "boss@example.test"])
        )
    invoice = await factory.invoice(tenant.contact_a)
    # when a client views an invoice
    await record(db, tenant, portal_viewer(tenant), "viewed", invoice_id=invoice.pk)
    # then each recipient gets it, the owner does not
    assert await smtp.deliver(db, settings) == 2
    assert len(smtp.inbox.to("desk@example.test")) == 1 and len(smtp.inbox.to("boss@example.test")) == 1
    assert smtp.inbox.to(tenant.owner.email) == []


async def test_payment_from_a_webhook_notifies(
    factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    # a payment confirmed by the gateway has no viewer; staff still hear about it
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    async with db.transaction() as session:
        await record_activity(
            session,
            viewer=None,
            organization_id=tenant.org.pk,
            contact_id=tenant.contact_a.pk,
            invoice_id=invoice.pk,
            kind="paid",
            description="paid",
            details={"amount": "100.00"},
        )
    assert await smtp.deliver(db, settings) == 1
    [message] = smtp.inbox.to(tenant.owner.email)
    assert message["Subject"].startswith(f"{tenant.contact_a.display_name} paid $100.00 on invoice")


async def test_no_mail_for_staff_actions_later_views_or_other_kinds(factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    staff = staff_viewer(tenant)
    portal = portal_viewer(tenant)
    # staff recording a payment, staff commenting, a second view, a forward, a sent invoice
    await record(db, tenant, staff, "paid", invoice_id=invoice.pk, details={"amount": "1.00"})
    await record(db, tenant, staff, "commented", invoice_id=invoice.pk)
    await record(db, tenant, portal, "viewed_again", invoice_id=invoice.pk)
    await record(db, tenant, portal, "forwarded", invoice_id=invoice.pk)
    await record(db, tenant, staff, "sent", invoice_id=invoice.pk)
    assert await outbox_count(db) == 0


async def test_rolled_back_action_notifies_nobody(
    factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    # when the action fails after recording its history entry
    with pytest.raises(RuntimeError):
        async with db.transaction() as session:
            await record_activity(
                session,
                viewer=portal_viewer(tenant),
                organization_id=tenant.org.pk,
                contact_id=tenant.contact_a.pk,
                estimate_id=estimate.pk,
                kind="accepted",
                description="accepted",
            )
            raise RuntimeError("the action failed after its history entry")
    # then no mail was queued or delivered
    assert await outbox_count(db) == 0
    assert await smtp.deliver(db, settings) == 0
    assert smtp.inbox.messages == []


async def test_other_organizations_hear_nothing(
    factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    tenant = await factory.tenant()
    rival = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    await record(db, tenant, portal_viewer(tenant), "viewed", invoice_id=invoice.pk)
    assert await smtp.deliver(db, settings) == 1
    assert smtp.inbox.to(rival.owner.email) == []
    assert [m["To"] for m in smtp.inbox.messages] == [tenant.owner.email]


async def test_one_payment_of_several_invoices_sends_staff_one_mail(
    gql: Any, factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    from tests.pay.conftest import pay, pay_input
    from tests.subscriptions.conftest import Sessions

    # given a client with two invoices (100.00 each) and an organization without a notification list
    tenant = await factory.tenant()
    first, second = await factory.invoice(tenant.contact_a), await factory.invoice(tenant.contact_a)
    token = await Sessions(db, settings).portal(tenant.person_a)
    # when the client pays both at once
    paid = await pay(gql, pay_input([first, second], simulated=""), token)
    assert paid["status"] == "SUCCEEDED"
    # then the owner gets one mail for the payment: both invoices, the whole amount, a link to the payment
    assert await smtp.deliver(db, settings) == 1
    [message] = smtp.inbox.to(tenant.owner.email)
    text = Inbox.text(message)
    assert message["Subject"].endswith("paid $200.00 on 2 invoices"), message["Subject"]
    assert f"{first.number}, {second.number}" in text
    assert f"{settings.public_portal_url.rstrip('/')}/payments/{paid['payment']['id']}" in text
