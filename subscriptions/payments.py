"""Live payments (staff): a payment recorded or received online."""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry

from core.context import Context
from schema.payments.types import Payment
from subscriptions.live import Live, live
from subscriptions.streams import ScopedEvent

PAYMENT_RECEIVED = frozenset({"PaymentReceived"})


async def _payment(event: ScopedEvent) -> Payment | None:
    return await event.loaders.payment.load(int(event.payload["payment_id"]))


@strawberry.type
class Subscription:
    # The field checks the viewer (and its arguments) before returning its stream, so a refusal is the protocol's
    # `error` message for the operation rather than a `next` carrying errors. Payloads are built once per event and
    # scope and executed once per audience (``subscriptions.audiences``); None means the subscriber may not see it.

    @strawberry.subscription(description="Staff: a payment was recorded or received online.")
    async def payment_received(self, info: strawberry.Info) -> AsyncIterator[Payment]:
        ctx: Context = info.context
        ctx.require_staff()
        return live(info, Live("paymentReceived", PAYMENT_RECEIVED, _payment))
