"""The client side of ops/container-smoke.sh: talks to a running Portico over HTTP and graphql-transport-ws.

Four commands, all standard library except ``check`` (which needs ``websockets``, a dependency of the image):
- ``manifest BASE OUT``: OUT = the persisted-documents manifest BASE plus the smoke's subscription document (what a
  team does with its own generated manifest before mounting it as PERSISTED_MANIFEST);
- ``wait URL``: poll URL/readyz until it answers 200 (or time out);
- ``check URL MANIFEST``: the production checks, every operation sent by ``documentId`` only: a plain document is
  refused (allow-list mode), staff and portal logins, a staff ``commentAdded`` subscription that receives the
  comment a portal user adds;
- ``explore URL``: the explore combination (GRAPHIQL and INTROSPECTION on, PERSISTED_ONLY off): GraphiQL's page and
  assets are served and its introspection query answers (with the allow-list on it would not: "Error fetching schema").
Exits non-zero, saying what failed, on the first failure.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import re
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

README_LOGIN = (
    'mutation { login(input: {email: "owner@demo.portico.test", password: "portico-demo-owner"}) { ... on Session '
    "{ token viewer { ... on StaffUser { name } } } ... on LoginError { code message } } }"
)
STAFF = {"email": "owner@demo.portico.test", "password": "portico-demo-owner"}
PORTAL = {"email": "client@demo.portico.test", "password": "portico-demo-client", "portal": "demo"}
# What the image must not carry: the embedded PostgreSQL and the dev extra's tools.
NOT_IN_IMAGE = ("pgserver", "pytest", "ruff", "hypothesis", "httpx_ws", "aiosmtpd")


class SmokeFailure(Exception):
    pass


def write_manifest(base: Path, out: Path) -> None:
    manifest = json.loads(base.read_text())  # (the repository's, CommentAdded included: as a team would load it)
    out.write_text(json.dumps(manifest, indent=2) + "\n")
    out.chmod(0o644)


def document_ids(manifest_path: Path) -> dict[str, str]:
    """Operation name -> manifest id (``sha256:<hex>``)."""
    ids = {}
    for key, document in json.loads(manifest_path.read_text()).items():
        match = re.search(r"^\s*(?:query|mutation|subscription)\s+(\w+)", document, re.MULTILINE)
        if match:
            ids[match.group(1)] = f"sha256:{key.removeprefix('sha256:')}"
    return ids


def http_json(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"accept": "application/json"}
    data = None
    if body is not None:
        headers["content-type"] = "application/json"
        data = json.dumps(body).encode()
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(url, data=data, headers=headers, method="POST" if data else "GET")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def wait_ready(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            status, body = http_json(f"{url}/readyz")
            if status == 200:
                return
            last = (status, body)
        except (OSError, ValueError) as error:
            last = error
        time.sleep(1)
    raise SmokeFailure(f"/readyz did not answer 200 within {timeout:.0f} s (last: {last})")


class Client:
    def __init__(self, url: str, ids: dict[str, str]) -> None:
        self.url = url
        self.ids = ids

    def run(self, operation: str, variables: dict[str, Any], token: str | None = None) -> dict[str, Any]:
        """Run a manifest operation by its documentId; returns ``data`` (top-level errors fail the smoke)."""
        status, body = http_json(
            f"{self.url}/graphql", {"documentId": self.ids[operation], "variables": variables}, token
        )
        if status != 200 or body.get("errors"):
            raise SmokeFailure(f"{operation}: HTTP {status} {body}")
        return body["data"]  # type: ignore[no-any-return]

    def login(self, credentials: dict[str, str]) -> str:
        result = self.run("Login", {"input": credentials})["login"]
        if result["__typename"] != "Session":
            raise SmokeFailure(f"login as {credentials['email']}: {result}")
        return result["token"]  # type: ignore[no-any-return]


async def receive(ws: Any, timeout: float) -> dict[str, Any]:
    """The next graphql-transport-ws message other than a ping (answered)."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message.get("type") == "ping":
            await ws.send(json.dumps({"type": "pong"}))
            continue
        return message  # type: ignore[no-any-return]


