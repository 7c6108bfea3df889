"""A history entry names its actor as they were when it was written: `actorName` does not follow later renames,
so it always agrees with the entry's description."""

from __future__ import annotations

from sqlalchemy import text, update
from sqlalchemy.engine import URL, Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from core.database import Database
from core.scope import T_CONTACT_PERSON, T_STAFF_USER
from services.migrations import run_alembic
from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import SEND_ESTIMATE
from tests.portal.conftest import World, result_of
from tests.test_migrations import empty_database as empty_database_fixture
from tests.test_migrations import fetch_column

empty_database = empty_database_fixture  # a database of its own, dropped at the end

ACCEPT = "mutation($id: ID!) { acceptEstimate(id: $id) { __typename } }"

HISTORY = "query($id: ID!) { estimate(id: $id) { activity { kind description actorName } } }"


async def test_an_entry_keeps_the_actors_name_after_a_rename(
    gql: GraphQLClient, factory: Factory, world: World, db: Database
) -> None:
    # given a draft estimate that staff send and the client accepts
    estimate = await factory.estimate(world.ours.contact_a, status="DRAFT")
    person, owner = world.ours.person_a, world.ours.owner
    assert result_of(await gql(SEND_ESTIMATE, {"id": estimate.gid}, as_=world.staff))["status"] == "SENT"
    assert result_of(await gql(ACCEPT, {"id": estimate.gid}, as_=world.client))["__typename"] == "Estimate"
    # when both of them change their names afterwards
    async with db.transaction() as session:
        await session.execute(
            update(T_CONTACT_PERSON).where(T_CONTACT_PERSON.c.id == person.pk).values(last_name="Smith")
        )
        await session.execute(update(T_STAFF_USER).where(T_STAFF_USER.c.id == owner.pk).values(name="Renamed Owner"))
    # then each entry still names them as they were, in its actorName as in its description
    for token in (world.staff, world.client):
        entries = (await gql(HISTORY, {"id": estimate.gid}, as_=token))["estimate"]["activity"]
        accepted = next(entry for entry in entries if entry["kind"] == "accepted")
        assert accepted["actorName"] == f"{person.first_name} {person.last_name}"
        assert accepted["description"] == f"Estimate {estimate.number} accepted by {accepted['actorName']}"
        sent = next(entry for entry in entries if entry["kind"] == "sent")
        assert sent["actorName"] == owner.name


BEFORE_SNAPSHOTS = "3b7e51d0a9c4"  # the revision before activity.actor_name


async def test_the_migration_names_the_actors_of_earlier_entries(empty_database: URL) -> None:
    # given a database before the snapshot column, with entries by a staff user, a portal person and the system
    await run_alembic(empty_database, "upgrade", BEFORE_SNAPSHOTS)
    await execute(
        empty_database,
        "INSERT INTO organization (id, name, portal_slug, base_currency) VALUES (1, 'Org', 'org', 'USD')",
        "INSERT INTO staff_user (id, organization_id, email, name, role, password_hash)"
        " VALUES (1, 1, 'o@x.test', 'Olivia Owner', 'OWNER', 'x')",
        "INSERT INTO contact (id, organization_id, display_name, currency) VALUES (1, 1, 'Acme', 'USD')",
        "INSERT INTO contact_person (id, organization_id, contact_id, first_name, last_name, email)"
        " VALUES (1, 1, 1, 'Alice', 'Archer', 'a@x.test')",
        "INSERT INTO activity (organization_id, contact_id, kind, actor_staff_id) VALUES (1, 1, 'sent', 1)",
        "INSERT INTO activity (organization_id, contact_id, kind, actor_contact_person_id) VALUES (1, 1, 'viewed', 1)",
        "INSERT INTO activity (organization_id, contact_id, kind) VALUES (1, 1, 'paid')",
    )
    # when it is migrated to head
    await run_alembic(empty_database, "upgrade", "head")
    # then each earlier entry keeps the name it was shown with until now; the system's has none
    names = await fetch_column(empty_database, "SELECT actor_name FROM activity ORDER BY id")
    assert names == ["Olivia Owner", "Alice Archer", None]


async def execute(url: URL, *statements: str) -> None:
    def run(connection: Connection) -> None:
        for statement in statements:
            connection.execute(text(statement))
        connection.commit()

    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run)
    finally:
        await engine.dispose()
