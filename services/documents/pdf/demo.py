"""A made-up invoice for looking at the layout without a database (``python -m services.documents.pdf``)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from core.money import LineInput, compute_totals
from models.invoices import InvoiceStatus
from services.documents.pdf.data import DocumentData, Party, PdfLine


def demo_invoice(
    line_count: int = 24, *, status: str = InvoiceStatus.PAID, locale: str = "en_US", currency: str = "USD"
) -> DocumentData:
    """A made-up invoice to look at the layout (``python -m services.documents.pdf demo.pdf``), no database needed."""
    drafts = [
        (
            f"Design sprint, week {n}",
            "Workshops, wireframes and a clickable prototype." if n % 3 == 1 else None,
            Decimal(n % 4 + 1),
            Decimal("125.50") + n,
            Decimal(10) if n % 5 == 0 else Decimal(0),
            Decimal(20) if n % 2 else Decimal("7.5"),
        )
        for n in range(1, line_count + 1)
    ]
    totals = compute_totals(
        [LineInput(quantity=q, rate=r, discount_percent=d, tax_percent=t) for _, _, q, r, d, t in drafts], currency
    )
    lines = [
        PdfLine(
            name=name,
            description=description,
            quantity=quantity,
            rate=rate,
            discount_percent=discount,
            tax_name="VAT" if tax == 20 else "Sales tax",
            tax_percent=tax,
            amount=computed.amount,
            tax_amount=computed.tax_amount,
        )
        for (name, description, quantity, rate, discount, tax), computed in zip(drafts, totals.lines, strict=True)
    ]
    paid = totals.total if status == InvoiceStatus.PAID else Decimal(0)
    return DocumentData(
        kind="invoice",
        id=0,
        contact_id=0,
        number="INV-000012",
        reference="PO-4471",
        status=status,
        issue_date=dt.date(2026, 3, 2),
        second_date_label="Due date",
        second_date=dt.date(2026, 4, 1),
        currency=currency,
        locale=locale,
        organization=Party(
            "Northwind Studio", ["12 Harbour Street", "94107 San Francisco, CA", "hello@northwind.test"]
        ),
        bill_to=Party("Acme Corporation", ["Attn. Jane Doe", "1 Main Street", "10001 New York, NY", "USA"]),
        lines=lines,
        subtotal=totals.subtotal,
        tax_total=totals.tax_total,
        total=totals.total,
        amount_paid=paid,
        balance_due=totals.total - paid,
        notes="Thank you for your business.",
        terms="Payment within 30 days. Late payments carry 1% interest per month.",
    )
