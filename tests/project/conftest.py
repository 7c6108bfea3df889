"""Two organizations with a project each, and their staff tokens, for the project, task and time entry tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.client import GraphQLClient
from tests.factories import PASSWORD, Factory, Row, Tenant


@dataclass
class World:
    ours: Tenant
    theirs: Tenant
    project: Row  # ours, for contact A
    task: Row  # billable, rate 100
    their_project: Row
    their_task: Row
    staff: str  # token of our owner
    rival: str  # token of the other organization's owner


@pytest.fixture
async def world(gql: GraphQLClient, factory: Factory) -> World:
    ours, theirs = await factory.tenant(), await factory.tenant()
    project = await factory.project(ours.contact_a, name="Website redesign")
    their_project = await factory.project(theirs.contact_a, name="Their project")
    return World(
        ours=ours,
        theirs=theirs,
        project=project,
        task=await factory.task(project, name="Design", rate=100),
        their_project=their_project,
        their_task=await factory.task(their_project, name="Their task"),
        staff=await gql.login(ours.owner.email, PASSWORD),
        rival=await gql.login(theirs.owner.email, PASSWORD),
    )
