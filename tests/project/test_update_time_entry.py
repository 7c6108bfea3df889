"""updateTimeEntry: correct time, mark it BILLED or UNBILLED."""

from __future__ import annotations

from sqlalchemy import select

from core.database import Database
from core.ids import to_global_id
from core.scope import T_TIME_ENTRY
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.project.conftest import World
from tests.project.helpers import UPDATE_TIME_ENTRY, activities, error_code


async def test_corrects_duration_date_and_notes(
    gql: GraphQLClient, db: Database, factory: Factory, world: World
) -> None:
    entry = await factory.time_entry(world.task, 60)
    data = await gql(
        UPDATE_TIME_ENTRY,
        {"input": {"id": entry.gid, "durationMinutes": 75, "date": "2026-10-30", "notes": "Call with client"}},
        as_=world.staff,
    )
    result = data["result"]
    assert (result["durationMinutes"], result["hours"], result["date"], result["notes"]) == (
        75,
        "1.25",
        "2026-10-30",
        "Call with client",
    )
    history = await activities(db, project_id=world.project.pk)
    assert [(a.kind, a.details["fields"]) for a in history] == [
        ("time_entry_updated", ["duration_minutes", "entry_date", "notes"])
    ]


async def test_staff_mark_time_billed_and_unbilled(
    gql: GraphQLClient, db: Database, factory: Factory, world: World
) -> None:
    # given billed time linked to an invoice
    invoice = await factory.invoice(world.ours.contact_a)
    entry = await factory.time_entry(world.task, 60, status="BILLED", invoice_id=invoice.pk)
    # when staff mark it UNBILLED, then BILLED again
    unbilled = await gql(UPDATE_TIME_ENTRY, {"input": {"id": entry.gid, "status": "UNBILLED"}}, as_=world.staff)
    # then it is unbilled and no longer tied to the invoice
    assert unbilled["result"]["status"] == "UNBILLED"
    async with db.session() as session:
        assert await session.scalar(select(T_TIME_ENTRY.c.invoice_id).where(T_TIME_ENTRY.c.id == entry.pk)) is None
    billed = await gql(UPDATE_TIME_ENTRY, {"input": {"id": entry.gid, "status": "BILLED"}}, as_=world.staff)
    assert billed["result"]["status"] == "BILLED"


async def test_billed_time_cannot_change_until_unbilled(gql: GraphQLClient, factory: Factory, world: World) -> None:
    entry = await factory.time_entry(world.task, 60, status="BILLED")
    for values in ({"durationMinutes": 90}, {"date": "2026-01-01"}, {"billable": False}):
        data = await gql(UPDATE_TIME_ENTRY, {"input": {"id": entry.gid, **values}}, as_=world.staff)
        assert error_code(data["result"]) == ("ALREADY_BILLED", "status")
    # notes may change; and duration may change together with going back to UNBILLED
    notes = await gql(UPDATE_TIME_ENTRY, {"input": {"id": entry.gid, "notes": "typo fixed"}}, as_=world.staff)
    assert notes["result"]["notes"] == "typo fixed"
    reopened = await gql(
        UPDATE_TIME_ENTRY, {"input": {"id": entry.gid, "status": "UNBILLED", "durationMinutes": 90}}, as_=world.staff
    )
    assert (reopened["result"]["status"], reopened["result"]["durationMinutes"]) == ("UNBILLED", 90)


async def test_non_billable_time_cannot_be_billed(gql: GraphQLClient, factory: Factory, world: World) -> None:
    entry = await factory.time_entry(world.task, 60, billable=False)
    data = await gql(UPDATE_TIME_ENTRY, {"input": {"id": entry.gid, "status": "BILLED"}}, as_=world.staff)
    assert error_code(data["result"]) == ("INVALID_INPUT", "status")


async def test_time_of_a_non_billable_task_cannot_become_billable(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    internal = await factory.task(world.project, billable=False)
    entry = await factory.time_entry(internal, 60, billable=False)
    data = await gql(UPDATE_TIME_ENTRY, {"input": {"id": entry.gid, "billable": True}}, as_=world.staff)
    assert error_code(data["result"]) == ("TASK_NOT_BILLABLE", "billable")


async def test_duration_bounds(gql: GraphQLClient, factory: Factory, world: World) -> None:
    entry = await factory.time_entry(world.task, 60)
    for minutes in (0, 1441):
        data = await gql(UPDATE_TIME_ENTRY, {"input": {"id": entry.gid, "durationMinutes": minutes}}, as_=world.staff)
        assert error_code(data["result"]) == ("INVALID_DURATION", "durationMinutes")


async def test_unknown_entry_is_not_found(gql: GraphQLClient, world: World) -> None:
    for entry_id in (to_global_id("TimeEntry", 999_999), world.task.gid):
        data = await gql(UPDATE_TIME_ENTRY, {"input": {"id": entry_id, "notes": "x"}}, as_=world.staff)
        assert error_code(data["result"]) == ("NOT_FOUND", "id")


async def test_entry_of_another_organization_is_not_found(gql: GraphQLClient, factory: Factory, world: World) -> None:
    entry = await factory.time_entry(world.task, 60)
    data = await gql(UPDATE_TIME_ENTRY, {"input": {"id": entry.gid, "status": "BILLED"}}, as_=world.rival)
    assert error_code(data["result"]) == ("NOT_FOUND", "id")
    mine = await gql(UPDATE_TIME_ENTRY, {"input": {"id": entry.gid}}, as_=world.staff)
    assert mine["result"]["status"] == "UNBILLED"
