"""Payments: online (payInvoices, saved methods) and recorded by staff."""

from __future__ import annotations

from resolvers.payments import pay, record

QUERIES: tuple[type, ...] = (pay.Query, record.Query)
MUTATIONS: tuple[type, ...] = (pay.Mutation, record.Mutation)
