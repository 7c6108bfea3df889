"""Contacts and their people: staff's queries and mutations, and the portal's own details."""

from __future__ import annotations

from resolvers.contacts import mutations, my_account, queries

QUERIES: tuple[type, ...] = (queries.Query,)
MUTATIONS: tuple[type, ...] = (mutations.Mutation, my_account.Mutation)
