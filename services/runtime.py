"""Process-wide resources, opened in the app's lifespan."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from core.database import Database, make_engine, resolve_database_url
from core.scope import Scope
from core.settings import Settings
from core.sockets import ConnectionRegistry
from services.mail.outbox import OutboxWorker
from subscriptions.broker import Broker

log = logging.getLogger(__name__)


class Runtime:
    """The database, the broadcast connection, the socket registry and the mail worker of one app process."""

    def __init__(self, settings: Settings, *, loaders: Callable[[Database, Scope], Any]) -> None:
        self.settings = settings
        self.make_loaders = loaders  # a request's (or an operation's) DataLoaders: resolvers.loaders.Loaders
        self.broker = Broker(settings.broadcast_url)
        self._db: Database | None = None
        self.outbox: OutboxWorker | None = None
        self.connections = ConnectionRegistry(recheck_seconds=settings.socket_recheck_seconds)

    @property
    def db(self) -> Database:
        if self._db is None:
            raise RuntimeError("the app has not started: run it inside its lifespan")
        return self._db

    async def start(self) -> None:
        url = await resolve_database_url(self.settings)
        self._db = Database(make_engine(url, self.settings), publisher=self.broker)
        await self.broker.connect()
        self.connections.start(self.broker, self._db)
        self.outbox = OutboxWorker(self._db, self.settings)
        if self.settings.mail_worker:
            self.outbox.start()
        log.info("started", extra={"database": url.render_as_string(hide_password=True)})

    async def stop(self) -> None:
        if self.outbox is not None:
            await self.outbox.stop()
        await self.connections.stop()
        await self.broker.disconnect()
        if self._db is not None:
            await self._db.dispose()
            self._db = None
