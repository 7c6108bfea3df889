"""Projects in the portal only while the organization shows them: otherwise a FEATURE_DISABLED error."""

from __future__ import annotations

from tests.client import GraphQLClient
from tests.factories import Factory
from tests.portal.conftest import World

PROJECTS = "{ projects { totalCount edges { node { id } } } }"
PROJECT = """query($id: ID!) { project(id: $id) { id tasks { name loggedHours billedHours unbilledHours }
  timeEntries { edges { node { taskName date durationMinutes status notes } } } comments { totalCount } } }"""
NODE = "query($id: ID!) { node(id: $id) { id } }"
HIDE = "mutation { updatePortalSettings(input: {showProjectsAndTimesheets: false}) { __typename } }"


async def test_portal_users_see_their_projects_with_billable_tasks_and_time(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    project = await factory.project(world.ours.contact_a)
    task = await factory.task(project, name="Build")
    await factory.time_entry(task, 90, status="BILLED", notes="Sprint 1")
    await factory.time_entry(task, 30)
    await factory.project(world.ours.contact_b)
    listed = (await gql(PROJECTS, as_=world.client))["projects"]
    assert [edge["node"]["id"] for edge in listed["edges"]] == [project.gid]
    opened = (await gql(PROJECT, {"id": project.gid}, as_=world.client))["project"]
    assert opened["tasks"] == [{"name": "Build", "loggedHours": "2.00", "billedHours": "1.50", "unbilledHours": "0.50"}]
    assert sorted(e["node"]["status"] for e in opened["timeEntries"]["edges"]) == ["BILLED", "UNBILLED"]


async def test_hidden_projects_give_feature_disabled_to_portal_users_only(
    gql: GraphQLClient, factory: Factory, world: World
) -> None:
    # given a project, and an organization that stops showing projects
    project = await factory.project(world.ours.contact_a)
    await gql(HIDE, as_=world.staff)
    # when the client asks for projects, by list or by id
    for query, variables in ((PROJECTS, None), (PROJECT, {"id": project.gid})):
        result = await gql.raw(query, variables, as_=world.client)
        # then a typed top-level error, and no data (null for the nullable project, none at all for the list)
        assert result.error_codes == ["FEATURE_DISABLED"]
        assert result.data in (None, {"project": None})
    # and node(id) does not reveal it either
    assert (await gql(NODE, {"id": project.gid}, as_=world.client))["node"] is None
    # while staff still see it, and another organization's portal (which shows projects) is unaffected
    assert (await gql(PROJECTS, as_=world.staff))["projects"]["totalCount"] == 1
    assert (await gql(PROJECTS, as_=world.rival_client))["projects"]["totalCount"] == 0
    # and the rival's client cannot reach our project
    assert (await gql(PROJECT, {"id": project.gid}, as_=world.rival_client))["project"] is None
    assert (await gql.raw(PROJECTS)).error_codes == ["UNAUTHENTICATED"]
