"""Live payments (staff): a payment recorded or received online."""

from __future__ import annotations

from collections.abc import AsyncIterator

import strawberry

from core.context import Context
from schema.payments.types import Payment
from subscriptions.streams import ScopedEvent, scoped_events

PAYMENT_RECEIVED = frozenset({"PaymentReceived"})


@strawberry.type
class Subscription:
    # The field checks the viewer (and its arguments) before returning its stream, so a refusal is the protocol's
    # `error` message for the operation rather than a `next` carrying errors. Payloads are built once per event and
    # scope (``ScopedEvent.payload_for``); None means the subscriber may not see the event.

    @strawberry.subscription(description="Staff: a payment was recorded or received online.")
    async def payment_received(self, info: strawberry.Info) -> AsyncIterator[Payment]:
        ctx: Context = info.context
        ctx.require_staff()

        async def stream() -> AsyncIterator[Payment]:
            async for event in scoped_events(ctx, PAYMENT_RECEIVED):

                async def build(event: ScopedEvent = event) -> Payment | None:
                    return await event.loaders.payment.load(int(event.payload["payment_id"]))

                if (payment := await event.payload_for("paymentReceived", build)) is not None:
                    yield payment

        return stream()
