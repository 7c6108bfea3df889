"""createProject: staff start a project for one of their contacts."""

from __future__ import annotations

from core.database import Database
from core.ids import to_global_id
from core.scope import T_PROJECT
from tests.client import GraphQLClient
from tests.factories import PASSWORD
from tests.project.conftest import World
from tests.project.helpers import CREATE_PROJECT, activities, count, error_code


async def test_creates_an_active_project_with_history(gql: GraphQLClient, db: Database, world: World) -> None:
    # given a contact of our organization
    contact = world.ours.contact_b
    # when staff create a project for it
    data = await gql(
        CREATE_PROJECT,
        {"input": {"contactId": contact.gid, "name": "  Brand refresh ", "description": "Logo and colours"}},
        as_=world.staff,
    )
    # then the project exists, ACTIVE, for that contact, and the history says so
    project = data["result"]
    assert project["__typename"] == "Project"
    assert project["name"] == "Brand refresh"
    assert project["description"] == "Logo and colours"
    assert project["status"] == "ACTIVE"
    assert project["contact"]["id"] == contact.gid
    pk = await _pk_of_project(db, "Brand refresh")
    assert project["id"] == to_global_id("Project", pk)
    history = await activities(db, project_id=pk)
    assert [(row.kind, row.contact_id, row.actor_staff_id) for row in history] == [
        ("project_created", contact.pk, world.ours.owner.pk)
    ]


async def test_blank_name_is_invalid_input(gql: GraphQLClient, db: Database, world: World) -> None:
    data = await gql(CREATE_PROJECT, {"input": {"contactId": world.ours.contact_a.gid, "name": "  "}}, as_=world.staff)
    assert error_code(data["result"]) == ("INVALID_INPUT", "name")
    assert await count(db, T_PROJECT) == 2  # only the fixture's


async def test_too_long_description_is_invalid_input(gql: GraphQLClient, world: World) -> None:
    data = await gql(
        CREATE_PROJECT,
        {"input": {"contactId": world.ours.contact_a.gid, "name": "P", "description": "x" * 5001}},
        as_=world.staff,
    )
    assert error_code(data["result"]) == ("INVALID_INPUT", "description")


async def test_unknown_or_malformed_contact_is_not_found(gql: GraphQLClient, world: World) -> None:
    for contact_id in (to_global_id("Contact", 999_999), "not-an-id", world.project.gid):
        data = await gql(CREATE_PROJECT, {"input": {"contactId": contact_id, "name": "P"}}, as_=world.staff)
        assert error_code(data["result"]) == ("NOT_FOUND", "contactId")


async def test_contact_of_another_organization_is_not_found(gql: GraphQLClient, db: Database, world: World) -> None:
    # given the other organization's staff
    # when they create a project for our contact
    data = await gql(CREATE_PROJECT, {"input": {"contactId": world.ours.contact_a.gid, "name": "P"}}, as_=world.rival)
    # then it does not exist for them and nothing was written
    assert error_code(data["result"]) == ("NOT_FOUND", "contactId")
    assert await count(db, T_PROJECT) == 2


async def test_portal_users_and_anonymous_callers_are_refused(gql: GraphQLClient, world: World) -> None:
    portal = await gql.login(world.ours.person_a.email, PASSWORD, portal=world.ours.org.portal_slug)
    variables = {"input": {"contactId": world.ours.contact_a.gid, "name": "P"}}
    assert (await gql.raw(CREATE_PROJECT, variables, as_=portal)).error_codes == ["FORBIDDEN"]
    gql.http.cookies.clear()  # login left session cookies on the client
    assert (await gql.raw(CREATE_PROJECT, variables)).error_codes == ["UNAUTHENTICATED"]


async def _pk_of_project(db: Database, name: str) -> int:
    from sqlalchemy import select

    async with db.session() as session:
        return int(await session.scalar(select(T_PROJECT.c.id).where(T_PROJECT.c.name == name)) or 0)
