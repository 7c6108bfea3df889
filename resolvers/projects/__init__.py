"""Projects, tasks and time entries."""

from __future__ import annotations

from resolvers.projects import projects

QUERIES: tuple[type, ...] = (projects.Query,)
MUTATIONS: tuple[type, ...] = (projects.Mutation,)
