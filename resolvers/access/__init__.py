"""Signing in and out, sessions, invitations, passwords and two-factor."""

from __future__ import annotations

from resolvers.access import invitations, login, passwords, sessions, two_factor

QUERIES: tuple[type, ...] = (sessions.Query, login.Query)
MUTATIONS: tuple[type, ...] = (
    invitations.Mutation,
    passwords.Mutation,
    sessions.Mutation,
    two_factor.Mutation,
    login.Mutation,
)
