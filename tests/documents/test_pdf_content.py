"""What the PDFs say: read back with pypdf, numbers checked against the rounding rule."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import BytesIO

from httpx import AsyncClient
from pypdf import PdfReader

from services.documents.lines import LineDraft
from tests.client import GraphQLClient
from tests.documents.pdftext import pdf_lines, pdf_pages, value_after
from tests.factories import PASSWORD, Factory, Row

NORTHWIND = {"street1": "12 Harbour Street", "city": "San Francisco", "zip": "94107", "state": "CA", "country": "USA"}
ACME = {"attention": "Jane Doe", "street1": "1 Main Street", "city": "New York", "zip": "10001", "state": "NY"}


async def download(http: AsyncClient, gql: GraphQLClient, owner: Row, document: Row) -> bytes:
    token = await gql.login(owner.email, PASSWORD)
    response = await http.get(f"/documents/{document.gid}.pdf", headers={"authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.content


async def business(factory: Factory, **org_values: object) -> tuple[Row, Row, Row]:
    org = await factory.organization(
        name="Northwind Studio", address=NORTHWIND, email="billing@northwind.test", **org_values
    )
    owner = await factory.staff(org)
    contact = await factory.contact(org, display_name="Acme Corp", billing_address=ACME)
    return org, owner, contact


THREE_LINES = [
    LineDraft(name="Design", quantity=Decimal(2), rate=Decimal(150), tax_name="VAT", tax_percent=Decimal(20)),
    LineDraft(
        name="Hosting",
        description="Managed hosting, March",
        quantity=Decimal("1.5"),
        rate=Decimal(40),
        discount_percent=Decimal(10),
        tax_name="VAT",
        tax_percent=Decimal(20),
    ),
    LineDraft(name="Consulting", quantity=Decimal(3), rate=Decimal("99.99")),
]


async def test_invoice_pdf_shows_parties_dates_lines_and_totals(
    http: AsyncClient, gql: GraphQLClient, factory: Factory
) -> None:
    # given a partially paid invoice: 2×150 + 1.5×40 less 10% (both VAT 20%) + 3×99.99 untaxed
    _, owner, contact = await business(factory)
    invoice = await factory.invoice(
        contact,
        lines=THREE_LINES,
        status="PARTIALLY_PAID",
        amount_paid=Decimal(200),
        issue_date=dt.date(2026, 3, 2),
        due_date=dt.date(2027, 4, 1),
        reference="PO-1",
        notes="Thank you for your business.",
        terms="Net 30 days.",
    )
    # when staff download it
    lines = pdf_lines(await download(http, gql, owner, invoice))
    # then the organization, the billing address, the number, dates and status are there
    for expected in ("Northwind Studio", "12 Harbour Street", "94107 San Francisco, CA", "billing@northwind.test"):
        assert expected in lines
    for expected in ("Acme Corp", "Jane Doe", "1 Main Street", "10001 New York, NY"):
        assert expected in lines
    assert "INVOICE" in lines
    assert value_after(lines, "Invoice #") == invoice.number
    assert value_after(lines, "Issue date") == "Mar 2, 2026"
    assert value_after(lines, "Due date") == "Apr 1, 2027"
    assert value_after(lines, "Reference") == "PO-1"
    assert value_after(lines, "Status") == "Partially paid"
    assert "PARTIALLY PAID" in lines  # the stamp
    # each line: quantity, rate, discount, tax and amount (2×150=300; 1.5×40×0.9=54; 3×99.99=299.97)
    design = lines.index("Design")
    assert lines[design + 1 : design + 6] == ["2", "$150.00", "—", "VAT 20%", "$300.00"]
    hosting = lines.index("Hosting")
    assert lines[hosting + 1 : hosting + 7] == ["Managed hosting, March", "1.5", "$40.00", "10%", "VAT 20%", "$54.00"]
    consulting = lines.index("Consulting")
    assert lines[consulting + 1 : consulting + 6] == ["3", "$99.99", "—", "—", "$299.97"]
    # totals: subtotal 653.97, VAT 60.00 + 10.80, total 724.77, paid 200, due 524.77
    assert value_after(lines, "Subtotal") == "$653.97"
    assert value_after(lines, "VAT (20%)") == "$70.80"
    assert value_after(lines, "Total") == "$724.77"
    assert value_after(lines, "Amount paid") == "$200.00"
    assert [lines[i + 1] for i, line in enumerate(lines) if line == "Balance due"] == ["$524.77", "$524.77"]
    assert "Thank you for your business." in lines and "Net 30 days." in lines
    assert "Notes" in lines and "Terms and conditions" in lines
    assert "Page 1 of 1" in lines


async def test_paid_invoice_is_stamped_paid(http: AsyncClient, gql: GraphQLClient, factory: Factory) -> None:
    _, owner, contact = await business(factory)
    invoice = await factory.invoice(contact, status="PAID", amount_paid=Decimal(100))
    lines = pdf_lines(await download(http, gql, owner, invoice))
    assert "PAID" in lines
    assert value_after(lines, "Status") == "Paid"
    assert value_after(lines, "Amount paid") == "$100.00"
    assert value_after(lines, "Balance due") == "$0.00"


async def test_accepted_estimate_is_stamped_and_signed(http: AsyncClient, gql: GraphQLClient, factory: Factory) -> None:
    # given an accepted estimate
    _, owner, contact = await business(factory)
    estimate = await factory.estimate(
        contact,
        lines=THREE_LINES,
        status="ACCEPTED",
        issue_date=dt.date(2026, 3, 2),
        expiry_date=dt.date(2026, 4, 1),
        accepted_at=dt.datetime(2026, 3, 5, 10, 0, tzinfo=dt.UTC),
        signature_name="Jane Doe",
    )
    # when downloaded
    lines = pdf_lines(await download(http, gql, owner, estimate))
    # then: the ACCEPTED mark, the expiry date, totals without payment rows, the acceptance
    assert "ESTIMATE" in lines and "ACCEPTED" in lines
    assert value_after(lines, "Estimate #") == estimate.number
    assert value_after(lines, "Expiry date") == "Apr 1, 2026"
    assert value_after(lines, "Status") == "Accepted"
    assert [lines[i + 1] for i, line in enumerate(lines) if line == "Total"] == ["$724.77", "$724.77"]
    assert "Amount paid" not in lines and "Balance due" not in lines
    assert "Accepted by Jane Doe on Mar 5, 2026." in lines


async def test_two_hundred_lines_flow_over_pages_with_the_header_repeated(
    http: AsyncClient, gql: GraphQLClient, factory: Factory
) -> None:
    # given an invoice of 200 lines: Line 001 at 1.00 … Line 200 at 200.00
    _, owner, contact = await business(factory)
    many = [LineDraft(name=f"Line {n:03d}", quantity=Decimal(1), rate=Decimal(n)) for n in range(1, 201)]
    invoice = await factory.invoice(contact, lines=many)
    # when downloaded
    content = await download(http, gql, owner, invoice)
    pages = pdf_pages(content)
    # then it has several pages, each numbered "Page k of n", each page of the table starting with its header
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page
        first_line = next((index for index, line in enumerate(page) if line.startswith("Line ")), None)
        if first_line is not None:
            assert page[first_line - 7 : first_line - 1] == ["#", "Item", "Qty", "Rate", "Tax", "Amount"], number
    # every line exactly once, in order; the totals only at the end
    names = [line for page in pages for line in page if line.startswith("Line ")]
    assert names == [f"Line {n:03d}" for n in range(1, 201)]
    assert value_after(pages[-1], "Total") == "$20,100.00"
    assert all("Subtotal" not in page for page in pages[:-1])


async def test_locale_and_currency_formats(http: AsyncClient, gql: GraphQLClient, factory: Factory) -> None:
    # given a German organization invoicing in euros
    _, owner, contact = await business(factory, locale="de_DE", base_currency="EUR")
    lines_in = [LineDraft(name="Beratung", quantity=Decimal("2.5"), rate=Decimal("493.80"), tax_percent=Decimal(19))]
    invoice = await factory.invoice(contact, lines=lines_in, issue_date=dt.date(2026, 3, 2), due_date=None)
    # when downloaded
    content = await download(http, gql, owner, invoice)
    lines = pdf_lines(content)
    # then amounts, quantities, percentages and dates follow de_DE; the page is A4
    assert value_after(lines, "Issue date") == "02.03.2026"
    assert "Due date" not in lines
    beratung = lines.index("Beratung")
    assert lines[beratung + 1 : beratung + 5] == ["2,5", "493,80 €", "19 %", "1.234,50 €"]
    assert value_after(lines, "Tax (19 %)") == "234,56 €"
    assert value_after(lines, "Total") == "1.469,06 €"
    box = PdfReader(BytesIO(content)).pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
