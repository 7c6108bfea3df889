"""contacts and contact: staff see their organization's, a portal user their own contact."""

from __future__ import annotations

import strawberry

from core.context import Context
from core.ids import decode_id
from core.scope import T_CONTACT
from resolvers import filtering
from resolvers.pagination import Paging, paginate
from schema.base import After, Before, Connection, First, Last
from schema.contacts.types import Contact, ContactFilter


async def contacts(
    info: strawberry.Info,
    first: First = None,
    after: After = None,
    last: Last = None,
    before: Before = None,
    filter: ContactFilter | None = None,
) -> Connection[Contact]:
    """Contacts in the viewer's scope by name (a portal user sees their own contact only)."""
    ctx: Context = info.context
    scope = ctx.scope
    stmt = scope.select(T_CONTACT)
    if filter:
        stmt = stmt.where(
            *filtering.search(filter.search, T_CONTACT.c.display_name, T_CONTACT.c.company_name, T_CONTACT.c.email)
        )
    return await paginate(
        ctx.db,
        stmt,
        order=[T_CONTACT.c.display_name, T_CONTACT.c.id],
        descending=False,
        paging=Paging(first, after, last, before),
        to_node=lambda row: Contact.from_row(row, staff=scope.is_staff),
    )


async def contact(info: strawberry.Info, id: strawberry.ID) -> Contact | None:
    pk = decode_id(id, "Contact")
    return await info.context.loaders.contact.load(pk) if pk else None


@strawberry.type
class Query:
    contacts: Connection[Contact] = strawberry.field(resolver=contacts)
    contact: Contact | None = strawberry.field(resolver=contact)
