"""GET /documents/{id}.pdf and GET /statements.pdf: authorized like the queries, 404 outside the scope."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from httpx import AsyncClient

from core.auth import issue_session
from core.database import Database
from core.ids import to_global_id
from core.settings import Settings
from tests.client import GraphQLClient
from tests.documents.pdftext import pdf_lines
from tests.factories import PASSWORD, Factory, Tenant

FROM, TO = "2026-01-01", "2026-12-31"


async def portal_token(gql: GraphQLClient, tenant: Tenant) -> str:
    return await gql.login(tenant.person_a.email, PASSWORD, portal=tenant.org.portal_slug)


async def staff_token(gql: GraphQLClient, tenant: Tenant) -> str:
    return await gql.login(tenant.owner.email, PASSWORD)


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


async def test_portal_user_downloads_own_invoice_with_filename(
    http: AsyncClient, gql: GraphQLClient, factory: Factory
) -> None:
    # given a portal user and a sent invoice of their contact
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    token = await portal_token(gql, tenant)
    # when they download it
    response = await http.get(f"/documents/{invoice.gid}.pdf", headers=bearer(token))
    # then they get the PDF under the invoice's number
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'attachment; filename="{invoice.number}.pdf"'
    assert response.headers["cache-control"] == "private, no-store"
    assert invoice.number in pdf_lines(response.content)


async def test_estimate_download(http: AsyncClient, gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    estimate = await factory.estimate(tenant.contact_a)
    response = await http.get(f"/documents/{estimate.gid}.pdf", headers=bearer(await portal_token(gql, tenant)))
    assert response.status_code == 200
    assert f'filename="{estimate.number}.pdf"' in response.headers["content-disposition"]
    assert "ESTIMATE" in pdf_lines(response.content)


async def test_session_cookie_authorizes_without_csrf_header(
    http: AsyncClient, factory: Factory, db: Database, settings: Settings
) -> None:
    # given a browser session (cookie only, no CSRF header: a GET changes nothing)
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    async with db.transaction() as session:
        issued = await issue_session(
            session, settings, organization_id=tenant.org.pk, contact_person_id=tenant.person_a.pk
        )
    cookie = {"cookie": f"{settings.session_cookie_name}={issued.token}"}
    # when / then
    response = await http.get(f"/documents/{invoice.gid}.pdf", headers=cookie)
    assert response.status_code == 200
    statement = await http.get(f"/statements.pdf?from={FROM}&to={TO}", headers=cookie)
    assert statement.status_code == 200


async def test_without_or_with_a_bad_credential_is_401(http: AsyncClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    for headers in ({}, bearer("not-a-token"), {"cookie": "portico_session=nope"}):
        response = await http.get(f"/documents/{invoice.gid}.pdf", headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert response.headers["www-authenticate"].startswith("Bearer")
        statement = await http.get(f"/statements.pdf?from={FROM}&to={TO}", headers=headers)
        assert statement.status_code == 401


async def test_portal_gets_404_outside_own_contact(http: AsyncClient, gql: GraphQLClient, factory: Factory) -> None:
    # given documents the portal user of contact A may not see
    tenant = await factory.tenant()
    draft = await factory.invoice(tenant.contact_a, status="DRAFT")
    draft_estimate = await factory.estimate(tenant.contact_a, status="DRAFT")
    other_contact = await factory.invoice(tenant.contact_b)
    rival = await factory.tenant()
    other_org = await factory.invoice(rival.contact_a)
    token = await portal_token(gql, tenant)
    ids = [
        draft.gid,
        draft_estimate.gid,
        other_contact.gid,
        other_org.gid,
        tenant.contact_a.gid,  # a node that is not a document
        "not-an-id",
        to_global_id("Invoice", 999_999),
    ]
    for gid in ids:
        # when they ask for it, then it does not exist for them
        response = await http.get(f"/documents/{gid}.pdf", headers=bearer(token))
        assert response.status_code == 404, gid
        assert response.json()["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_staff_download_their_organization_only(http: AsyncClient, gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    draft = await factory.invoice(tenant.contact_b, status="DRAFT")
    rival = await factory.tenant()
    rival_invoice = await factory.invoice(rival.contact_a)
    token = await staff_token(gql, tenant)
    ok = await http.get(f"/documents/{draft.gid}.pdf", headers=bearer(token))
    assert ok.status_code == 200
    assert "DRAFT" in pdf_lines(ok.content)  # staff see drafts, stamped as such
    rival_response = await http.get(f"/documents/{rival_invoice.gid}.pdf", headers=bearer(token))
    assert rival_response.status_code == 404


async def test_statement_portal_is_own_contact(http: AsyncClient, gql: GraphQLClient, factory: Factory) -> None:
    # given invoices of both contacts in the period
    tenant = await factory.tenant()
    await factory.invoice(tenant.contact_a, issue_date=dt.date(2026, 3, 1))
    other = await factory.invoice(tenant.contact_b, issue_date=dt.date(2026, 3, 2))
    token = await portal_token(gql, tenant)
    # when the portal user downloads their statement
    response = await http.get(f"/statements.pdf?from={FROM}&to={TO}", headers=bearer(token))
    # then it is contact A's, named after the contact and the period, without contact B's invoice
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="statement-') and disposition.endswith(f'{FROM}-{TO}.pdf"')
    lines = pdf_lines(response.content)
    assert tenant.contact_a.display_name in lines
    assert not any(other.number in line for line in lines)
    # naming their own contact is fine; naming another contact is 404
    own = await http.get(f"/statements.pdf?from={FROM}&to={TO}&contactId={tenant.contact_a.gid}", headers=bearer(token))
    assert own.status_code == 200
    foreign = await http.get(
        f"/statements.pdf?from={FROM}&to={TO}&contactId={tenant.contact_b.gid}", headers=bearer(token)
    )
    assert foreign.status_code == 404


async def test_statement_staff_must_name_a_contact_of_their_organization(
    http: AsyncClient, gql: GraphQLClient, factory: Factory
) -> None:
    tenant = await factory.tenant()
    rival = await factory.tenant()
    token = await staff_token(gql, tenant)
    missing = await http.get(f"/statements.pdf?from={FROM}&to={TO}", headers=bearer(token))
    assert missing.status_code == 400
    ok = await http.get(f"/statements.pdf?from={FROM}&to={TO}&contactId={tenant.contact_b.gid}", headers=bearer(token))
    assert ok.status_code == 200
    assert tenant.contact_b.display_name in pdf_lines(ok.content)
    for contact_id in (rival.contact_a.gid, tenant.person_a.gid, "garbage"):
        response = await http.get(f"/statements.pdf?from={FROM}&to={TO}&contactId={contact_id}", headers=bearer(token))
        assert response.status_code == 404, contact_id


async def test_statement_bad_periods_are_400(http: AsyncClient, gql: GraphQLClient, factory: Factory) -> None:
    tenant = await factory.tenant()
    token = await portal_token(gql, tenant)
    for query in ("", f"from={FROM}", f"to={TO}", f"from=2026-13-01&to={TO}", f"from={TO}&to={FROM}"):
        response = await http.get(f"/statements.pdf?{query}", headers=bearer(token))
        assert response.status_code == 400, query
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"


async def test_statement_numbers_in_download(http: AsyncClient, gql: GraphQLClient, factory: Factory) -> None:
    # given one invoice of 100.00 with 40.00 paid
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a, issue_date=dt.date(2026, 3, 1))
    await factory.payment(tenant.contact_a, [(invoice, Decimal(40))], payment_date=dt.date(2026, 3, 5))
    token = await portal_token(gql, tenant)
    response = await http.get(f"/statements.pdf?from={FROM}&to={TO}", headers=bearer(token))
    lines = pdf_lines(response.content)
    assert lines[lines.index("Closing balance") + 1] == "$60.00"


async def test_pdf_url_is_where_the_viewer_downloads_it(
    http: AsyncClient, gql: GraphQLClient, factory: Factory, settings: Settings
) -> None:
    # given a portal user's invoice and estimate
    tenant = await factory.tenant()
    invoice = await factory.invoice(tenant.contact_a)
    estimate = await factory.estimate(tenant.contact_a)
    token = await portal_token(gql, tenant)
    query = "query($i: ID!, $e: ID!) { invoice(id: $i) { pdfUrl } estimate(id: $e) { pdfUrl } }"
    data = await gql(query, {"i": invoice.gid, "e": estimate.gid}, as_=token)
    # then each pdfUrl is absolute, on the API's own origin, and downloads that document with the session
    urls = [data["invoice"]["pdfUrl"], data["estimate"]["pdfUrl"]]
    assert urls == [
        f"http://portico.test/documents/{invoice.gid}.pdf",
        f"http://portico.test/documents/{estimate.gid}.pdf",
    ]
    for url in urls:
        response = await http.get(url, headers=bearer(token))
        assert (response.status_code, response.headers["content-type"]) == (200, "application/pdf")
    # and another contact's person gets 404 from the same URL
    other = await gql.login(tenant.person_b.email, PASSWORD, portal=tenant.org.portal_slug)
    assert (await http.get(urls[0], headers=bearer(other))).status_code == 404
