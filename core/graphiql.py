"""GraphiQL that works offline: the page and its assets, served from the npm-installed ``node_modules``.

Strawberry's stock page loads react, react-dom, js-cookie, graphiql and the explorer plugin from a CDN. The
same files at the same versions are pinned in ``package.json``/``package-lock.json`` and installed by
``make install`` (``npm ci``). Only the files listed in ``ASSETS`` are reachable, under ``ASSET_PREFIX``; each
is checked by the browser against its Subresource Integrity hash (the hashes of Strawberry's template), so a
wrong version fails loudly instead of half-working.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from core.settings import PROJECT_ROOT, Settings

ASSET_PREFIX = "/graphiql-assets"
NODE_MODULES = PROJECT_ROOT / "node_modules"


@dataclass(frozen=True)
class Asset:
    name: str  # the URL name under ASSET_PREFIX; carries the version, so it can be cached for good
    path: str  # relative to node_modules/
    integrity: str  # Subresource Integrity of the file's bytes
    media_type: str

    @property
    def url(self) -> str:
        return f"{ASSET_PREFIX}/{self.name}"

    @property
    def file(self) -> Path:
        return NODE_MODULES / self.path


_JS = "text/javascript; charset=utf-8"
_CSS = "text/css; charset=utf-8"

ASSETS: dict[str, Asset] = {
    asset.name: asset
    for asset in (
        Asset(
            "react-18.2.0.production.min.js",
            "react/umd/react.production.min.js",
            "sha384-tMH8h3BGESGckSAVGZ82T9n90ztNXxvdwvdM6UoR56cYcf+0iGXBliJ29D+wZ/x8",
            _JS,
        ),
        Asset(
            "react-dom-18.2.0.production.min.js",
            "react-dom/umd/react-dom.production.min.js",
            "sha384-bm7MnzvK++ykSwVJ2tynSE5TRdN+xL418osEVF2DE/L/gfWHj91J2Sphe582B1Bh",
            _JS,
        ),
        Asset(
            "js-cookie-3.0.5.min.js",
            "js-cookie/dist/js.cookie.min.js",
            "sha384-/vxhYfM1LENRhdpZ8dwEsQn/X4VhpbEZSiU4m/FwR+PVpzar4fkEOw8FP9Y+OfQN",
            _JS,
        ),
        Asset(
            "graphiql-3.8.3.min.css",
            "graphiql/graphiql.min.css",
            "sha384-Mq3vbRBY71jfjQAt/DcjxUIYY33ksal4cgdRt9U/hNPvHBCaT2JfJ/PTRiPKf0aM",
            _CSS,
        ),
        Asset(
            "graphiql-3.8.3.min.js",
            "graphiql/graphiql.min.js",
            "sha384-HbRVEFG0JGJZeAHCJ9Xm2+tpknBQ7QZmNlO/DgZtkZ0aJSypT96YYGRNod99l9Ie",
            _JS,
        ),
        Asset(
            "plugin-explorer-1.0.2.css",
            "@graphiql/plugin-explorer/dist/style.css",
            "sha384-5DFJlDPW2tSATRbM8kzoP1j194jexLswuNmClWoRr2Q0x7R68JIQzPHZ02Faktwi",
            _CSS,
        ),
        Asset(
            "plugin-explorer-1.0.2.umd.js",
            "@graphiql/plugin-explorer/dist/index.umd.js",
            "sha384-2oonKe47vfHIZnmB6ZZ10vl7T0Y+qrHQF2cmNTaFDuPshpKqpUMGMc9jgj9MLDZ9",
            _JS,
        ),
    )
}


async def serve_asset(request: Request) -> Response:
    """One allow-listed file from node_modules; anything else is a 404."""
    asset = ASSETS.get(request.path_params["name"])
    if asset is None or not asset.file.is_file():
        detail = "Not Found" if asset is None else "GraphiQL assets are not installed: run `make install`."
        return PlainTextResponse(detail, status_code=404)
    return FileResponse(
        asset.file,
        media_type=asset.media_type,
        headers={"cache-control": "public, max-age=31536000, immutable", "x-content-type-options": "nosniff"},
    )


def asset_routes(settings: Settings) -> list[BaseRoute]:
    """The asset route, present only when GraphiQL is enabled."""
    if not settings.graphiql_enabled:
        return []
    return [Route(ASSET_PREFIX + "/{name:str}", serve_asset, methods=["GET", "HEAD"], name="graphiql-asset")]


def _tag(name: str) -> str:
    asset = ASSETS[name]
    if asset.media_type == _CSS:
        return f'<link rel="stylesheet" href="{asset.url}" integrity="{asset.integrity}" />'
    return f'<script src="{asset.url}" integrity="{asset.integrity}"></script>'


EXAMPLE_QUERY = """# Portico's GraphiQL, served with no outside network access.
#
# Sign in with the `login` mutation (the session cookie is then sent with every
# request, with its CSRF header), or put a bearer token in the Headers tab:
#   {"Authorization": "Bearer <token>"}
#
# Run: Ctrl-Enter (or the play button). Auto-complete: Ctrl-Space.

