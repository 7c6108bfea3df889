"""The PDF of a statement of account: the period's figures, then every invoice and payment with the balance."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from reportlab.lib.units import mm
from reportlab.platypus import KeepTogether, Spacer, Table, TableStyle

from services.documents.pdf import layout
from services.documents.pdf.data import StatementData
from services.documents.pdf.formats import Formats
from services.statements.compute import Statement, StatementLine


def _meta(statement: Statement, fmt: Formats, period: str) -> list[tuple[str, str]]:
    return [
        ("Period", period),
        ("Opening balance", fmt.money(statement.opening_balance)),
        ("Invoiced", fmt.money(statement.invoiced)),
        ("Payments", fmt.money(statement.paid)),
        ("Closing balance", fmt.money(statement.closing_balance)),
    ]


def _balance_row(styles: layout.Styles, fmt: Formats, day: Any, label: str, balance: Decimal) -> list[Any]:
    """The opening or the closing line: a date, what it is, the balance."""
    return [styles.f.fit(fmt.date(day)), label, "", "", styles.f.fit(fmt.money(balance))]


def _line_row(styles: layout.Styles, fmt: Formats, line: StatementLine) -> list[Any]:
    fit = styles.f.fit
    details = line.description
    if line.kind == "INVOICE" and line.due_date:
        details += f" (due {fmt.date(line.due_date)})"
    if line.kind == "PAYMENT" and line.number:
        details += f" · ref. {line.number}"
    return [
        fit(fmt.date(line.date)),
        styles.p(details),
        fit(fmt.money(line.charge)) if line.kind == "INVOICE" else "",
        fit(fmt.money(line.payment)) if line.kind == "PAYMENT" else "",
        fit(fmt.money(line.balance)),
    ]


def _lines_table(styles: layout.Styles, fmt: Formats, statement: Statement, width: float) -> Table:
    rows: list[list[Any]] = [layout.heading_row(styles, ["Date", "Details", "Amount", "Payment", "Balance"])]
    rows.append(_balance_row(styles, fmt, statement.from_, "Opening balance", statement.opening_balance))
    rows += [_line_row(styles, fmt, line) for line in statement.lines]
    rows.append(_balance_row(styles, fmt, statement.to, "Closing balance", statement.closing_balance))
    numeric = [28 * mm, 28 * mm, 30 * mm]
    table = Table(rows, colWidths=[26 * mm, width - 26 * mm - sum(numeric), *numeric], repeatRows=1)
    table.setStyle(layout.grid_style(2, len(rows), styles.f.regular))
    last = len(rows) - 1
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 1), (-1, 1), styles.f.bold),
                ("FONTNAME", (0, last), (-1, last), styles.f.bold),
                ("LINEABOVE", (0, last), (-1, last), 0.8, layout.INK),
            ]
        )
    )
    return table


def render_statement(data: StatementData) -> bytes:
    """The PDF bytes of a statement of account."""
    statement, organization, contact = data.statement, data.organization, data.contact
    styles = layout.Styles.make()
    fmt = Formats.for_(data.locale, statement.currency)
    pagesize = fmt.page_size()
    width = pagesize[0] - 2 * layout.MARGIN
    period = f"{fmt.date(statement.from_)} – {fmt.date(statement.to)}"
    story: list[Any] = [layout.header(styles, width, organization, "Statement", _meta(statement, fmt, period))]
    story += [Spacer(1, 8 * mm), *layout.party_block(styles, "Statement for", contact), Spacer(1, 7 * mm)]
    story += [_lines_table(styles, fmt, statement, width), Spacer(1, 4 * mm)]
    closing = [("Balance due", fmt.money(statement.closing_balance), True)]
    story.append(KeepTogether(layout.totals_table(styles, closing, width)))
    return layout.build(
        pagesize,
        story,
        title=f"Statement {period}",
        author=organization.name,
        subject=f"Statement of account for {contact.name}",
        footer=layout.page_footer(styles, f"{organization.name} · Statement for {contact.name}"),
        first_page=lambda canvas, doc: None,
    )
