"""Statements of account."""

from __future__ import annotations

from resolvers.statements import queries

QUERIES: tuple[type, ...] = (queries.Query,)
MUTATIONS: tuple[type, ...] = ()