query Me {
  me {
    __typename
    ... on StaffUser { email role organization { name } }
  }
}
"""

_PAGE = """<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Portico GraphiQL</title>
    <link rel="icon" href="data:," />
    <style>
      body { height: 100%; margin: 0; width: 100%; overflow: hidden; }
      #graphiql { height: 100vh; display: flex; }
      .docExplorerHide { display: none; }
      .doc-explorer-contents { overflow-y: hidden !important; }
      .docExplorerWrap { width: unset !important; min-width: unset !important; }
      .graphiql-explorer-actions select { margin-left: 4px; }
    </style>
    __HEAD_TAGS__
  </head>
  <body>
    <div id="graphiql" class="graphiql-container">Loading…</div>
    __BODY_TAGS__
    <script>
      const CONFIG = __CONFIG__;

      // Query, variables and headers can be shared through the URL: ?q=…&variables=…&headers=…
      const parameters = {};
      for (const [key, value] of new URLSearchParams(window.location.search)) {
        parameters[key] = value;
      }

      function updateURL(data) {
        Object.assign(parameters, data);
        const search = new URLSearchParams();
        for (const [key, value] of Object.entries(parameters)) {
          if (value) search.set(key, value);
        }
        history.replaceState(null, "", "?" + search.toString());
      }

      const fetchURL = window.location.origin + window.location.pathname;
      const subscriptionURL = new URL(fetchURL);
      subscriptionURL.protocol = subscriptionURL.protocol === "https:" ? "wss:" : "ws:";

      // Cookie-authenticated requests echo the CSRF cookie set at login (double submit).
      const csrfFetch = (url, options = {}) => {
        const headers = new Headers(options.headers || {});
        const csrfToken = Cookies.get(CONFIG.csrfCookieName);
        if (csrfToken && !headers.has("x-csrf-token")) headers.set("x-csrf-token", csrfToken);
        return window.fetch(url, { ...options, headers, credentials: "same-origin" });
      };

      // graphql-ws (bundled in graphiql) speaks graphql-transport-ws; the Headers tab is the connection_init payload.
      const fetcher = GraphiQL.createFetcher({
        url: fetchURL,
        subscriptionUrl: subscriptionURL.toString(),
        fetch: csrfFetch,
      });

      // The editors start from the URL (or the example) and are the editors' own from then on: these props never
      // change, so GraphiQL never replaces what is being typed. (Fed back from React state on every edit, they
      // replaced the text while keys were still arriving and scrambled it.) Edits only update the URL.
      const initial = {
        query: parameters.q || CONFIG.exampleQuery,
        variables: parameters.variables,
        headers: parameters.headers,
      };

      function PorticoGraphiQL() {
        const explorerPlugin = React.useMemo(() => GraphiQLPluginExplorer.explorerPlugin(), []);

        return React.createElement(GraphiQL, {
          fetcher,
          plugins: [explorerPlugin],
          query: initial.query,
          variables: initial.variables,
          headers: initial.headers,
          onEditQuery: (value) => updateURL({ q: value }),
          onEditVariables: (value) => updateURL({ variables: value }),
          defaultEditorToolsVisibility: true,
          inputValueDeprecation: true,
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: false,
        });
      }

      ReactDOM.createRoot(document.getElementById("graphiql")).render(React.createElement(PorticoGraphiQL));
    </script>
  </body>
</html>
"""


@cache
def graphiql_html(csrf_cookie_name: str) -> str:
    """The GraphiQL page, pointing at the local assets."""
    head = [
        "js-cookie-3.0.5.min.js",
        "react-18.2.0.production.min.js",
        "react-dom-18.2.0.production.min.js",
        "graphiql-3.8.3.min.css",
        "plugin-explorer-1.0.2.css",
    ]
    body = ["graphiql-3.8.3.min.js", "plugin-explorer-1.0.2.umd.js"]
    config = {"csrfCookieName": csrf_cookie_name, "exampleQuery": EXAMPLE_QUERY}
    # "</" cannot end the inline script early once escaped
    config_js = json.dumps(config).replace("</", "<\\/")
    return (
        _PAGE.replace("__HEAD_TAGS__", "\n    ".join(_tag(name) for name in head))
        .replace("__BODY_TAGS__", "\n    ".join(_tag(name) for name in body))
        .replace("__CONFIG__", config_js)
    )
