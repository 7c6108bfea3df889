"""Who is signed in: staff users, the viewer union, sessions."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry

from schema.base import Node, from_columns
from schema.contacts.types import ContactPerson
from schema.settings.types import Organization


@strawberry.type(description="A signed-in session. The token is shown once; web clients also get a cookie.")
class Session:
    token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: dt.datetime
    viewer: Viewer


@strawberry.type(description="A signed-in session of the viewer.")
class ActiveSession:
    id: strawberry.ID
    created_at: dt.datetime
    last_seen_at: dt.datetime
    expires_at: dt.datetime
    user_agent: str | None
    ip_address: str | None
    current: bool = strawberry.field(description="The session making this request.")


@strawberry.type(description="A member of the organization's staff.")
class StaffUser(Node):
    email: str
    name: str
    role: StaffRole
    created_at: dt.datetime
    organization_id: strawberry.Private[int]

    @staticmethod
    def from_row(row: Any) -> StaffUser:
        return from_columns(StaffUser, row)

    @strawberry.field
    async def organization(self, info: strawberry.Info) -> Organization:
        return await info.context.loaders.organization.load(self.organization_id)


Viewer = Annotated[StaffUser | ContactPerson, strawberry.union("Viewer", description="Who is signed in.")]


@strawberry.enum
class StaffRole(Enum):
    OWNER = "OWNER"
    ADMIN = "ADMIN"
    STAFF = "STAFF"
