"""The portal side: projects, billable tasks and billable time only, and only while the organization shows them."""

from __future__ import annotations

from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory
from tests.project.conftest import World
from tests.project.helpers import CREATE_TIME_ENTRY

PROJECT = """query($id: ID!) { project(id: $id) {
    id name tasks { name loggedHours billedHours unbilledHours }
    timeEntries { totalCount edges { node { durationMinutes billable taskName } } } } }"""
PROJECTS = "{ projects { totalCount edges { node { id } } } }"
SHOW_PROJECTS = """mutation($on: Boolean!) { updatePortalSettings(input: {showProjectsAndTimesheets: $on}) {
    __typename ... on PortalSettings { showProjectsAndTimesheets } } }"""


async def _portal_token(gql: GraphQLClient, world: World) -> str:
    return await gql.login(world.ours.person_a.email, PASSWORD, portal=world.ours.org.portal_slug)


async def test_portal_sees_billable_tasks_and_time_of_its_own_projects(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    # given billable and non-billable time on our contact's project, and a project of another contact
    await factory.time_entry(world.task, 90, status="BILLED")
    await factory.time_entry(world.task, 45)
    await factory.time_entry(world.task, 20, billable=False)
    internal = await factory.task(world.project, name="Internal QA", billable=False)
    await factory.time_entry(internal, 30, billable=False)
    other_contacts = await factory.project(world.ours.contact_b)
    token = await _portal_token(gql, world)
    # when the contact's portal user lists and opens projects
    listed = await gql(PROJECTS, as_=token)
    opened = await gql(PROJECT, {"id": world.project.gid}, as_=token)
    hidden = await gql(PROJECT, {"id": other_contacts.gid}, as_=token)
    # then only their project, its billable task with billable hours (90 + 45 min), and billable entries show
    assert [edge["node"]["id"] for edge in listed["projects"]["edges"]] == [world.project.gid]
    project = opened["project"]
    assert project["tasks"] == [
        {"name": "Design", "loggedHours": "2.25", "billedHours": "1.50", "unbilledHours": "0.75"}
    ]
    assert project["timeEntries"]["totalCount"] == 2
    assert sorted(edge["node"]["durationMinutes"] for edge in project["timeEntries"]["edges"]) == [45, 90]
    assert {edge["node"]["billable"] for edge in project["timeEntries"]["edges"]} == {True}
    assert hidden["project"] is None


async def test_projects_disappear_while_the_organization_hides_them(gql: GraphQLClient, world: World) -> None:
    # given a portal user who sees the project
    token = await _portal_token(gql, world)
    assert (await gql(PROJECTS, as_=token))["projects"]["totalCount"] == 1
    # when the owner turns "show projects and timesheets" off
    turned = await gql(SHOW_PROJECTS, {"on": False}, as_=world.staff)
    assert turned["updatePortalSettings"]["showProjectsAndTimesheets"] is False
    # then the same session gets FEATURE_DISABLED by list and by id, and no project
    for query, variables in ((PROJECTS, None), (PROJECT, {"id": world.project.gid})):
        refused = await gql.raw(query, variables, as_=token)
        assert refused.error_codes == ["FEATURE_DISABLED"]
        assert not any((refused.data or {}).values())
    # and staff still do
    assert (await gql(PROJECTS, as_=world.staff))["projects"]["totalCount"] == 1
    # when it is turned back on, the project is back
    await gql(SHOW_PROJECTS, {"on": True}, as_=world.staff)
    assert (await gql(PROJECT, {"id": world.project.gid}, as_=token))["project"]["id"] == world.project.gid


async def test_time_logged_by_staff_reaches_the_portal_when_billable(gql: GraphQLClient, world: World) -> None:
    token = await _portal_token(gql, world)
    for billable in (True, False):
        await gql(
            CREATE_TIME_ENTRY,
            {"input": {"taskId": world.task.gid, "date": "2026-11-05", "durationMinutes": 60, "billable": billable}},
            as_=world.staff,
        )
    opened = await gql(PROJECT, {"id": world.project.gid}, as_=token)
    assert opened["project"]["timeEntries"]["totalCount"] == 1
    assert opened["project"]["tasks"][0]["loggedHours"] == "1.00"


async def test_portal_users_of_another_organization_see_nothing(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    await factory.time_entry(world.task, 60)
    token = await gql.login(world.theirs.person_a.email, PASSWORD, portal=world.theirs.org.portal_slug)
    assert (await gql(PROJECT, {"id": world.project.gid}, as_=token))["project"] is None
    assert [edge["node"]["id"] for edge in (await gql(PROJECTS, as_=token))["projects"]["edges"]] == [
        world.their_project.gid
    ]
