"""A frontend on another origin, in headless Chromium against a live server with CORS_ORIGINS: it signs in with
a cookie session, queries with its CSRF token, subscribes over a cookie-authenticated socket and receives its own
comment live; a page of an origin not listed reads no answer and gets no socket."""

from __future__ import annotations

import json

import pytest

from core.settings import Settings
from tests.factories import PASSWORD, Factory
from tests.http.conftest import require_node_package, run_node
from tests.http.test_graphiql import chromium_path
from tests.live import free_port, running_server

HERE = __import__("pathlib").Path(__file__).parent


@pytest.mark.slow
async def test_a_frontend_on_another_origin_signs_in_queries_and_subscribes(
    settings: Settings, factory: Factory
) -> None:
    chromium = chromium_path()
    require_node_package("playwright-core")
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    frontend, stranger = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    with running_server(settings, CORS_ORIGINS=json.dumps([frontend])) as api:
        options = {
            "apiUrl": api,
            "frontendOrigin": frontend,
            "strangerOrigin": stranger,
            "chromium": chromium,
            "email": tenant.person_a.email,
            "password": PASSWORD,
            "portal": tenant.org.portal_slug,
            "invoiceId": invoice.gid,
        }
        completed = run_node(HERE / "cross_origin_browser.mjs", json.dumps(options), timeout=120)
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report.get("fatal") is None, report
    steps = report["frontend"]
    assert steps.get("error") is None, steps
    # the browser got the cookie transport: no token in the page's hands, the CSRF token to echo
    assert steps["login"]["__typename"] == "Session" and steps["login"]["transport"] == "COOKIE"
    assert steps["login"]["token"] is None and steps["login"]["csrfToken"]
    assert {c["name"]: c["httpOnly"] for c in report["cookies"]}["portico_session"] is True
    # it read its answers (CORS with credentials), and a POST without the CSRF header was refused
    assert steps["me"] == {"me": {"__typename": "ContactPerson", "email": tenant.person_a.email}}
    assert steps["withoutCsrf"] == "FORBIDDEN"
    # its cookie-authenticated socket delivered its own comment, placed in its thread
    assert steps["event"] == {"body": steps["body"], "targetId": invoice.gid}
    # and a page of an origin not listed could read nothing and open no socket
    assert report["stranger"] == {"fetch": "blocked", "socket": "refused"}
