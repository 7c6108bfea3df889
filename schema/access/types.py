"""Who is signed in: staff users, the viewer union, sessions."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated, Any

import strawberry

from schema.base import Node, from_columns
from schema.contacts.types import ContactPerson
from schema.settings.types import Organization


@strawberry.enum(description="How a client carries its session: chosen when it signs in, and only that one.")
class SessionTransport(Enum):
    COOKIE = strawberry.enum_value(
        "COOKIE",
        description="Browsers: an HttpOnly session cookie, and `csrfToken` to send as `X-CSRF-Token` with each POST.",
    )
    TOKEN = strawberry.enum_value(
        "TOKEN", description="Other clients: `token`, sent as `Authorization: Bearer <token>`; no cookie is set."
    )


TRANSPORT_DESCRIPTION = (
    "COOKIE for a browser, TOKEN for any other client; default: COOKIE when the request carries an `Origin` header "
    "(browsers send one), TOKEN otherwise (and always over a websocket)."
)


@strawberry.type(description="A signed-in session, carried the way the client chose (`transport`).")
class Session:
    token: str | None = strawberry.field(
        description="TOKEN transport: send as `Authorization: Bearer <token>`; shown once. Null with COOKIE."
    )
    csrf_token: str | None = strawberry.field(
        description="COOKIE transport: send as `X-CSRF-Token` with every POST (also in the CSRF cookie, readable "
        "by pages of the API's own site). Null with TOKEN."
    )
    transport: SessionTransport
    expires_at: dt.datetime
    viewer: Viewer


@strawberry.type(description="A signed-in session of the viewer.")
class ActiveSession(Node):
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
