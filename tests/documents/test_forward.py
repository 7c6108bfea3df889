"""forwardDocument: the mail with the PDF attached, the recipient as a contact person, errors, throttling."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from pypdf import PdfReader
from sqlalchemy import func, select

from core.database import Database
from core.scope import T_ACTIVITY, T_CONTACT_PERSON
from core.settings import Settings
from resolvers.documents.forward import MAX_FORWARDS_PER_HOUR
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory, Row, Tenant
from tests.smtp import Inbox, SmtpServer

FORWARD = """
mutation($input: ForwardDocumentInput!) {
  forwardDocument(input: $input) {
    __typename
    ... on Invoice { id number }
    ... on Estimate { id number }
    ... on ForwardDocumentError { code field retryAfterSeconds }
  }
}"""


async def forward(gql: GraphQLClient, token: str, document: Row | str, email: str, **extra: Any) -> dict[str, Any]:
    document_id = document if isinstance(document, str) else document.gid
    data = await gql(FORWARD, {"input": {"documentId": document_id, "email": email, **extra}}, as_=token)
    return data["forwardDocument"]  # type: ignore[no-any-return]


async def portal(gql: GraphQLClient, tenant: Tenant) -> str:
    return await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)


async def persons_with(db: Database, email: str) -> list[Any]:
    async with db.session() as session:
        return list((await session.execute(select(T_CONTACT_PERSON).where(T_CONTACT_PERSON.c.email == email))).all())


async def test_portal_user_forwards_invoice_with_pdf_and_adds_recipient(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    # given a portal user and their contact's invoice
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    token = await portal(gql, tenant)
    # when they forward it to their accountant
    result = await forward(
        gql, token, invoice, "Accountant@Example.test", name="Ada Lovelace", message="Please pay this one."
    )
    # then the answer is the invoice
    assert result == {"__typename": "Invoice", "id": invoice.gid, "number": invoice.number}
    # and the mail, with the PDF attached, reaches the recipient once delivered
    assert await smtp.deliver(db, settings) == 1
    [message] = smtp.inbox.to("accountant@example.test")
    assert invoice.number in message["Subject"]
    text = Inbox.text(message)
    assert "Hello Ada Lovelace" in text and "Please pay this one." in text and invoice.number in text
    assert "Please pay this one." in Inbox.html(message)
    [attachment] = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == f"{invoice.number}.pdf"
    pdf = PdfReader(BytesIO(attachment.get_content()))
    assert invoice.number in pdf.pages[0].extract_text()
    # and the recipient is now a contact person of the same contact, not invited to the portal
    [person] = await persons_with(db, "accountant@example.test")
    assert (person.contact_id, person.first_name, person.last_name) == (tenant.contact_a.pk, "Ada", "Lovelace")
    assert person.portal_status == "NOT_INVITED" and person.password_hash is None and not person.is_primary
    # and the history says so, visible to the client
    async with db.session() as session:
        entry = (await session.execute(select(T_ACTIVITY).where(T_ACTIVITY.c.kind == "forwarded"))).one()
    assert (entry.invoice_id, entry.actor_contact_person_id, entry.client_visible) == (
        invoice.pk,
        tenant.person_a.pk,
        True,
    )
    assert entry.details["recipient"] == "created"


async def test_existing_person_of_same_contact_is_reused(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    tenant = await factory.tenant()
    colleague = await factory.person(tenant.contact_a, active=False, email="colleague@example.test")
    estimate = await factory.estimate(tenant.contact_a)
    result = await forward(gql, await portal(gql, tenant), estimate, "colleague@example.test")
    assert result["__typename"] == "Estimate"
    persons = await persons_with(db, "colleague@example.test")
    assert [p.id for p in persons] == [colleague.pk]
    assert await smtp.deliver(db, settings) == 1
    assert len(smtp.inbox.to("colleague@example.test")) == 1


async def test_address_of_another_contacts_person_is_mailed_but_not_moved(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    # given the address belongs to a person of contact B (same organization)
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    # when contact A's portal user forwards to it
    result = await forward(gql, await portal(gql, tenant), invoice, tenant.person_b.email)
    # then the mail goes out, the answer is the same as for a new address, and nobody is created or moved
    assert result["__typename"] == "Invoice"
    [person] = await persons_with(db, tenant.person_b.email)
    assert person.contact_id == tenant.contact_b.pk
    assert await smtp.deliver(db, settings) == 1
    assert len(smtp.inbox.to(tenant.person_b.email)) == 1


async def test_invalid_addresses_and_input(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    token = await portal(gql, tenant)
    for bad in ("not-an-email", "", "a@b@c.test", "someone@"):
        result = await forward(gql, token, invoice, bad)
        assert (result["code"], result["field"]) == ("INVALID_EMAIL", "email"), bad
    too_long = await forward(gql, token, invoice, "x@example.test", message="m" * 2001)
    assert (too_long["code"], too_long["field"]) == ("INVALID_INPUT", "message")
    assert await persons_with(db, "x@example.test") == []


async def test_not_found_outside_the_portal_users_scope(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given documents contact A's portal user may not see
    tenant = await factory.tenant()
    rival = await factory.tenant()
    hidden = [
        await factory.invoice(tenant.contact_a, status="DRAFT"),
        await factory.invoice(tenant.contact_b),
        await factory.estimate(rival.contact_a),
    ]
    token = await portal(gql, tenant)
    for document in [*hidden, tenant.contact_a.gid, "garbage"]:
        # when they try to forward it, then it does not exist for them and nothing happens
        result = await forward(gql, token, document, "leak@example.test")
        assert (result["code"], result["field"]) == ("NOT_FOUND", "documentId")
    assert await persons_with(db, "leak@example.test") == []


async def test_staff_forward_and_draft_and_cross_organization(
    gql: GraphQLClient, factory: Factory, db: Database, settings: Settings, smtp: SmtpServer
) -> None:
    tenant = await factory.tenant()
    rival = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_b)
    draft = await factory.estimate(tenant.contact_b, status="DRAFT")
    staff_token = await gql.login(tenant.owner.email, PASSWORD)
    # staff may forward their organization's sent documents
    assert (await forward(gql, staff_token, invoice, "cfo@example.test"))["__typename"] == "Invoice"
    [person] = await persons_with(db, "cfo@example.test")
    assert person.contact_id == tenant.contact_b.pk
    # a draft cannot be forwarded
    assert (await forward(gql, staff_token, draft, "cfo@example.test"))["code"] == "INVALID_STATE"
    # staff of another organization find nothing
    rival_token = await gql.login(rival.owner.email, PASSWORD)
    assert (await forward(gql, rival_token, invoice, "spy@example.test"))["code"] == "NOT_FOUND"
    assert await persons_with(db, "spy@example.test") == []
    assert await smtp.deliver(db, settings) == 1


async def test_forwards_are_throttled_per_person(gql: GraphQLClient, factory: Factory, db: Database) -> None:
    # given a portal user who forwarded the limit within the hour
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    token = await portal(gql, tenant)
    for n in range(MAX_FORWARDS_PER_HOUR):
        assert (await forward(gql, token, invoice, f"r{n}@example.test"))["__typename"] == "Invoice"
    # when they forward once more, then it is refused with a retry delay, and nothing is sent or created
    refused = await forward(gql, token, invoice, "one-more@example.test")
    assert refused["code"] == "TOO_MANY_FORWARDS"
    assert 0 < refused["retryAfterSeconds"] <= 3601
    assert await persons_with(db, "one-more@example.test") == []
    async with db.session() as session:
        forwarded = await session.scalar(
            select(func.count()).select_from(T_ACTIVITY).where(T_ACTIVITY.c.kind == "forwarded")
        )
    assert forwarded == MAX_FORWARDS_PER_HOUR
    # another person of the organization is not affected
    other = await gql.login(tenant.person_b.email, PASSWORD, portal=tenant.org.portal_slug)
    other_invoice = await factory.invoice(tenant.contact_b)
    assert (await forward(gql, other, other_invoice, "fine@example.test"))["__typename"] == "Invoice"


async def test_forward_needs_a_viewer(gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    result = await gql.raw(FORWARD, {"input": {"documentId": invoice.gid, "email": "x@example.test"}})
    assert result.error_codes == ["UNAUTHENTICATED"]
