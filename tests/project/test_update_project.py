"""updateProject: rename, describe, complete or archive a project."""

from __future__ import annotations

from core.database import Database
from core.ids import to_global_id
from tests.client import GraphQLClient
from tests.project.conftest import World
from tests.project.helpers import UPDATE_PROJECT, activities, error_code


async def test_changes_only_the_given_fields_and_records_the_status_change(
    gql: GraphQLClient, db: Database, world: World
) -> None:
    # given an ACTIVE project
    # when staff rename and complete it
    data = await gql(
        UPDATE_PROJECT,
        {"input": {"id": world.project.gid, "name": "Website v2", "status": "COMPLETED"}},
        as_=world.staff,
    )
    # then both change, the rest stays, and the history has the status change
    project = data["result"]
    assert (project["name"], project["status"], project["description"]) == ("Website v2", "COMPLETED", None)
    history = await activities(db, project_id=world.project.pk)
    assert [row.kind for row in history] == ["project_updated"]
    details = history[0].details
    assert details["fields"] == ["name", "status"]
    assert (details["previous_status"], details["status"]) == ("ACTIVE", "COMPLETED")


async def test_an_empty_description_clears_it(gql: GraphQLClient, world: World) -> None:
    await gql(UPDATE_PROJECT, {"input": {"id": world.project.gid, "description": "Notes"}}, as_=world.staff)
    data = await gql(UPDATE_PROJECT, {"input": {"id": world.project.gid, "description": ""}}, as_=world.staff)
    assert data["result"]["description"] is None


async def test_nothing_changed_writes_no_history(gql: GraphQLClient, db: Database, world: World) -> None:
    data = await gql(UPDATE_PROJECT, {"input": {"id": world.project.gid, "name": world.project.name}}, as_=world.staff)
    assert data["result"]["name"] == world.project.name
    assert await activities(db, project_id=world.project.pk) == []


async def test_blank_name_is_invalid_input(gql: GraphQLClient, world: World) -> None:
    data = await gql(UPDATE_PROJECT, {"input": {"id": world.project.gid, "name": ""}}, as_=world.staff)
    assert error_code(data["result"]) == ("INVALID_INPUT", "name")


async def test_unknown_project_is_not_found(gql: GraphQLClient, world: World) -> None:
    for project_id in (to_global_id("Project", 999_999), world.task.gid, "garbage"):
        data = await gql(UPDATE_PROJECT, {"input": {"id": project_id, "name": "X"}}, as_=world.staff)
        assert error_code(data["result"]) == ("NOT_FOUND", "id")


async def test_project_of_another_organization_is_not_found(gql: GraphQLClient, world: World) -> None:
    # when the other organization's staff archive our project
    data = await gql(UPDATE_PROJECT, {"input": {"id": world.project.gid, "status": "ARCHIVED"}}, as_=world.rival)
    # then it does not exist for them, and it is unchanged for us
    assert error_code(data["result"]) == ("NOT_FOUND", "id")
    mine = await gql("query($id: ID!) { project(id: $id) { status } }", {"id": world.project.gid}, as_=world.staff)
    assert mine["project"]["status"] == "ACTIVE"
