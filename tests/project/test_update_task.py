"""updateTask: rename, re-rate, make (non-)billable."""

from __future__ import annotations

from decimal import Decimal

from core.database import Database
from core.ids import to_global_id
from core.scope import T_TIME_ENTRY
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.project.conftest import World
from tests.project.helpers import UPDATE_TASK, activities, count, error_code


async def test_changes_name_and_rate(gql: GraphQLClient, db: Database, world: World) -> None:
    data = await gql(
        UPDATE_TASK, {"input": {"id": world.task.gid, "name": "Visual design", "rate": "120"}}, as_=world.staff
    )
    task = data["result"]
    assert (task["name"], Decimal(task["rate"]), task["billable"]) == ("Visual design", Decimal(120), True)
    history = await activities(db, project_id=world.project.pk)
    assert [(row.kind, row.details["fields"]) for row in history] == [("task_updated", ["name", "rate"])]


async def test_making_a_task_non_billable_takes_its_unbilled_time_along(
    gql: GraphQLClient, db: Database, factory: Factory, world: World
) -> None:
    # given a billable task with billable unbilled time
    await factory.time_entry(world.task, 60)
    await factory.time_entry(world.task, 30)
    # when staff make it non-billable
    data = await gql(UPDATE_TASK, {"input": {"id": world.task.gid, "billable": False}}, as_=world.staff)
    # then the task and all its time are non-billable
    assert data["result"]["billable"] is False
    assert await count(db, T_TIME_ENTRY, T_TIME_ENTRY.c.billable.is_(True)) == 0


async def test_a_task_with_billed_time_stays_billable(
    gql: GraphQLClient, db: Database, factory: Factory, world: World
) -> None:
    await factory.time_entry(world.task, 60, status="BILLED")
    await factory.time_entry(world.task, 30)
    data = await gql(UPDATE_TASK, {"input": {"id": world.task.gid, "billable": False}}, as_=world.staff)
    assert error_code(data["result"]) == ("HAS_BILLED_TIME", "billable")
    assert await count(db, T_TIME_ENTRY, T_TIME_ENTRY.c.billable.is_(True)) == 2


async def test_invalid_values_are_invalid_input(gql: GraphQLClient, world: World) -> None:
    for values, field in (({"name": " "}, "name"), ({"rate": "-0.01"}, "rate"), ({"rate": "1000000000.01"}, "rate")):
        data = await gql(UPDATE_TASK, {"input": {"id": world.task.gid, **values}}, as_=world.staff)
        assert error_code(data["result"]) == ("INVALID_INPUT", field)


async def test_unknown_task_is_not_found(gql: GraphQLClient, world: World) -> None:
    for task_id in (to_global_id("Task", 999_999), world.project.gid):
        data = await gql(UPDATE_TASK, {"input": {"id": task_id, "name": "X"}}, as_=world.staff)
        assert error_code(data["result"]) == ("NOT_FOUND", "id")


async def test_task_of_another_organization_is_not_found(gql: GraphQLClient, world: World) -> None:
    data = await gql(UPDATE_TASK, {"input": {"id": world.task.gid, "name": "Mine now"}}, as_=world.rival)
    assert error_code(data["result"]) == ("NOT_FOUND", "id")
