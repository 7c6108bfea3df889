"""What estimates and invoices share: recording a view, forwarding, PDF downloads."""

from __future__ import annotations

from resolvers.documents import forward, view

QUERIES: tuple[type, ...] = ()
MUTATIONS: tuple[type, ...] = (view.Mutation, forward.Mutation)
