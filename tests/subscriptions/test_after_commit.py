"""Events are published once their transaction commits: never before, never after a rollback."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.database import Database
from subscriptions.broker import Broker
from subscriptions.events import emit
from tests.factories import Factory
from tests.subscriptions.conftest import Emitter, Sessions
from tests.subscriptions.test_fields import STATUS, status_event, subscribed
from tests.subscriptions.wsclient import in_process


class ActionFailed(Exception):
    pass


async def test_a_rolled_back_action_publishes_nothing(
    app: Any, db: Database, factory: Factory, sessions: Sessions, broker: Broker, emitted: Emitter
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    async with in_process(app, await sessions.staff(tenant.owner)) as ws:
        await subscribed(ws, broker, tenant.org.pk, STATUS)
        with pytest.raises(ActionFailed):
            async with db.transaction() as session:
                emit(session, broker, tenant.org.pk, status_event(estimate, "SENT", "ACCEPTED"))
                raise ActionFailed  # e.g. the history entry could not be written
        # a committed event afterwards is the first (and only) one to arrive
        await emitted(tenant.org.pk, status_event(estimate, "SENT", "DECLINED"))
        assert (await ws.next_data())["documentStatusChanged"]["status"] == "DECLINED"
        await ws.silent()


async def test_nothing_is_published_before_the_commit(
    app: Any, db: Database, factory: Factory, sessions: Sessions, broker: Broker
) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    async with in_process(app, await sessions.staff(tenant.owner)) as ws:
        await subscribed(ws, broker, tenant.org.pk, STATUS)
        async with db.transaction() as session:
            emit(session, broker, tenant.org.pk, status_event(estimate, "SENT", "ACCEPTED"))
            await asyncio.sleep(0.2)
            await ws.silent(0.1)
        assert (await ws.next_data())["documentStatusChanged"]["status"] == "ACCEPTED"
