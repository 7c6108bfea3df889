"""Task.loggedHours / billedHours / unbilledHours are derived from the task's time entries."""

from __future__ import annotations

from typing import Any

from core.database import Database
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.portal.conftest import statements
from tests.project.conftest import World
from tests.project.helpers import CREATE_TIME_ENTRY, UPDATE_TIME_ENTRY

PROJECT_TASKS = (
    """query($id: ID!) { project(id: $id) { tasks { name billable loggedHours billedHours unbilledHours } } }"""
)


async def test_hours_follow_the_time_entries(gql: GraphQLClient, factory: Factory, world: World) -> None:
    # given 90 min billed, 45 min unbilled and 20 min non-billable on one task, 30 min on a non-billable task
    await factory.time_entry(world.task, 90, status="BILLED")
    await factory.time_entry(world.task, 45)
    await factory.time_entry(world.task, 20, billable=False)
    internal = await factory.task(world.project, name="Internal QA", billable=False)
    await factory.time_entry(internal, 30, billable=False)
    # when staff read the project's tasks
    data = await gql(PROJECT_TASKS, {"id": world.project.gid}, as_=world.staff)
    # then every minute counts: 155 min logged = 2.58 h, 1.5 h billed, 65 min = 1.08 h unbilled
    assert data["project"]["tasks"] == [
        {"name": "Design", "billable": True, "loggedHours": "2.58", "billedHours": "1.50", "unbilledHours": "1.08"},
        {
            "name": "Internal QA",
            "billable": False,
            "loggedHours": "0.50",
            "billedHours": "0.00",
            "unbilledHours": "0.50",
        },
    ]


async def test_hours_move_as_time_is_logged_and_billed(gql: GraphQLClient, world: World) -> None:
    # given a task with no time
    created = await gql(
        CREATE_TIME_ENTRY,
        {"input": {"taskId": world.task.gid, "date": "2026-11-03", "durationMinutes": 120}},
        as_=world.staff,
    )
    await gql(
        CREATE_TIME_ENTRY,
        {"input": {"taskId": world.task.gid, "date": "2026-11-04", "durationMinutes": 15}},
        as_=world.staff,
    )
    before = await gql(PROJECT_TASKS, {"id": world.project.gid}, as_=world.staff)
    assert _hours(before) == ("2.25", "0.00", "2.25")
    # when the 2-hour entry is billed
    await gql(UPDATE_TIME_ENTRY, {"input": {"id": created["result"]["id"], "status": "BILLED"}}, as_=world.staff)
    # then billed and unbilled hours follow
    after = await gql(PROJECT_TASKS, {"id": world.project.gid}, as_=world.staff)
    assert _hours(after) == ("2.25", "2.00", "0.25")


async def test_project_list_with_tasks_costs_the_same_sql_for_one_or_many_projects(
    gql: GraphQLClient, db: Database, factory: Factory, world: World
) -> None:
    query = "{ projects { edges { node { name tasks { name loggedHours } } } } }"
    await gql(query, as_=world.rival)  # (a session's first request also looks up which kind of viewer it is)
    with statements(db) as one_project:
        await gql(query, as_=world.rival)
    for n in range(4):
        project = await factory.project(world.theirs.contact_b, name=f"Extra {n}")
        task = await factory.task(project)
        await factory.time_entry(task, 30)
    with statements(db) as five_projects:
        data = await gql(query, as_=world.rival)
    assert len(data["projects"]["edges"]) == 5
    assert len(five_projects) == len(one_project)


def _hours(data: dict[str, Any]) -> tuple[str, str, str]:
    (task,) = data["project"]["tasks"]
    return task["loggedHours"], task["billedHours"], task["unbilledHours"]
