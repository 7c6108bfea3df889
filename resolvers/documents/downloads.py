"""PDF downloads: ``GET /documents/{id}.pdf`` and ``GET /statements.pdf?from=…&to=…[&contactId=…]``.

Authorized exactly like GraphQL queries: a bearer token, else the session cookie (a GET changes nothing, so it
needs no CSRF header), resolved by ``core.auth.authenticate``; everything is read through the viewer's scope.
No or a bad credential answers 401; anything outside the scope (another organization's document, another
contact's, a draft in the portal, a malformed id) answers 404, exactly like an id that does not exist.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from core.auth import PortalViewer, Viewer, authenticate
from core.errors import DomainError
from core.ids import from_global_id
from core.media import bearer_token
from services.documents.pdf import RenderedPdf, load_document, load_statement, to_pdf
from services.runtime import Runtime
from services.statements.compute import check_period

DOCUMENT_KINDS = {"Estimate": "estimate", "Invoice": "invoice"}


def _error(status: int, code: str, message: str, **headers: str) -> JSONResponse:
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status, headers=headers)


def _not_found() -> JSONResponse:
    return _error(404, "NOT_FOUND", "Not found.")


def _pdf(rendered: RenderedPdf) -> Response:
    return Response(
        rendered.content,
        media_type="application/pdf",
        headers={
            "content-disposition": f'attachment; filename="{rendered.filename}"',
            "cache-control": "private, no-store",  # a client's documents never sit in a shared cache
            "x-content-type-options": "nosniff",
        },
    )


async def _viewer(request: Request) -> tuple[Runtime, Viewer | None]:
    runtime: Runtime = request.app.state.runtime
    settings = runtime.settings
    token = bearer_token(request.headers.get("authorization")) or request.cookies.get(settings.session_cookie_name)
    return runtime, await authenticate(runtime.db, settings, token) if token else None


def _unauthenticated() -> JSONResponse:
    return _error(401, "UNAUTHENTICATED", "Sign in to continue.", **{"www-authenticate": 'Bearer realm="portico"'})


async def download_document(request: Request) -> Response:
    """The PDF of an estimate or invoice the viewer may see."""
    runtime, viewer = await _viewer(request)
    if viewer is None:
        return _unauthenticated()
    decoded = from_global_id(request.path_params["id"])
    if decoded is None or decoded[0] not in DOCUMENT_KINDS:
        return _not_found()
    type_name, pk = decoded
    async with runtime.db.session() as session:
        data = await load_document(session, viewer.scope(), DOCUMENT_KINDS[type_name], pk)  # type: ignore[arg-type]
    return _pdf(await to_pdf(data)) if data is not None else _not_found()


def _date(params: Any, name: str) -> dt.date:
    value = params.get(name)
    if not value:
        raise DomainError("BAD_REQUEST", f"`{name}` is required (YYYY-MM-DD).", name)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise DomainError("BAD_REQUEST", f"`{name}` must be a date (YYYY-MM-DD).", name) from None


async def download_statement(request: Request) -> Response:
    """The statement PDF: a portal user's own contact; staff name the contact with ``contactId``."""
    runtime, viewer = await _viewer(request)
    if viewer is None:
        return _unauthenticated()
    params = request.query_params
    try:
        from_, to = _date(params, "from"), _date(params, "to")
        check_period(from_, to)
    except DomainError as error:
        return _error(400, "BAD_REQUEST", error.message)
    contact_param = params.get("contactId")
    if isinstance(viewer, PortalViewer):
        contact_id = viewer.contact_id
        if contact_param is not None and from_global_id(contact_param) != ("Contact", contact_id):
            return _not_found()
    else:
        if not contact_param:
            return _error(400, "BAD_REQUEST", "Staff name the contact: `contactId`.")
        decoded = from_global_id(contact_param)
        if decoded is None or decoded[0] != "Contact":
            return _not_found()
        contact_id = decoded[1]
    async with runtime.db.session() as session:
        data = await load_statement(session, viewer.scope(), contact_id, from_, to)
    return _pdf(await to_pdf(data)) if data is not None else _not_found()


routes = [
    Route("/documents/{id}.pdf", download_document, methods=["GET"]),
    Route("/statements.pdf", download_statement, methods=["GET"]),
]
