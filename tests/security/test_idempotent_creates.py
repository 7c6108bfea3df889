"""Create mutations with an idempotencyKey: a retry returns what the first request made, and makes nothing more."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.sql import ColumnElement

from core.database import Database
from core.scope import (
    T_ACTIVITY,
    T_COMMENT,
    T_CONTACT,
    T_CONTACT_PERSON,
    T_ESTIMATE,
    T_INVOICE,
    T_PAYMENT,
    T_PROJECT,
    T_TASK,
    T_TIME_ENTRY,
)
from models import MutationReceipt, OutboxMail
from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory, Row, Tenant

T_RECEIPT: Table = MutationReceipt.__table__  # type: ignore[assignment]
T_OUTBOX: Table = OutboxMail.__table__  # type: ignore[assignment]


def mutation(name: str, input_type: str, *types: str) -> str:
    error = name[0].upper() + name[1:] + "Error"
    fragments = " ".join(f"... on {type_name} {{ id }}" for type_name in types)
    return (
        f"mutation($input: {input_type}!) {{ result: {name}(input: $input) {{ __typename {fragments} "
        f"... on {error} {{ code field }} }} }}"
    )


@dataclass
class World:
    tenant: Tenant
    staff: str
    colleague: str
    portal: str
    invoice: Row
    project: Row
    task: Row


@pytest.fixture
async def world(gql: GraphQLClient, factory: Factory) -> World:
    tenant = await factory.tenant()
    colleague = await factory.staff(tenant.org, role="STAFF")
    invoice = await factory.invoice(tenant.contact_a)
    project = await factory.project(tenant.contact_a)
    task = await factory.task(project)
    return World(
        tenant=tenant,
        staff=await gql.login(tenant.owner.email, PASSWORD),
        colleague=await gql.login(colleague.email, PASSWORD),
        portal=await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug),
        invoice=invoice,
        project=project,
        task=task,
    )


@dataclass
class Case:
    """A create mutation, who runs it, its input, and the rows that count what it made."""

    query: str
    viewer: str  # "staff" or "portal"
    input: Any  # (world) -> dict
    table: Table
    where: Any = None  # (world) -> condition on ``table``, to count only what the mutation made


CASES: dict[str, Case] = {
    "addComment": Case(
        mutation("addComment", "AddCommentInput", "Comment"),
        "portal",
        lambda w: {"targetId": w.invoice.gid, "body": "Looks good"},
        T_COMMENT,
    ),
    "createContact": Case(
        mutation("createContact", "CreateContactInput", "Contact"),
        "staff",
        lambda w: {"displayName": "Initech"},
        T_CONTACT,
        lambda w: T_CONTACT.c.display_name == "Initech",
    ),
    "createContactPerson": Case(
        mutation("createContactPerson", "CreateContactPersonInput", "ContactPerson"),
        "staff",
        lambda w: {"contactId": w.tenant.contact_a.gid, "firstName": "Peter", "email": "peter@example.test"},
        T_CONTACT_PERSON,
        lambda w: T_CONTACT_PERSON.c.first_name == "Peter",
    ),
    "createEstimate": Case(
        mutation("createEstimate", "CreateEstimateInput", "Estimate"),
        "staff",
        lambda w: {"contactId": w.tenant.contact_a.gid, "lineItems": [{"name": "Work", "quantity": "1", "rate": "5"}]},
        T_ESTIMATE,
    ),
    "createInvoice": Case(
        mutation("createInvoice", "CreateInvoiceInput", "Invoice"),
        "staff",
        lambda w: {"contactId": w.tenant.contact_a.gid, "reference": "PO-1"},
        T_INVOICE,
        lambda w: T_INVOICE.c.reference == "PO-1",
    ),
    "createProject": Case(
        mutation("createProject", "CreateProjectInput", "Project"),
        "staff",
        lambda w: {"contactId": w.tenant.contact_a.gid, "name": "Website"},
        T_PROJECT,
        lambda w: T_PROJECT.c.name == "Website",
    ),
    "createTask": Case(
        mutation("createTask", "CreateTaskInput", "Task"),
        "staff",
        lambda w: {"projectId": w.project.gid, "name": "Design", "rate": "80"},
        T_TASK,
        lambda w: T_TASK.c.name == "Design",
    ),
    "createTimeEntry": Case(
        mutation("createTimeEntry", "CreateTimeEntryInput", "TimeEntry"),
        "staff",
        lambda w: {"taskId": w.task.gid, "date": "2026-11-02", "durationMinutes": 90},
        T_TIME_ENTRY,
    ),
    "recordPayment": Case(
        mutation("recordPayment", "RecordPaymentInput", "Payment"),
        "staff",
        lambda w: {
            "contactId": w.tenant.contact_a.gid,
            "amount": "10",
            "mode": "CASH",
            "allocations": [{"invoiceId": w.invoice.gid, "amount": "10"}],
        },
        T_PAYMENT,
    ),
    "submitReview": Case(
        mutation("submitReview", "SubmitReviewInput", "Review"),
        "portal",
        lambda w: {"rating": 5, "text": "Great"},
        T_ACTIVITY,  # a second review replaces the first; its history entry is what a retry would repeat
        lambda w: T_ACTIVITY.c.kind == "review_submitted",
    ),
    "forwardDocument": Case(
        mutation("forwardDocument", "ForwardDocumentInput", "Invoice", "Estimate"),
        "portal",
        lambda w: {"documentId": w.invoice.gid, "email": "accountant@example.test"},
        T_OUTBOX,
        lambda w: T_OUTBOX.c.kind == "forward",
    ),
}


# a change to each input, with the same key
ANOTHER_INPUT: dict[str, dict[str, Any]] = {
    "addComment": {"body": "Changed my mind"},
    "createContact": {"notes": "another"},
    "createContactPerson": {"lastName": "Gibbons"},
    "createEstimate": {"notes": "another"},
    "createInvoice": {"notes": "another"},
    "createProject": {"description": "another"},
    "createTask": {"description": "another"},
    "createTimeEntry": {"notes": "another"},
    "recordPayment": {"notes": "another"},
    "submitReview": {"rating": 4},
    "forwardDocument": {"name": "Someone else"},
}


async def count(db: Database, table: Table, where: ColumnElement[bool] | None = None) -> int:
    stmt = select(func.count()).select_from(table)
    if where is not None:
        stmt = stmt.where(where)
    async with db.session() as session:
        return int(await session.scalar(stmt) or 0)


async def run(gql: GraphQLClient, case: Case, world: World, token: str | None = None, **extra: Any) -> dict[str, Any]:
    token = token or (world.staff if case.viewer == "staff" else world.portal)
    data = await gql(case.query, {"input": {**case.input(world), **extra}}, as_=token)
    return data["result"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", sorted(CASES))
async def test_a_retry_with_the_same_key_returns_the_same_object(
    gql: GraphQLClient, db: Database, world: World, name: str
) -> None:
    # given a create mutation run once with a key
    case = CASES[name]
    where = case.where(world) if case.where else None
    before = await count(db, case.table, where)
    first = await run(gql, case, world, idempotencyKey="key-1")
    assert "id" in first, first
    # when the same request is sent again (its answer was lost)
    again = await run(gql, case, world, idempotencyKey="key-1")
    # then it answers the same object and made nothing more
    assert again == first
    assert await count(db, case.table, where) == before + 1
    assert await count(db, T_RECEIPT) == 1


@pytest.mark.parametrize("name", sorted(CASES))
async def test_the_same_key_with_another_input_is_reused(
    gql: GraphQLClient, db: Database, world: World, name: str
) -> None:
    # given a create mutation run once with a key
    case = CASES[name]
    await run(gql, case, world, idempotencyKey="key-1")
    # when the key comes back with a different input
    result = await run(gql, case, world, idempotencyKey="key-1", **ANOTHER_INPUT[name])
    # then nothing is made and the error names the key
    assert result == {
        "__typename": name[0].upper() + name[1:] + "Error",
        "code": "IDEMPOTENCY_KEY_REUSED",
        "field": "idempotencyKey",
    }
    assert await count(db, T_RECEIPT) == 1


async def test_without_a_key_each_request_creates(gql: GraphQLClient, db: Database, world: World) -> None:
    case = CASES["addComment"]
    first, second = await run(gql, case, world), await run(gql, case, world)
    assert first["id"] != second["id"]
    assert await count(db, T_COMMENT) == 2 and await count(db, T_RECEIPT) == 0


async def test_the_same_add_comment_twice_makes_one_comment(gql: GraphQLClient, db: Database, world: World) -> None:
    # given a portal user's comment sent with a key, and sent again
    case = CASES["addComment"]
    first = await run(gql, case, world, idempotencyKey="9b1f0c3e-comment")
    again = await run(gql, case, world, idempotencyKey="9b1f0c3e-comment")
    # then there is one comment, one history entry, and both answers carry its id
    assert first["id"] == again["id"]
    assert await count(db, T_COMMENT) == 1
    assert await count(db, T_ACTIVITY, T_ACTIVITY.c.kind == "commented") == 1


async def test_ten_parallel_create_invoice_with_one_key_make_one_invoice(
    gql: GraphQLClient, db: Database, world: World
) -> None:
    # given ten identical createInvoice requests with one key, sent at once
    case = CASES["createInvoice"]
    results = await asyncio.gather(*(run(gql, case, world, idempotencyKey="one-invoice") for _ in range(10)))
    # then they all answer the same invoice, and one was made (one number taken)
    assert len({result["id"] for result in results}) == 1 and "id" in results[0]
    assert await count(db, T_INVOICE, T_INVOICE.c.reference == "PO-1") == 1
    assert await count(db, T_ACTIVITY, T_ACTIVITY.c.kind == "created") == 1


async def test_another_person_with_the_same_key_is_independent(gql: GraphQLClient, db: Database, world: World) -> None:
    # given the owner created an invoice with a key
    case = CASES["createInvoice"]
    mine = await run(gql, case, world, idempotencyKey="shared-key")
    # when a colleague uses the same key, with the same and with another input
    theirs = await run(gql, case, world, world.colleague, idempotencyKey="shared-key")
    # then each person has their own invoice
    assert theirs["__typename"] == "Invoice" and theirs["id"] != mine["id"]
    assert await count(db, T_INVOICE, T_INVOICE.c.reference == "PO-1") == 2
    # and a portal person's key is theirs alone too (addComment by staff, then by the client)
    comment = CASES["addComment"]
    by_staff = await run(gql, comment, world, world.staff, idempotencyKey="shared-key")
    by_client = await run(gql, comment, world, world.portal, idempotencyKey="shared-key")
    assert by_staff["id"] != by_client["id"]


async def test_a_key_of_another_operation_is_independent(gql: GraphQLClient, db: Database, world: World) -> None:
    estimate = await run(gql, CASES["createEstimate"], world, idempotencyKey="k")
    invoice = await run(gql, CASES["createInvoice"], world, idempotencyKey="k")
    assert estimate["__typename"] == "Estimate" and invoice["__typename"] == "Invoice"


async def test_a_failed_request_leaves_its_key_unused(gql: GraphQLClient, db: Database, world: World) -> None:
    # given a createProject with a key that fails (the contact does not exist)
    case = CASES["createProject"]
    failed = await run(gql, case, world, idempotencyKey="try-again", contactId=world.invoice.gid)
    assert (failed["code"], failed["field"]) == ("NOT_FOUND", "contactId")
    # when the client corrects the input and sends it with the same key
    fixed = await run(gql, case, world, idempotencyKey="try-again")
    # then it is made: the failed attempt rolled back its receipt with everything else
    assert fixed["__typename"] == "Project"
    assert await count(db, T_RECEIPT) == 1


@pytest.mark.parametrize("key", ["", "x" * 101, "tab\there", "line\nbreak", "bell\u0007"])
async def test_keys_are_1_to_100_printable_characters(gql: GraphQLClient, db: Database, world: World, key: str) -> None:
    result = await run(gql, CASES["createInvoice"], world, idempotencyKey=key)
    assert result == {"__typename": "CreateInvoiceError", "code": "INVALID_INPUT", "field": "idempotencyKey"}
    assert await count(db, T_INVOICE) == 1  # the world's own invoice only


async def test_100_characters_and_unicode_are_fine(gql: GraphQLClient, world: World) -> None:
    for key in ("x" * 100, "clé-été ✓"):
        assert (await run(gql, CASES["createProject"], world, idempotencyKey=key))["__typename"] == "Project"


async def test_a_replay_reads_through_the_viewers_scope(gql: GraphQLClient, world: World) -> None:
    # given a client commented on a project with a key, then the organization hid projects from the portal
    case = CASES["addComment"]
    first = await run(gql, case, world, idempotencyKey="on-project", targetId=world.project.gid)
    assert first["__typename"] == "Comment"
    await gql(
        "mutation { updatePortalSettings(input: {showProjectsAndTimesheets: false}) { __typename } }", as_=world.staff
    )
    portal = await gql.login(world.tenant.person_a.email, PASSWORD, portal=world.tenant.org.portal_slug)
    # when the client retries / then the comment it can no longer see is not handed back
    again = await run(gql, case, world, portal, idempotencyKey="on-project", targetId=world.project.gid)
    assert again == {"__typename": "AddCommentError", "code": "NOT_FOUND", "field": "idempotencyKey"}


async def test_a_forward_retried_after_the_hourly_limit_is_still_answered(
    gql: GraphQLClient, db: Database, world: World
) -> None:
    # given a portal user forwarded an invoice with a key, then reached the hourly limit
    from resolvers.documents.forward import MAX_FORWARDS_PER_HOUR

    case = CASES["forwardDocument"]
    first = await run(gql, case, world, idempotencyKey="forward-1")
    for n in range(MAX_FORWARDS_PER_HOUR - 1):
        await run(gql, case, world, email=f"other{n}@example.test")
    assert (await run(gql, case, world, email="late@example.test"))["code"] == "TOO_MANY_FORWARDS"
    # when the first forward is retried / then it is answered (it happened), and no mail is added
    mails = await count(db, T_OUTBOX)
    assert await run(gql, case, world, idempotencyKey="forward-1") == first
    assert await count(db, T_OUTBOX) == mails
