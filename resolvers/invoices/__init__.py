"""Invoices: the list and staff's mutations."""

from __future__ import annotations

from resolvers.invoices import queries, staff

QUERIES: tuple[type, ...] = (queries.Query,)
MUTATIONS: tuple[type, ...] = (staff.Mutation,)
