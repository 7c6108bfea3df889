"""The dashboard."""

from __future__ import annotations

from resolvers.dashboard import queries

QUERIES: tuple[type, ...] = (queries.Query,)
MUTATIONS: tuple[type, ...] = ()
