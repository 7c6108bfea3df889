"""The statuses of projects, time entries and contact persons' portal access: one vocabulary each (the StrEnums in
models/projects.py and models/contacts.py), the same in the migrated check constraints and in the GraphQL enums.
(Estimate and invoice statuses: tests/documents/test_status_vocabulary.py.)"""

from __future__ import annotations

import re
from enum import StrEnum

import pytest
from graphql import GraphQLEnumType, build_schema
from sqlalchemy import text

from core.database import Database
from models.contacts import PortalStatus
from models.projects import ProjectStatus, TimeEntryStatus
from services.schema_file import served_sdl

VOCABULARIES = [
    (ProjectStatus, "project_status"),
    (TimeEntryStatus, "time_entry_status"),
    (PortalStatus, "contact_person_portal_status"),
]


async def constraint_values(db: Database, name: str) -> set[str]:
    """The quoted values of check constraint ``name`` as the migrations made it."""
    async with db.session() as session:
        definition = await session.scalar(
            text("SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = :name"), {"name": name}
        )
    assert definition is not None, f"no constraint {name}"
    return set(re.findall(r"'([A-Z_]+)'", definition))


@pytest.mark.parametrize(("vocabulary", "constraint"), VOCABULARIES)
async def test_the_migrated_check_constraint_allows_exactly_the_statuses(
    db: Database, vocabulary: type[StrEnum], constraint: str
) -> None:
    # given the test database, migrated by the Alembic scripts / when its constraint is read back
    values = await constraint_values(db, constraint)
    # then it allows every member and nothing else
    assert values == {member.value for member in vocabulary}


@pytest.mark.parametrize("vocabulary", [vocabulary for vocabulary, _ in VOCABULARIES])
def test_the_graphql_enum_carries_every_status(vocabulary: type[StrEnum]) -> None:
    # given the served schema / when the enum of the same name is read
    enum = build_schema(served_sdl()).get_type(vocabulary.__name__)
    # then its values are the members
    assert isinstance(enum, GraphQLEnumType)
    assert set(enum.values) == {member.value for member in vocabulary}
