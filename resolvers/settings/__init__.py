"""The organization and its portal settings."""

from __future__ import annotations

from resolvers.settings import portal

QUERIES: tuple[type, ...] = (portal.Query,)
MUTATIONS: tuple[type, ...] = (portal.Mutation,)
