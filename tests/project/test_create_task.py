"""createTask: a task of an ACTIVE project."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from core.database import Database
from core.ids import from_global_id, to_global_id
from core.scope import T_TASK
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.project.conftest import World
from tests.project.helpers import CREATE_TASK, activities, count, error_code


async def test_creates_a_task_with_the_rate_rounded_to_the_currency(
    gql: GraphQLClient, db: Database, world: World
) -> None:
    # when staff add a billable task with a rate of 95.555
    data = await gql(
        CREATE_TASK,
        {"input": {"projectId": world.project.gid, "name": "Front-end build", "rate": "95.555"}},
        as_=world.staff,
    )
    # then the task has no hours yet, the rate is rounded half-up to cents, and it belongs to the project's contact
    task = data["result"]
    assert task["__typename"] == "Task"
    assert (task["name"], task["billable"], Decimal(task["rate"])) == ("Front-end build", True, Decimal("95.56"))
    assert (task["loggedHours"], task["billedHours"], task["unbilledHours"]) == ("0.00", "0.00", "0.00")
    decoded = from_global_id(task["id"])
    assert decoded is not None and decoded[0] == "Task"
    async with db.session() as session:
        row = (await session.execute(select(T_TASK).where(T_TASK.c.id == decoded[1]))).one()
    assert (row.project_id, row.contact_id, row.organization_id) == (
        world.project.pk,
        world.ours.contact_a.pk,
        world.ours.org.pk,
    )
    assert [a.kind for a in await activities(db, project_id=world.project.pk)] == ["task_created"]


async def test_non_billable_task_without_rate(gql: GraphQLClient, world: World) -> None:
    data = await gql(
        CREATE_TASK,
        {"input": {"projectId": world.project.gid, "name": "Internal QA", "billable": False}},
        as_=world.staff,
    )
    assert (data["result"]["billable"], data["result"]["rate"]) == (False, None)


async def test_invalid_name_or_rate_is_invalid_input(gql: GraphQLClient, db: Database, world: World) -> None:
    cases = [
        ({"name": ""}, "name"),
        ({"name": "T", "rate": "-1"}, "rate"),
        ({"name": "T", "rate": "1000000000000"}, "rate"),
    ]
    for values, field in cases:
        data = await gql(CREATE_TASK, {"input": {"projectId": world.project.gid, **values}}, as_=world.staff)
        assert error_code(data["result"]) == ("INVALID_INPUT", field)
    assert await count(db, T_TASK) == 2


async def test_project_that_is_not_active_is_refused(gql: GraphQLClient, factory: Factory, world: World) -> None:
    for status in ("COMPLETED", "ARCHIVED"):
        project = await factory.project(world.ours.contact_a, status=status)
        data = await gql(CREATE_TASK, {"input": {"projectId": project.gid, "name": "Late task"}}, as_=world.staff)
        assert error_code(data["result"]) == ("PROJECT_NOT_ACTIVE", "projectId")


async def test_unknown_project_is_not_found(gql: GraphQLClient, world: World) -> None:
    for project_id in (to_global_id("Project", 999_999), world.ours.contact_a.gid):
        data = await gql(CREATE_TASK, {"input": {"projectId": project_id, "name": "T"}}, as_=world.staff)
        assert error_code(data["result"]) == ("NOT_FOUND", "projectId")


async def test_project_of_another_organization_is_not_found(gql: GraphQLClient, db: Database, world: World) -> None:
    data = await gql(CREATE_TASK, {"input": {"projectId": world.project.gid, "name": "Sneaky"}}, as_=world.rival)
    assert error_code(data["result"]) == ("NOT_FOUND", "projectId")
    assert await count(db, T_TASK) == 2
