"""``python -m bench.fanout``: see the package's docstring."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

import httpx

import bench.fanout as package
from bench.fanout import servers, world
from bench.fanout.measure import NotListening, Side, fanout, iso_now, saas
from bench.fanout.verdicts import Figure, fanout_figures, render, saas_checks, saas_figures
from core.ids import to_global_id
from core.settings import Settings
from subscriptions.broker import Broker
from subscriptions.events import DocumentStatusChanged, encode, organization_channel

SEND = "mutation($id: ID!) { sendEstimate(id: $id) { __typename } }"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=package.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", default="1,1000,5000", help="comma-separated subscriber counts")
    parser.add_argument("--rounds", type=int, default=5, help="mutations per instance and subscriber count")
    parser.add_argument("--staff-users", type=int, default=10, help="the subscribers' sessions are spread over them")
    parser.add_argument("--saas-organizations", type=int, default=1000, help="0: no SaaS-shaped case")
    parser.add_argument("--saas-rate", type=float, default=200.0, help="events per second in the SaaS case")
    parser.add_argument("--profile", help="write a cProfile of the subscribers' app process to this file")
    return parser.parse_args()


def portico_side(a: servers.Server, b: servers.Server, org: world.Organization, broker: Broker) -> Side:
    drafts = list(org.drafts)
    probe_pk, contact_pk = org.probe

    async def send(client: httpx.AsyncClient, url: str) -> str:
        draft = drafts.pop()
        headers = {"authorization": f"Bearer {org.staff_tokens[0]}"}
        response = await client.post(
            f"{url}/graphql", json={"query": SEND, "variables": {"id": draft}}, headers=headers
        )
        assert response.json()["data"]["sendEstimate"]["__typename"] == "Estimate", response.text
        return draft

    async def probe(_waiting: list[int]) -> None:
        await publish(org.id, contact_pk, probe_pk)

    async def publish(organization: int, contact: int, pk: int) -> str:
        event = DocumentStatusChanged("ESTIMATE", pk, contact, "SENT", "SENT")
        await broker.publish(organization_channel(organization), encode(event))
        return to_global_id("Estimate", pk)

    return Side("portico", a, b, org.staff_tokens, send, probe, publish)


def reference_side(server: servers.Server, sessions: int, client: httpx.AsyncClient) -> Side:
    ids = itertools.count(1)

    async def send(http: httpx.AsyncClient, url: str) -> str:
        variables = {"id": f"round-{next(ids)}"}
        headers = {"authorization": "Bearer ref:1:0"}
        response = await http.post(f"{url}/graphql", json={"query": SEND, "variables": variables}, headers=headers)
        assert response.json()["data"]["sendEstimate"]["__typename"] == "Estimate", response.text
        return variables["id"]

    async def probe(_waiting: list[int]) -> None:
        await publish(1, 0, 0)

    async def publish(organization: int, contact: int, pk: int) -> str:
        document = to_global_id("Estimate", pk)
        message = {"organization": organization, "contact": contact, "id": document, "sentAt": iso_now()}
        await client.post(f"{server.url}/publish", json=message)
        return document

    return Side("graphql-ws", server, None, ["ref:1:0"] * sessions, send, probe, publish)


@contextmanager
def processes(database_url: str, redis: str, profile: str | None) -> Iterator[tuple[Any, Any, Any]]:
    with ExitStack() as stack:
        a = stack.enter_context(servers.portico(database_url, redis, profile))
        b = stack.enter_context(servers.portico(database_url, redis))
        ref = stack.enter_context(servers.reference())
        yield a, b, ref


async def run(args: argparse.Namespace) -> str:
    counts = [int(part) for part in args.subscribers.split(",")]
    settings = Settings(_env_file=None, environment="development", broadcast_url="memory://")  # type: ignore[call-arg]
    url = await world.fresh_database(settings)
    try:
        org = await world.one_organization(
            url, settings, sessions=max(counts), staff_users=args.staff_users, drafts=2 * args.rounds * len(counts)
        )
        population = []
        if args.saas_organizations:
            population = await world.tenants(
                url, settings, organizations=args.saas_organizations, staff=6, contacts=2, people=2, estimates=2
            )
        database_url = url.set(drivername="postgresql").render_as_string(hide_password=False)
        with servers.redis_server() as redis, processes(database_url, redis, args.profile) as (a, b, ref):
            figures, problems = await measure(args, counts, org, population, redis, (a, b, ref))
    finally:
        await world.drop(url)
    header = [
        f"subscription fan-out, {os.cpu_count()} cores, {args.rounds} rounds per N, BROADCAST_URL=redis:// "
        f"(Portico: 2 app processes, {args.staff_users} staff users); reference: {servers.reference_versions()}",
        "the same Python client for both; medians of rounds; ratio = portico / graphql-ws (lower is better)",
    ]
    return render(header, figures, problems)


async def measure(
    args: argparse.Namespace,
    counts: list[int],
    org: world.Organization,
    population: list[Any],
    redis: str,
    procs: tuple[Any, Any, Any],
) -> tuple[list[Figure], list[str]]:
    a, b, ref = procs
    broker = Broker(redis)
    await broker.connect()
    figures: list[Figure] = []
    problems: list[str] = []
    try:
        async with httpx.AsyncClient(timeout=30) as client:
            ours, theirs = portico_side(a, b, org, broker), reference_side(ref, max(counts), client)
            for n in counts:
                print(f"benchmarking {n:,} subscribers: graphql-ws reference, then Portico", flush=True)
                try:
                    reference_result = await fanout(theirs, n, args.rounds)
                    figures += fanout_figures(await fanout(ours, n, args.rounds), reference_result)
                except NotListening as error:
                    problems.append(f"N={n:,}: {error}")
            if population:
                print(f"SaaS-shaped case: {len(population):,} organizations", flush=True)
                results = {}
                for side in (theirs, ours):
                    try:
                        results[side.name] = await saas_case(side, population, args.saas_rate)
                    except NotListening as error:
                        problems.append(f"{side.name}, SaaS case: {error}")
                        results[side.name] = None
                        continue
                    problems += saas_checks(side.name, results[side.name])
                figures += saas_figures(results["portico"], results["graphql-ws"])
    finally:
        await broker.disconnect()
    return figures, problems


async def saas_case(side: Side, population: list[Any], rate: float) -> Any:
    if side.name == "portico":

        def tokens(tenant: Any) -> list[tuple[str, int | None]]:
            portal = [(t, contact) for contact, ts in tenant.portal_tokens.items() for t in ts]
            return [(t, None) for t in tenant.staff_tokens] + portal
    else:

        def tokens(tenant: Any) -> list[tuple[str, int | None]]:
            portal = [
                (f"ref:{tenant.id}:{contact}", contact) for contact, ts in tenant.portal_tokens.items() for _ in ts
            ]
            return [(f"ref:{tenant.id}:0", None) for _ in tenant.staff_tokens] + portal

    audience = [(tenant, contact) for tenant in population for _, contact in tokens(tenant)]

    async def probe_waiting(waiting: list[int]) -> None:
        """One event per (organization, contact) a waiting socket listens to (a staff socket: any contact's)."""
        wanted = {}
        for i in waiting:
            tenant, contact = audience[i]
            contact = contact if contact is not None else next(iter(tenant.estimates))
            wanted[(tenant.id, contact)] = tenant.estimates[contact][-1]  # (the measured events use the others)
        for (organization, contact), pk in wanted.items():
            await side.publish(organization, contact, pk)

    return await saas(side.server, population, tokens, side.publish, rate, probe_waiting)


def main() -> None:
    args = parse_args()
    print(f"open-file limit: {servers.raise_open_file_limit()}", flush=True)
    print(asyncio.run(run(args)))


if __name__ == "__main__":
    main()