async def subscription_check(client: Client, staff_token: str, portal_token: str) -> dict[str, Any]:
    """Staff subscribe to commentAdded; a portal user comments on an invoice; the staff socket gets that comment."""
    from websockets.asyncio.client import connect

    invoices = client.run("InvoiceList", {"first": 1}, portal_token)["invoices"]["edges"]
    if not invoices:
        raise SmokeFailure("the portal user sees no invoice to comment on (was seed-demo run?)")
    invoice_id = invoices[0]["node"]["id"]
    ws_url = client.url.replace("http", "ws", 1) + "/graphql"
    async with connect(ws_url, subprotocols=["graphql-transport-ws"], open_timeout=10) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {staff_token}"}}))
        ack = await receive(ws, 10)
        if ack.get("type") != "connection_ack":
            raise SmokeFailure(f"connection_init: {ack}")
        subscribe = {"documentId": client.ids["CommentAdded"], "variables": {}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": subscribe}))
        # The server joins the channel right after `subscribe`, without telling the client: a comment made before
        # that is not delivered, so a missed first one is made again (a later miss fails the smoke).
        for attempt in range(1, 4):
            await asyncio.sleep(0.5 * attempt)
            body = f"container smoke {uuid.uuid4()}"
            added = client.run("AddComment", {"input": {"targetId": invoice_id, "body": body}}, portal_token)
            if added["addComment"]["__typename"] != "Comment":
                raise SmokeFailure(f"addComment: {added}")
            deadline = time.monotonic() + 5
            while (left := deadline - time.monotonic()) > 0:
                try:
                    message = await receive(ws, left)
                except TimeoutError:
                    break
                if message.get("type") != "next" or message["payload"].get("errors"):
                    raise SmokeFailure(f"subscription: {message}")
                event = message["payload"]["data"]["commentAdded"]
                if event["body"] == body:
                    await ws.send(json.dumps({"id": "1", "type": "complete"}))
                    return {"attempt": attempt, "message": message}
        raise SmokeFailure("the staff subscription received no commentAdded event for the portal user's comment")


def check(url: str, manifest_path: Path, metrics_url: str | None = None) -> None:
    present = [name for name in NOT_IN_IMAGE if importlib.util.find_spec(name) is not None]
    if present:
        raise SmokeFailure(f"the image carries packages it must not: {present}")
    print(f"image packages: none of {', '.join(NOT_IN_IMAGE)} installed")

    status, ready = http_json(f"{url}/readyz")
    if status != 200:
        raise SmokeFailure(f"/readyz: HTTP {status} {ready}")
    print(f"readyz: HTTP {status} {json.dumps(ready, sort_keys=True)}")

    # production turns the allow-list on: a document's text that is not in the manifest is refused (here README's
    # login example, which names no documentId)
    status, refused = http_json(f"{url}/graphql", {"query": README_LOGIN})
    code = (refused.get("errors") or [{}])[0].get("extensions", {}).get("code")
    if code != "PERSISTED_QUERY_REQUIRED":
        raise SmokeFailure(f"a plain document was not refused in production: HTTP {status} {refused}")
    print(f"allow-list: README's plain login mutation is refused with {code}")

    client = Client(url, document_ids(manifest_path))
    staff_token = client.login(STAFF)
    print(f"login (staff, by documentId {client.ids['Login'][:19]}…): Session, token {len(staff_token)} chars")
    portal_token = client.login(PORTAL)
    me = client.run("Me", {}, portal_token)
    print(f"login (portal 'demo'): Session; me: {json.dumps(me, sort_keys=True)}")

    received = asyncio.run(subscription_check(client, staff_token, portal_token))
    print(f"subscription commentAdded (staff socket, attempt {received['attempt']}): {json.dumps(received['message'])}")
    if metrics_url:
        scrape_metrics(url, metrics_url)


def scrape_metrics(url: str, metrics_url: str) -> None:
    """The metrics port answers for both workers (multiprocess directory); the API's port does not serve them."""
    try:
        urllib.request.urlopen(f"{url}/metrics", timeout=10)
        raise SmokeFailure("/metrics is served on the API's port")
    except urllib.error.HTTPError as error:
        if error.code != 404:
            raise SmokeFailure(f"/metrics on the API's port: HTTP {error.code}") from error
    with urllib.request.urlopen(f"{metrics_url}/metrics", timeout=10) as response:
        text = response.read().decode()
    logins = sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("portico_requests_total{") and 'operation="Login"' in line
    )
    if logins < 2:
        raise SmokeFailure(f"the metrics port counted {logins} Login requests, not the smoke's 2")
    families = sorted({line.split("{")[0].split(" ")[0] for line in text.splitlines() if line.startswith("portico_")})
    print(f"metrics (port apart, both workers): Login requests {logins:.0f}; {len(families)} portico_ series names")


def explore(url: str) -> None:
    request = urllib.request.Request(f"{url}/graphql", headers={"accept": "text/html"})
    with urllib.request.urlopen(request, timeout=10) as response:
        page = response.read().decode()
    assets = re.findall(r'(?:src|href)="(/graphiql-assets/[^"]+)"', page)
    if not assets:
        raise SmokeFailure("GET /graphql (text/html): no GraphiQL page")
    for asset in assets:
        with urllib.request.urlopen(f"{url}{asset}", timeout=10) as response:
            if response.status != 200 or not response.read():
                raise SmokeFailure(f"GraphiQL asset {asset}: HTTP {response.status}")
    print(f"explore: GraphiQL page and its {len(assets)} assets served")
    status, body = http_json(f"{url}/graphql", {"query": "query IntrospectionSmoke { __schema { types { name } } }"})
    types = (body.get("data") or {}).get("__schema", {}).get("types")
    if status != 200 or not types:
        raise SmokeFailure(f"explore: introspection: HTTP {status} {str(body)[:300]}")
    print(f"explore: introspection answers ({len(types)} types), a plain document runs (allow-list off)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    manifest = commands.add_parser("manifest")
    manifest.add_argument("base", type=Path)
    manifest.add_argument("out", type=Path)
    wait = commands.add_parser("wait")
    wait.add_argument("url")
    wait.add_argument("--timeout", type=float, default=120)
    run = commands.add_parser("check")
    run.add_argument("url")
    run.add_argument("manifest", type=Path)
    run.add_argument("--metrics", default=None, help="the metrics port's base URL, to scrape")
    browse = commands.add_parser("explore")
    browse.add_argument("url")
    args = parser.parse_args(argv)
    try:
        if args.command == "manifest":
            write_manifest(args.base, args.out)
        elif args.command == "wait":
            wait_ready(args.url, args.timeout)
        elif args.command == "explore":
            explore(args.url)
        else:
            check(args.url, args.manifest, args.metrics)
    except SmokeFailure as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
