"""Redis pub/sub (``redis://``, ``rediss://``): reconnects and resubscribes after Redis restarts.

Publishing goes through a connection pool (concurrent publishes each take a connection; a stale one after a
restart is replaced and the command retried). Listening uses one dedicated connection per process whose
failures are not retried inside redis-py but surface to the supervisor, which opens a fresh one and
resubscribes every channel.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from redis import asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff, NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from subscriptions.backends.base import ReconnectingBackend

log = logging.getLogger(__name__)

#: a subscription not confirmed within this time counts as a broken connection
ACK_TIMEOUT = 5.0
#: the listening connection pings Redis after this long without traffic, so a dead peer is noticed
HEALTH_CHECK_SECONDS = 5
POLL_SECONDS = 1.0


class RedisBackend(ReconnectingBackend):
    def __init__(self, url: str) -> None:
        super().__init__(url)
        self._publisher: aioredis.Redis | None = None
        self._listener_client: aioredis.Redis | None = None
        self._pubsub: PubSub | None = None
        self._acks: dict[tuple[str, str], asyncio.Future[None]] = {}

    async def _open_publisher(self) -> None:
        self._publisher = aioredis.Redis.from_url(
            self.url,
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.02), 3),
            retry_on_error=[RedisConnectionError, RedisTimeoutError],
            socket_connect_timeout=2,
            socket_timeout=5,
        )

    async def _close_publisher(self) -> None:
        if self._publisher is not None:
            await self._publisher.aclose()
            self._publisher = None

    async def publish(self, channel: str, message: Any) -> None:
        assert self._publisher is not None, "connect() first"
        await self._publisher.publish(channel, message)

    async def _open_listener(self) -> None:
        self._listener_client = aioredis.Redis.from_url(
            self.url,
            retry=Retry(NoBackoff(), 0),  # failures go to the supervisor, which reconnects and resubscribes
            socket_connect_timeout=2,
            health_check_interval=HEALTH_CHECK_SECONDS,
            socket_keepalive=True,
        )
        self._pubsub = self._listener_client.pubsub()
        await self._pubsub.connect()

    async def _close_listener(self) -> None:
        pubsub, client = self._pubsub, self._listener_client
        self._pubsub = self._listener_client = None
        for future in self._acks.values():
            if not future.done():
                future.set_exception(RedisConnectionError("listening connection closed"))
                future.exception()
        self._acks.clear()
        if pubsub is not None:
            await pubsub.aclose()
        if client is not None:
            await client.aclose()

    async def _listen(self, channel: str) -> None:
        await self._confirmed("subscribe", channel, lambda pubsub: pubsub.subscribe(channel))

    async def _unlisten(self, channel: str) -> None:
        await self._confirmed("unsubscribe", channel, lambda pubsub: pubsub.unsubscribe(channel))

    async def _confirmed(self, kind: str, channel: str, command: Any) -> None:
        pubsub = self._pubsub
        if pubsub is None:
            raise RedisConnectionError("not connected")
        ack = self._acks[(kind, channel)] = asyncio.get_running_loop().create_future()
        await command(pubsub)
        if not self._live.is_set():
            # resubscribing while (re)connecting: nobody reads yet, so read the confirmation here
            while not ack.done():
                self._handle(await pubsub.get_message(timeout=ACK_TIMEOUT) or _timed_out(kind, channel))
        await asyncio.wait_for(ack, ACK_TIMEOUT)

    async def _run_listener(self) -> None:
        pubsub = self._pubsub
        while pubsub is not None and pubsub is self._pubsub:
            message = await pubsub.get_message(timeout=POLL_SECONDS)
            if message is not None:
                self._handle(message)
        raise RedisConnectionError("listening connection closed")

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "message":
            self._deliver(_text(message["channel"]), _text(message["data"]))
        elif kind in ("subscribe", "unsubscribe"):
            ack = self._acks.pop((kind, _text(message["channel"])), None)
            if ack is not None and not ack.done():
                ack.set_result(None)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _timed_out(kind: str, channel: str) -> dict[str, Any]:
    raise RedisTimeoutError(f"no {kind} confirmation for {channel} within {ACK_TIMEOUT}s")
