"""Events: what happened, as ids only, published after the transaction that caused it commits.

Every event goes to its organization's channel; each subscriber re-reads the rows through its own scope
before yielding anything, so an event never carries data a subscriber could not query.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from core.database import after_commit
from core.metrics import EVENTS_PUBLISHED
from subscriptions.broker import Broker

DocumentType = Literal["ESTIMATE", "INVOICE"]


def organization_channel(organization_id: int) -> str:
    return f"portico.org.{organization_id}"


@dataclass(frozen=True, slots=True)
class DocumentViewed:
    document_type: DocumentType
    document_id: int
    contact_id: int
    contact_person_id: int
    viewed_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CommentAdded:
    comment_id: int
    contact_id: int
    shown: bool = False  # a staff comment just made visible in the portal: news to the portal, not to staff


@dataclass(frozen=True, slots=True)
class DocumentStatusChanged:
    document_type: DocumentType
    document_id: int
    contact_id: int
    previous_status: str | None
    status: str
    actor_staff_id: int | None = None
    actor_contact_person_id: int | None = None


@dataclass(frozen=True, slots=True)
class PaymentReceived:
    payment_id: int
    contact_id: int


Event = DocumentViewed | CommentAdded | DocumentStatusChanged | PaymentReceived


def encode(event: Event) -> dict[str, Any]:
    payload = {
        key: value.isoformat() if isinstance(value, dt.datetime) else value for key, value in asdict(event).items()
    }
    return {"type": type(event).__name__, **payload}


def emit(session: AsyncSession, broker: Broker, organization_id: int, event: Event) -> None:
    """Publish ``event`` once the transaction of ``session`` commits; a rollback publishes nothing.

    Anything a dashboard counts changes with these events, so dashboardUpdated subscribers listen to them too.
    """
    message = encode(event)

    async def publish() -> None:
        await broker.publish(organization_channel(organization_id), message)
        EVENTS_PUBLISHED.inc()

    after_commit(session, publish)
