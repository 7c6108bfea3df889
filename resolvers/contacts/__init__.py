"""Contacts and their people: staff's queries and mutations, and the portal's own details."""

from __future__ import annotations

from resolvers.contacts import contacts, my_account, persons, queries

QUERIES: tuple[type, ...] = (queries.Query,)
MUTATIONS: tuple[type, ...] = (contacts.Mutation, persons.Mutation, my_account.Mutation)
