"""The PDF of an estimate or an invoice: layout.header with the facts, bill-to, the lines, totals, answer and notes."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table

from services.documents.pdf import layout
from services.documents.pdf.data import DocumentData, PdfLine
from services.documents.pdf.formats import Formats


def status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def _meta(data: DocumentData, fmt: Formats) -> list[tuple[str, str]]:
    meta = [(f"{data.title} #", data.number), ("Issue date", fmt.date(data.issue_date))]
    if data.second_date:
        meta.append((data.second_date_label, fmt.date(data.second_date)))
    if data.reference:
        meta.append(("Reference", data.reference))
    meta.append(("Status", status_label(data.status)))
    if data.balance_due is not None:
        meta.append(("Balance due", fmt.money(data.balance_due)))
    else:
        meta.append(("Total", fmt.money(data.total)))
    return meta


def _line_row(styles: layout.Styles, fmt: Formats, index: int, line: PdfLine, with_discount: bool) -> list[Any]:
    fit = styles.f.fit
    item = escape(fit(line.name))
    if line.description:
        description = escape(fit(line.description)).replace("\n", "<br/>")
        item += f'<br/><font size="8" color="#616e7c">{description}</font>'
    tax = "—"
    if line.tax_percent:
        tax = f"{line.tax_name + ' ' if line.tax_name else ''}{fmt.percent(line.tax_percent)}"
    discount = [fmt.percent(line.discount_percent) if line.discount_percent else "—"] if with_discount else []
    return [
        str(index),
        Paragraph(item, styles.body),
        fit(fmt.number(line.quantity)),
        fit(fmt.money(line.rate)),
        *(fit(value) for value in discount),
        styles.p(tax, styles.small_right),
        fit(fmt.money(line.amount)),
    ]


def _lines_table(styles: layout.Styles, fmt: Formats, data: DocumentData, width: float) -> Table:
    with_discount = any(line.discount_percent for line in data.lines)
    labels = ["#", "Item", "Qty", "Rate", *(["Disc."] if with_discount else []), "Tax", "Amount"]
    rows: list[list[Any]] = [layout.heading_row(styles, labels)]
    rows += [_line_row(styles, fmt, index, line, with_discount) for index, line in enumerate(data.lines, start=1)]
    numeric = [14 * mm, 24 * mm, *([14 * mm] if with_discount else []), 30 * mm, 27 * mm]
    table = Table(rows, colWidths=[9 * mm, width - 9 * mm - sum(numeric), *numeric], repeatRows=1)
    table.setStyle(layout.grid_style(2, len(rows), styles.f.regular))
    return table


def _totals(data: DocumentData, fmt: Formats) -> list[tuple[str, str, bool]]:
    totals = [("Subtotal", fmt.money(data.subtotal), False)]
    for name, percent, amount in data.taxes():
        totals.append((f"{name} ({fmt.percent(percent)})", fmt.money(amount), False))
    totals.append(("Total", fmt.money(data.total), True))
    if data.amount_paid is not None and data.balance_due is not None:
        totals.append(("Amount paid", fmt.money(data.amount_paid), False))
        totals.append(("Balance due", fmt.money(data.balance_due), True))
    return totals


def _answer_and_notes(styles: layout.Styles, fmt: Formats, data: DocumentData) -> list[Any]:
    """The client's answer (acceptance; the reason given for the status it is in), then notes and terms."""
    story: list[Any] = []
    if data.accepted_at:
        who = f" by {data.accepted_by}" if data.accepted_by else ""
        story += [Spacer(1, 4 * mm), styles.p(f"Accepted{who} on {fmt.date(data.accepted_at)}.", styles.body)]
    if data.reason:
        story += [Spacer(1, 4 * mm), styles.p(f"{status_label(data.status)}: {data.reason}", styles.body)]
    for heading, text in (("Notes", data.notes), ("Terms and conditions", data.terms)):
        if text:
            story.append(KeepTogether([styles.p(heading, styles.heading), styles.p(text, styles.body)]))
    return story


def render_document(data: DocumentData) -> bytes:
    """The PDF bytes of an estimate or invoice."""
    styles = layout.Styles.make()
    fmt = Formats.for_(data.locale, data.currency)
    pagesize = fmt.page_size()
    width = pagesize[0] - 2 * layout.MARGIN
    story: list[Any] = [layout.header(styles, width, data.organization, data.title, _meta(data, fmt))]
    story += [Spacer(1, 8 * mm), *layout.party_block(styles, "Bill to", data.bill_to)]
    story += [Spacer(1, 7 * mm), _lines_table(styles, fmt, data, width), Spacer(1, 4 * mm)]
    story.append(KeepTogether(layout.totals_table(styles, _totals(data, fmt), width)))
    story += _answer_and_notes(styles, fmt, data)
    return layout.build(
        pagesize,
        story,
        title=f"{data.title} {data.number}",
        author=data.organization.name,
        subject=f"{data.title} {data.number} for {data.bill_to.name}",
        footer=layout.page_footer(styles, f"{data.organization.name} · {data.title} {data.number}"),
        first_page=layout.status_stamp(styles, data.status),
    )
