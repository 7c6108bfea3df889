"""The live dashboard: pushed again whenever something it counts changed, only when it differs."""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry

from core.context import Context
from resolvers.dashboard.queries import build_dashboard
from schema.dashboard.types import Dashboard
from subscriptions.documents import load_document
from subscriptions.live import Live, live
from subscriptions.streams import ScopedEvent

# what a dashboard counts: outstanding invoices and their balances, estimates awaiting approval, the last payment
DASHBOARD_CHANGES = frozenset({"DocumentStatusChanged", "PaymentReceived"})


async def visible_to_subscriber(event: ScopedEvent) -> bool:
    """Whether the event's object is one the subscriber may query (a change to it may change their dashboard)."""
    if event.payload["type"] == "PaymentReceived":
        return await event.loaders.payment.load(int(event.payload["payment_id"])) is not None
    return await load_document(event.loaders, event.payload) is not None


async def _dashboard(event: ScopedEvent) -> Dashboard | None:
    if not await visible_to_subscriber(event):
        return None
    return await build_dashboard(event.loaders.db, event.scope)


@strawberry.type
class Subscription:
    # The field checks the viewer (and its arguments) before returning its stream, so a refusal is the protocol's
    # `error` message for the operation rather than a `next` carrying errors. Payloads are built once per event and
    # scope and executed once per audience (``subscriptions.audiences``); None means the subscriber may not see it.

    @strawberry.subscription(
        description="Portal users and staff: the `dashboard` again whenever something it counts changed (a document "
        "sent, accepted, declined, paid or voided; a payment), pushed only when it differs from the last one."
    )
    async def dashboard_updated(self, info: strawberry.Info) -> AsyncIterator[Dashboard]:
        ctx: Context = info.context
        ctx.require_viewer()
        return live(info, Live("dashboardUpdated", DASHBOARD_CHANGES, _dashboard, distinct=True))
