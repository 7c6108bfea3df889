"""What an operation builds is freed by reference counting as soon as it is done, not left to the cyclic collector:
with thousands of open sockets a full collection walks every one of their objects (seconds, with nothing to free),
and cyclic garbage made by every request and event is what brought those collections on."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from contextlib import contextmanager

from graphql import parse

from core.database import Database
from core.execution import FastLeafExecutor
from core.scope import PortalScope
from core.settings import Settings
from resolvers.loaders import Loaders
from schema.schema import build_schema
from tests.factories import Factory


@contextmanager
def collector_off() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def test_an_executor_is_freed_when_its_operation_is_done(settings: Settings) -> None:
    # given an executor of a query
    schema = build_schema(settings)._schema
    with collector_off():
        executor = FastLeafExecutor.build(schema, parse("{ __typename }"))
        assert isinstance(executor, FastLeafExecutor)
        # when its operation ran and its result is all that is kept
        result = executor.execute_operation()
        gone = weakref.ref(executor)
        del executor
        # then nothing holds the executor any more (without the collector)
        assert result.data == {"__typename": "Query"}  # type: ignore[union-attr]
        assert gone() is None


async def test_a_requests_loaders_are_freed_when_it_is_done(factory: Factory, db: Database) -> None:
    # given a portal person's loaders that have read an invoice of theirs
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    scope = PortalScope(tenant.org.pk, contact_id=tenant.contact_a.pk, contact_person_id=tenant.person_a.pk)
    with collector_off():
        loaders = Loaders(db, scope)
        assert (await loaders.invoice.load(invoice.pk)) is not None
        assert await loaders.line_items(await loaders.invoice.load(invoice.pk)).load(invoice.pk) is not None
        # when the request lets go of them, then they are gone (without the collector)
        gone = weakref.ref(loaders)
        del loaders
        assert gone() is None
