"""Broadcast backends: ``memory://`` (default), ``redis://`` and ``postgres://`` (LISTEN/NOTIFY).

Each keeps broadcaster's ``Broadcast`` API (``create_broadcast`` returns a ``Broadcast`` subclass built with
``backend=…``) and adds what production needs: reconnecting and resubscribing after the server restarts, safe
concurrent publishing, a bounded queue per subscriber (a consumer that falls behind is dropped with
``SlowConsumer``), and one upstream subscription per channel per process, fanned out locally.
"""

from __future__ import annotations

from urllib.parse import urlparse

from broadcaster._backends.base import BroadcastBackend

from subscriptions.backends.fanout import DEFAULT_QUEUE_SIZE, FanoutBroadcast, SharedEvent, SlowConsumer

__all__ = ["DEFAULT_QUEUE_SIZE", "FanoutBroadcast", "SharedEvent", "SlowConsumer", "create_backend", "create_broadcast"]


def create_backend(url: str) -> BroadcastBackend:
    """The backend for ``BROADCAST_URL``."""
    scheme = urlparse(url).scheme.split("+")[0]
    if scheme == "memory":
        from subscriptions.backends.memory import MemoryBackend

        return MemoryBackend(url)
    if scheme in ("redis", "rediss"):
        from subscriptions.backends.redis import RedisBackend

        return RedisBackend(url)
    if scheme in ("postgres", "postgresql"):
        from subscriptions.backends.postgres import PostgresBackend

        return PostgresBackend(url)
    raise ValueError(f"unsupported BROADCAST_URL scheme {scheme!r}: use memory://, redis:// or postgres://")


def create_broadcast(url: str, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> FanoutBroadcast:
    return FanoutBroadcast(backend=create_backend(url), queue_size=queue_size)
