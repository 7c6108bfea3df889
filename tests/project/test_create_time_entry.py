"""createTimeEntry: log time on a task; project and contact come from the task."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core.database import Database
from core.ids import from_global_id, to_global_id
from core.scope import T_TIME_ENTRY
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.project.conftest import World
from tests.project.helpers import CREATE_TIME_ENTRY, activities, count, error_code

DAY = "2026-11-02"


async def test_logs_unbilled_time_on_the_task(gql: GraphQLClient, db: Database, world: World) -> None:
    # when staff log 1h30 on our billable task
    data = await gql(
        CREATE_TIME_ENTRY,
        {"input": {"taskId": world.task.gid, "date": DAY, "durationMinutes": 90, "notes": "Hero section"}},
        as_=world.staff,
    )
    # then the entry is billable (like its task) and UNBILLED, on the task's project and contact, by the viewer
    entry = data["result"]
    assert entry == {
        "__typename": "TimeEntry",
        "id": entry["id"],
        "date": DAY,
        "durationMinutes": 90,
        "hours": "1.50",
        "notes": "Hero section",
        "billable": True,
        "status": "UNBILLED",
        "taskName": "Design",
    }
    decoded = from_global_id(entry["id"])
    assert decoded is not None and decoded[0] == "TimeEntry"
    async with db.session() as session:
        row = (await session.execute(select(T_TIME_ENTRY).where(T_TIME_ENTRY.c.id == decoded[1]))).one()
    assert (row.project_id, row.contact_id, row.staff_user_id, row.entry_date) == (
        world.project.pk,
        world.ours.contact_a.pk,
        world.ours.owner.pk,
        dt.date(2026, 11, 2),
    )
    history = await activities(db, project_id=world.project.pk)
    assert [(a.kind, a.details["minutes"]) for a in history] == [("time_logged", 90)]


async def test_billable_follows_a_non_billable_task(gql: GraphQLClient, factory: Factory, world: World) -> None:
    internal = await factory.task(world.project, name="Internal QA", billable=False)
    data = await gql(
        CREATE_TIME_ENTRY, {"input": {"taskId": internal.gid, "date": DAY, "durationMinutes": 20}}, as_=world.staff
    )
    assert data["result"]["billable"] is False


async def test_billable_time_on_a_non_billable_task_is_refused(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    internal = await factory.task(world.project, billable=False)
    data = await gql(
        CREATE_TIME_ENTRY,
        {"input": {"taskId": internal.gid, "date": DAY, "durationMinutes": 20, "billable": True}},
        as_=world.staff,
    )
    assert error_code(data["result"]) == ("TASK_NOT_BILLABLE", "billable")


async def test_duration_must_be_positive_and_at_most_a_day(gql: GraphQLClient, db: Database, world: World) -> None:
    for minutes in (0, -15, 24 * 60 + 1):
        data = await gql(
            CREATE_TIME_ENTRY,
            {"input": {"taskId": world.task.gid, "date": DAY, "durationMinutes": minutes}},
            as_=world.staff,
        )
        assert error_code(data["result"]) == ("INVALID_DURATION", "durationMinutes")
    assert await count(db, T_TIME_ENTRY) == 0
    full_day = await gql(
        CREATE_TIME_ENTRY, {"input": {"taskId": world.task.gid, "date": DAY, "durationMinutes": 1440}}, as_=world.staff
    )
    assert full_day["result"]["hours"] == "24.00"


async def test_notes_with_control_characters_are_invalid_input(gql: GraphQLClient, world: World) -> None:
    data = await gql(
        CREATE_TIME_ENTRY,
        {"input": {"taskId": world.task.gid, "date": DAY, "durationMinutes": 5, "notes": "bell\x07"}},
        as_=world.staff,
    )
    assert error_code(data["result"]) == ("INVALID_INPUT", "notes")


async def test_time_on_a_closed_project_is_refused(gql: GraphQLClient, factory: Factory, world: World) -> None:
    done = await factory.project(world.ours.contact_a, status="COMPLETED")
    task = await factory.task(done)
    data = await gql(
        CREATE_TIME_ENTRY, {"input": {"taskId": task.gid, "date": DAY, "durationMinutes": 30}}, as_=world.staff
    )
    assert error_code(data["result"]) == ("PROJECT_NOT_ACTIVE", "taskId")


async def test_unknown_task_is_not_found(gql: GraphQLClient, world: World) -> None:
    for task_id in (to_global_id("Task", 999_999), world.project.gid, "???"):
        data = await gql(
            CREATE_TIME_ENTRY, {"input": {"taskId": task_id, "date": DAY, "durationMinutes": 30}}, as_=world.staff
        )
        assert error_code(data["result"]) == ("NOT_FOUND", "taskId")


async def test_task_of_another_organization_is_not_found(gql: GraphQLClient, db: Database, world: World) -> None:
    data = await gql(
        CREATE_TIME_ENTRY, {"input": {"taskId": world.task.gid, "date": DAY, "durationMinutes": 30}}, as_=world.rival
    )
    assert error_code(data["result"]) == ("NOT_FOUND", "taskId")
    assert await count(db, T_TIME_ENTRY) == 0
