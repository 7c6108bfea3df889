"""GraphiQL offline: the page points at local, pinned assets, and renders and runs queries in headless Chromium
with every non-loopback host unreachable."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
from httpx import AsyncClient

from app import create_app
from core.graphiql import ASSET_PREFIX, ASSETS
from core.settings import Settings
from tests.conftest import base_settings
from tests.factories import PASSWORD, Factory
from tests.http.conftest import require_node_package, run_node

HERE = Path(__file__).parent
SCREENSHOT = Path("/tmp/portico-graphiql.png")


async def test_page_loads_only_local_assets(http: AsyncClient) -> None:
    # when a browser opens /graphql
    response = await http.get("/graphql", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    # then it gets the GraphiQL page, whose every script and stylesheet is one of our local assets
    assert response.status_code == 200
    page = response.text
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sorted(source for source in sources if not source.startswith("data:")) == sorted(
        a.url for a in ASSETS.values()
    )
    assert "unpkg" not in page and "cdn" not in page.lower()
    assert "graphiql-explorer" in page or "plugin-explorer" in page


async def test_assets_are_the_pinned_files(http: AsyncClient) -> None:
    page = (await http.get("/graphql", headers={"accept": "text/html"})).text
    for asset in ASSETS.values():
        # when each asset is fetched
        response = await http.get(asset.url)
        # then it is served with its media type, and its bytes match the integrity hash the page declares
        assert response.status_code == 200, asset.url
        assert response.headers["content-type"] == asset.media_type
        digest = "sha384-" + base64.b64encode(hashlib.sha384(response.content).digest()).decode()
        assert digest == asset.integrity, asset.name
        assert f'integrity="{digest}"' in page


@pytest.mark.parametrize(
    "path",
    ["package.json", "graphiql%2Fpackage.json", "..%2Fpackage.json", "react.production.min.js", "graphiql.min.js.map"],
)
async def test_only_listed_assets_are_reachable(http: AsyncClient, path: str) -> None:
    response = await http.get(f"{ASSET_PREFIX}/{path}")
    assert response.status_code == 404
    response = await http.get(f"{ASSET_PREFIX}/graphiql/package.json")
    assert response.status_code == 404


async def test_graphiql_off_serves_neither_page_nor_assets(settings: Settings) -> None:
    # given GraphiQL switched off
    application = create_app(base_settings(database_url=settings.database_url, graphiql=False))
    async with application.router.lifespan_context(application):
        from httpx import ASGITransport

        async with AsyncClient(transport=ASGITransport(app=application), base_url="http://portico.test") as client:
            # when a browser asks for the page and an asset
            page = await client.get("/graphql", headers={"accept": "text/html"})
            asset = await client.get(next(iter(ASSETS.values())).url)
    # then both are 404, and the page's refusal is a JSON GraphQL error
    assert page.status_code == 404
    assert page.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert asset.status_code == 404


def chromium_path() -> str:
    """Debian's chromium (.ci/run installs it); skipped only outside CI when it is genuinely missing."""
    for name in ("chromium", "chromium-browser"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed; .ci/run installs it with apt-get (see its output)")
    pytest.skip("chromium not found: `apt-get install chromium` to run the GraphiQL browser test")


# typed key by key: the editor closes each bracket as it opens and types over it when the closing one comes
TYPED = "query Typed { me { __typename } dashboard { outstandingTotal } }"


@pytest.mark.slow
async def test_graphiql_renders_and_runs_a_query_offline(live_server: str, gql: object, factory: Factory) -> None:
    # given a staff user with a session token, and Chromium that can reach nothing but 127.0.0.1
    chromium = chromium_path()
    require_node_package("playwright-core")
    tenant = await factory.tenant()
    token = await gql.login(tenant.owner.email, PASSWORD)  # type: ignore[attr-defined]
    options = {
        "baseUrl": live_server,
        "chromium": chromium,
        "screenshot": str(SCREENSHOT),
        "token": token,
        "email": tenant.owner.email,
        "password": PASSWORD,
        "expect": tenant.owner.email,
        "typed": TYPED,
    }
    # when GraphiQL runs `{ me }`, first with the bearer header, then after signing in with the login mutation
    completed = run_node(HERE / "graphiql_browser.mjs", json.dumps(options), timeout=180)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    # then the page rendered and the result pane shows the staff user, with nothing fetched off the machine
    assert report.get("fatal") is None, report
    assert report["title"] == "Portico GraphiQL"
    assert [run["name"] for run in report["runs"] if run["ok"]] == ["bearer", "login", "cookie"], report["runs"]
    assert tenant.org.name in report["runs"][0]["result"]
    assert report["offHost"] == []
    assert report["failedRequests"] == []
    assert report["pageErrors"] == []
    assert report["consoleErrors"] == []
    assert all(asset.url in " ".join(report["requests"]) for asset in ASSETS.values())
    assert SCREENSHOT.stat().st_size > 0
    # and what a person typed slowly is what the editor holds, every time (the page once fed its own state back
    # into the editor while keys arrived, and scrambled 3 of 5 tries)
    assert report["typed"] == [TYPED] * 5
