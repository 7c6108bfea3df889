"""Estimates: the list, staff's mutations and the client's answer."""

from __future__ import annotations

from resolvers.estimates import answer, queries, staff

QUERIES: tuple[type, ...] = (queries.Query,)
MUTATIONS: tuple[type, ...] = (staff.Mutation, answer.Mutation)
