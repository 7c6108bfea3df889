"""Subscription fan-out: ``make bench-fanout`` (``python -m bench.fanout``), Portico beside a graphql-ws reference.

- a private redis-server and a fresh database (``portico_bench_fanout``), migrated;
- two Portico app processes served as ``python app.py serve`` serves (one worker each), sharing
  ``BROADCAST_URL=redis://…``: A holds every subscriber, B only takes mutations (the cross-instance hop);
- the graphql-ws reference: a minimal Node server on the official ``graphql-ws`` + ``ws`` + ``graphql`` (pinned in
  bench/package.json, ``npm ci`` when missing) with an in-memory pub/sub, the same subscription shape;
- for each N, N graphql-transport-ws clients (one Python process, asyncio protocols, the same client for both
  servers) subscribed to ``documentStatusChanged``; per round a ``sendEstimate`` mutation, and each client notes
  when the event arrives; the start is the document's ``sentAt`` (for Portico PostgreSQL's ``now()`` of the
  mutation's transaction, a little before its commit: slightly pessimistic);
- memory per connection: the server's resident set size after the N clients subscribed, less before, over N;
- SaaS-shaped: 10,000 sockets over 1,000 organizations (staff and portal users), one event per sent estimate at
  200 events/s, each to its own organization (staff) and contact (portal users); the start is when the benchmark
  publishes it (Portico: on Redis, as a committed mutation does; the reference: over HTTP to its pub/sub).
Everything runs on one machine: the clients compete with the servers, PostgreSQL and Redis for the cores.
"""
