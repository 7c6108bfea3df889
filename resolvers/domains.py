"""The schema's operations, domain by domain, in the order the schema lists them.

Each domain is a package of ``resolvers/`` (``resolvers/<domain>/__init__.py`` names its ``QUERIES`` and
``MUTATIONS``: the ``Query``/``Mutation`` parts of its modules) with its types in ``schema/<domain>/``, its rules
in ``services/<domain>/`` and its live events in ``subscriptions/``. A new operation goes into its domain's
module and that module's part; a new domain into this tuple.
"""

from __future__ import annotations

from resolvers import (
    access,
    contacts,
    conversations,
    dashboard,
    documents,
    estimates,
    invoices,
    node,
    payments,
    projects,
    settings,
    statements,
)
from subscriptions import conversations as conversation_events
from subscriptions import dashboard as dashboard_events
from subscriptions import documents as document_events
from subscriptions import payments as payment_events

DOMAINS = (
    access,
    contacts,
    dashboard,
    estimates,
    invoices,
    node,
    documents,
    payments,
    projects,
    conversations,
    settings,
    statements,
)
SUBSCRIPTIONS: tuple[type, ...] = (
    document_events.Subscription,
    conversation_events.Subscription,
    payment_events.Subscription,
    dashboard_events.Subscription,
)


def query_parts() -> tuple[type, ...]:
    return tuple(part for domain in DOMAINS for part in domain.QUERIES)


def mutation_parts() -> tuple[type, ...]:
    return tuple(part for domain in DOMAINS for part in domain.MUTATIONS)
