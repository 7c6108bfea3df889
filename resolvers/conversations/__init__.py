"""Comment threads and reviews."""

from __future__ import annotations

from resolvers.conversations import comments, reviews

QUERIES: tuple[type, ...] = (reviews.Query,)
MUTATIONS: tuple[type, ...] = (comments.Mutation, reviews.Mutation)
