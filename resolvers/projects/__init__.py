"""Projects, tasks and time entries: the queries, then one module per kind of thing staff change."""

from __future__ import annotations

from resolvers.projects import projects, queries, tasks, time_entries

QUERIES: tuple[type, ...] = (queries.Query,)
MUTATIONS: tuple[type, ...] = (projects.Mutation, tasks.Mutation, time_entries.Mutation)
