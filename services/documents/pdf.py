"""PDFs of estimates, invoices and statements, rendered with ReportLab's platypus.

Why ReportLab: mature (25 years, still released), installs from PyPI as wheels with no system libraries
(WeasyPrint needs Pango and friends), and platypus does what a long invoice needs out of the box: tables that
split across pages repeating their header row (``repeatRows``), and page decorations (footer, page numbers,
status stamp) drawn by page callbacks. Amounts, quantities, percentages and dates are formatted with Babel in
the organization's locale and the document's currency.

Loading goes through the viewer's ``Scope`` (a row outside it is "not found"); rendering is plain CPU work and
runs in a worker thread (``render_*`` are synchronous, the ``*_pdf`` coroutines wrap them).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any, Literal
from xml.sax.saxutils import escape

import reportlab
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal, format_percent
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4, LETTER
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from sqlalchemy.ext.asyncio import AsyncSession

from core.money import quantize, trim
from core.scope import T_CONTACT, T_ESTIMATE, T_INVOICE, T_LINE_ITEM, T_ORGANIZATION, Scope
from services.statements.compute import Statement, compute_statement

DocumentKind = Literal["estimate", "invoice"]


# ---- fonts: DejaVu Sans when the system has it (wide coverage: ₹, narrow no-break space, …), else the Vera
# fonts that ship inside the reportlab wheel (Latin-1 and €), so rendering works on any machine.
_FONT_CANDIDATES = [
    (
        Path("/usr/share/fonts/truetype/dejavu"),
        ("DejaVuSans.ttf", "DejaVuSans-Bold.ttf", "DejaVuSans-Oblique.ttf"),
    ),
    (
        Path(reportlab.__file__).parent / "fonts",
        ("Vera.ttf", "VeraBd.ttf", "VeraIt.ttf"),
    ),
]


_RENDER_LOCK = threading.Lock()  # ReportLab keeps some module-level state; one render at a time per process


@dataclass(frozen=True, slots=True)
class Fonts:
    regular: str
    bold: str
    italic: str
    glyphs: frozenset[int]

    def fit(self, text: str) -> str:
        """Swap characters the font lacks for close equivalents (Babel's narrow no-break space, for one)."""
        if all(ord(ch) in self.glyphs or ch in "\n\t" for ch in text):
            return text
        replaced = []
        for ch in text:
            if ord(ch) in self.glyphs or ch in "\n\t":
                replaced.append(ch)
            elif ch in "\u202f\u2009\u2007":
                replaced.append("\u00a0")
            elif ch == "\u2019":
                replaced.append("'")
            else:
                replaced.append("?")
        return "".join(replaced)


@lru_cache(maxsize=1)
def fonts() -> Fonts:
    for folder, names in _FONT_CANDIDATES:
        paths = [folder / name for name in names]
        if all(path.exists() for path in paths):
            family = "PorticoSans"
            regular, bold, italic = (
                TTFont(f"{family}{suffix}", str(path))
                for suffix, path in zip(("", "-Bold", "-Italic"), paths, strict=True)
            )
            for font in (regular, bold, italic):
                pdfmetrics.registerFont(font)
            pdfmetrics.registerFontFamily(
                family, normal=regular.fontName, bold=bold.fontName, italic=italic.fontName, boldItalic=bold.fontName
            )
            return Fonts(regular.fontName, bold.fontName, italic.fontName, frozenset(regular.face.charToGlyph))
    raise RuntimeError("no TrueType font found for PDFs (the reportlab package ships Vera; is it installed?)")


@dataclass(frozen=True, slots=True)
class Formats:
    """Babel formatting for one document: the organization's locale, the document's currency."""

    locale: str
    currency: str

    @staticmethod
    def for_(locale: str | None, currency: str) -> Formats:
        try:
            Locale.parse(locale or "en_US")
        except (UnknownLocaleError, ValueError, TypeError):
            locale = "en_US"
        return Formats(locale or "en_US", currency)

    def money(self, amount: Decimal) -> str:
        return format_currency(quantize(amount, self.currency), self.currency, locale=self.locale)

    def number(self, value: Decimal) -> str:
        return format_decimal(trim(value), locale=self.locale, decimal_quantization=False)

    def percent(self, value: Decimal) -> str:
        return format_percent(trim(value) / 100, locale=self.locale, decimal_quantization=False)

    def date(self, value: dt.date | dt.datetime | None) -> str:
        if value is None:
            return ""
        return format_date(value.date() if isinstance(value, dt.datetime) else value, "medium", locale=self.locale)

    def page_size(self) -> tuple[float, float]:
        territory = Locale.parse(self.locale).territory
        return LETTER if territory in {"US", "CA", "MX", "PH", "CL", "CO", "VE"} else A4


def address_lines(address: dict[str, Any] | None) -> list[str]:
    """A postal address as printable lines, empty parts left out."""
    data = address or {}
    city_line = " ".join(part for part in (data.get("zip"), data.get("city")) if part)
    if data.get("state"):
        city_line = f"{city_line}, {data['state']}" if city_line else str(data["state"])
    parts = [data.get("attention"), data.get("street1"), data.get("street2"), city_line, data.get("country")]
    return [str(part) for part in parts if part]


def pdf_filename(stem: str) -> str:
    """A safe file name: ``INV-000012`` → ``INV-000012.pdf``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "document"
    return f"{cleaned[:100]}.pdf"


@dataclass(frozen=True, slots=True)
class Party:
    name: str
    lines: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PdfLine:
    name: str
    description: str | None
    quantity: Decimal
    rate: Decimal
    discount_percent: Decimal
    tax_name: str | None
    tax_percent: Decimal
    amount: Decimal
    tax_amount: Decimal


@dataclass(frozen=True, slots=True)
class DocumentData:
    kind: DocumentKind
    id: int
    contact_id: int
    number: str
    reference: str | None
    status: str  # the effective status: OVERDUE and EXPIRED derived from the dates
    issue_date: dt.date
    second_date_label: str
    second_date: dt.date | None
    currency: str
    locale: str
    organization: Party
    bill_to: Party
    lines: list[PdfLine]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    amount_paid: Decimal | None
    balance_due: Decimal | None
    notes: str | None
    terms: str | None
    accepted_by: str | None = None
    accepted_at: dt.datetime | None = None
    decline_reason: str | None = None
    organization_email: str | None = None

    @property
    def title(self) -> str:
        return "Estimate" if self.kind == "estimate" else "Invoice"

    @property
    def filename(self) -> str:
        return pdf_filename(self.number)

    def taxes(self) -> list[tuple[str, Decimal, Decimal]]:
        """Tax amounts grouped by name and rate, in order of first appearance: (name, percent, amount)."""
        groups: dict[tuple[str, Decimal], Decimal] = {}
        for line in self.lines:
            if line.tax_amount == 0 and line.tax_percent == 0:
                continue
            key = (line.tax_name or "Tax", trim(line.tax_percent))
            groups[key] = groups.get(key, Decimal(0)) + line.tax_amount
        return [(name, percent, amount) for (name, percent), amount in groups.items()]


@dataclass(frozen=True, slots=True)
class RenderedPdf:
    filename: str
    content: bytes


async def load_document(session: AsyncSession, scope: Scope, kind: DocumentKind, pk: int) -> DocumentData | None:
    """What the PDF of estimate or invoice ``pk`` shows, read through ``scope``; None outside it."""
    from resolvers import reads  # the effective-status expressions live with the other read queries

    table = T_ESTIMATE if kind == "estimate" else T_INVOICE
    stmt = (reads.estimates(scope) if kind == "estimate" else reads.invoices(scope)).where(table.c.id == pk)
    row = (await session.execute(stmt)).one_or_none()
    if row is None:
        return None
    contact = (await session.execute(scope.where_id(T_CONTACT, row.contact_id))).one()
    org = (await session.execute(scope.select(T_ORGANIZATION))).one()
    owner_column = T_LINE_ITEM.c.estimate_id if kind == "estimate" else T_LINE_ITEM.c.invoice_id
    line_rows = (
        await session.execute(
            scope.select(T_LINE_ITEM).where(owner_column == pk).order_by(T_LINE_ITEM.c.position, T_LINE_ITEM.c.id)
        )
    ).all()
    currency = row.currency
    bill_to_lines = (
        [contact.company_name] if contact.company_name and contact.company_name != contact.display_name else []
    )
    bill_to_lines += address_lines(contact.billing_address)
    if contact.email:
        bill_to_lines.append(contact.email)
    org_lines = address_lines(org.address) + ([org.email] if org.email else [])
    is_invoice = kind == "invoice"
    return DocumentData(
        kind=kind,
        id=row.id,
        contact_id=row.contact_id,
        number=row.number,
        reference=row.reference,
        status=row.effective_status,
        issue_date=row.issue_date,
        second_date_label="Due date" if is_invoice else "Expiry date",
        second_date=row.due_date if is_invoice else row.expiry_date,
        currency=currency,
        locale=org.locale,
        organization=Party(org.name, org_lines),
        bill_to=Party(contact.display_name, bill_to_lines),
        lines=[
            PdfLine(
                name=line.name,
                description=line.description,
                quantity=line.quantity,
                rate=line.rate,
                discount_percent=line.discount_percent,
                tax_name=line.tax_name,
                tax_percent=line.tax_percent,
                amount=quantize(line.amount, currency),
                tax_amount=quantize(line.tax_amount, currency),
            )
            for line in line_rows
        ],
        subtotal=quantize(row.subtotal, currency),
        tax_total=quantize(row.tax_total, currency),
        total=quantize(row.total, currency),
        amount_paid=quantize(row.amount_paid, currency) if is_invoice else None,
        balance_due=quantize(row.balance_due, currency) if is_invoice else None,
        notes=row.notes,
        terms=row.terms,
        accepted_by=None if is_invoice else row.signature_name,
        accepted_at=None if is_invoice else row.accepted_at,
        decline_reason=None if is_invoice else row.decline_reason,
        organization_email=org.email,
    )


@dataclass(frozen=True, slots=True)
class StatementData:
    statement: Statement
    organization: Party
    contact: Party
    locale: str

    @property
    def filename(self) -> str:
        s = self.statement
        return pdf_filename(f"statement-{s.contact_name}-{s.from_.isoformat()}-{s.to.isoformat()}")


async def load_statement(
    session: AsyncSession, scope: Scope, contact_id: int, from_: dt.date, to: dt.date
) -> StatementData | None:
    """What the statement PDF shows (``services.statement.compute_statement`` plus the parties); None outside."""
    statement = await compute_statement(session, scope, contact_id, from_, to)
    if statement is None:
        return None
    org = (await session.execute(scope.select(T_ORGANIZATION))).one()
    contact = (await session.execute(scope.where_id(T_CONTACT, contact_id))).one()
    contact_lines = (
        [contact.company_name] if contact.company_name and contact.company_name != contact.display_name else []
    )
    return StatementData(
        statement=statement,
        organization=Party(org.name, address_lines(org.address) + ([org.email] if org.email else [])),
        contact=Party(contact.display_name, contact_lines + address_lines(contact.billing_address)),
        locale=org.locale,
    )


async def to_pdf(data: DocumentData | StatementData) -> RenderedPdf:
    """Render in a worker thread (CPU work; keep no database connection open around this)."""
    render = render_document if isinstance(data, DocumentData) else render_statement
    return RenderedPdf(data.filename, await asyncio.to_thread(render, data))  # type: ignore[arg-type]


INK = colors.HexColor("#1f2933")


MUTED = colors.HexColor("#616e7c")


RULE = colors.HexColor("#cbd2d9")


HEADER_FILL = colors.HexColor("#f0f4f8")


STAMPS = {
    "PAID": ("PAID", colors.HexColor("#2f855a")),
    "ACCEPTED": ("ACCEPTED", colors.HexColor("#2f855a")),
    "INVOICED": ("INVOICED", colors.HexColor("#2b6cb0")),
    "PARTIALLY_PAID": ("PARTIALLY PAID", colors.HexColor("#b7791f")),
    "OVERDUE": ("OVERDUE", colors.HexColor("#c53030")),
    "DECLINED": ("DECLINED", colors.HexColor("#c53030")),
    "VOID": ("VOID", colors.HexColor("#c53030")),
    "EXPIRED": ("EXPIRED", colors.HexColor("#7b8794")),
    "DRAFT": ("DRAFT", colors.HexColor("#7b8794")),
}


MARGIN = 18 * mm


@dataclass
class _Styles:
    f: Fonts
    body: ParagraphStyle
    small: ParagraphStyle
    muted: ParagraphStyle
    org: ParagraphStyle
    title: ParagraphStyle
    label: ParagraphStyle
    right: ParagraphStyle
    small_right: ParagraphStyle
    right_bold: ParagraphStyle
    heading: ParagraphStyle

    @staticmethod
    def make() -> _Styles:
        f = fonts()
        body = ParagraphStyle("body", fontName=f.regular, fontSize=9, leading=12, textColor=INK)
        return _Styles(
            f=f,
            body=body,
            small=ParagraphStyle("small", parent=body, fontSize=8, leading=10),
            muted=ParagraphStyle("muted", parent=body, fontSize=8, leading=10, textColor=MUTED),
            org=ParagraphStyle("org", parent=body, fontName=f.bold, fontSize=14, leading=18),
            title=ParagraphStyle("title", parent=body, fontName=f.bold, fontSize=20, leading=24, alignment=TA_RIGHT),
            label=ParagraphStyle("label", parent=body, fontName=f.bold, fontSize=8, leading=10, textColor=MUTED),
            right=ParagraphStyle("right", parent=body, alignment=TA_RIGHT),
            small_right=ParagraphStyle("small_right", parent=body, fontSize=8, leading=10, alignment=TA_RIGHT),
            right_bold=ParagraphStyle("right_bold", parent=body, fontName=f.bold, alignment=TA_RIGHT),
            heading=ParagraphStyle("heading", parent=body, fontName=f.bold, fontSize=10, leading=14, spaceBefore=8),
        )

    def p(self, text: str | None, style: ParagraphStyle | None = None) -> Paragraph:
        """A paragraph of plain text: escaped for platypus' markup, line breaks kept."""
        safe = escape(self.f.fit(text or "")).replace("\n", "<br/>")
        return Paragraph(safe, style or self.body)


def _numbered_canvas(footer: Callable[[Canvas, int, int], None]) -> type[Canvas]:
    """A canvas that knows the page count when it draws each footer ("Page 2 of 5")."""

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._pages: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 (ReportLab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            for number, state in enumerate(self._pages, start=1):
                self.__dict__.update(state)
                footer(self, number, total)
                super().showPage()
            super().save()

    return NumberedCanvas


def _footer(styles: _Styles, left: str) -> Callable[[Canvas, int, int], None]:
    def draw(canvas: Canvas, number: int, total: int) -> None:
        width, _ = canvas._pagesize
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, 14 * mm, width - MARGIN, 14 * mm)
        canvas.setFont(styles.f.regular, 8)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, 10 * mm, styles.f.fit(left))
        canvas.drawRightString(width - MARGIN, 10 * mm, f"Page {number} of {total}")
        canvas.restoreState()

    return draw


def _stamp(styles: _Styles, status: str) -> Callable[[Canvas, Any], None]:
    def draw(canvas: Canvas, doc: Any) -> None:
        if status not in STAMPS:
            return
        text, color = STAMPS[status]
        width, height = canvas._pagesize
        canvas.saveState()
        canvas.translate(width - MARGIN - 38 * mm, height - MARGIN - 62 * mm)
        canvas.rotate(12)
        canvas.setFillAlpha(0.85)
        canvas.setStrokeColor(color)
        canvas.setFillColor(color)
        canvas.setLineWidth(2)
        font_size = 20 if len(text) <= 8 else 14
        text_width = pdfmetrics.stringWidth(text, styles.f.bold, font_size)
        box_width = text_width + 8 * mm
        canvas.roundRect(-box_width / 2, -5 * mm, box_width, 13 * mm, 2 * mm, stroke=1, fill=0)
        canvas.setFont(styles.f.bold, font_size)
        canvas.drawCentredString(0, -1.2 * mm, text)
        canvas.restoreState()

    return draw


def _header(styles: _Styles, width: float, org: Party, title: str, meta: list[tuple[str, str]]) -> Table:
    left = [styles.p(org.name, styles.org), styles.p("\n".join(org.lines), styles.muted)]
    meta_table = Table(
        [[styles.p(label, styles.label), styles.p(value, styles.right)] for label, value in meta],
        colWidths=[28 * mm, width * 0.42 - 28 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                ("TOPPADDING", (0, 0), (-1, -1), 1),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        ),
        hAlign="RIGHT",
    )
    right = [styles.p(title.upper(), styles.title), Spacer(1, 3 * mm), meta_table]
    return Table(
        [[left, right]],
        colWidths=[width * 0.58, width * 0.42],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        ),
    )


def _party_block(styles: _Styles, heading: str, party: Party) -> list[Any]:
    return [
        styles.p(heading.upper(), styles.label),
        Spacer(1, 1 * mm),
        styles.p(party.name, ParagraphStyle("party", parent=styles.body, fontName=styles.f.bold)),
        styles.p("\n".join(party.lines), styles.body),
    ]


def _grid_style(columns_right_from: int, rows: int, font: str) -> TableStyle:
    return TableStyle(
        [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("FONTSIZE", (0, 0), (-1, -1), 9),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), HEADER_FILL),
            ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
            ("LINEBELOW", (0, 1), (-1, rows - 1), 0.25, RULE),
            ("ALIGN", (columns_right_from, 0), (-1, -1), "RIGHT"),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ]
    )


def _totals(styles: _Styles, rows: list[tuple[str, str, bool]], width: float) -> Table:
    data = []
    for label, value, bold in rows:
        style = styles.right_bold if bold else styles.right
        data.append([styles.p(label, style), styles.p(value, style)])
    commands: list[tuple[Any, ...]] = [
        ("LEFTPADDING", (0, 0), (-1, -1), 2),
        ("RIGHTPADDING", (0, 0), (-1, -1), 2),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for index, (_, _, bold) in enumerate(rows):
        if bold:
            commands.append(("LINEABOVE", (0, index), (-1, index), 0.8, INK))
    return Table(data, colWidths=[width * 0.28, width * 0.2], style=TableStyle(commands), hAlign="RIGHT")


def _build(
    pagesize: tuple[float, float],
    story: list[Any],
    *,
    title: str,
    author: str,
    subject: str,
    footer: Callable[[Canvas, int, int], None],
    first_page: Callable[[Canvas, Any], None],
) -> bytes:
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=22 * mm,
        title=title,
        author=author,
        subject=subject,
        creator="Portico",
        invariant=1,  # no timestamps or random ids: the same document renders to the same bytes
    )
    with _RENDER_LOCK:
        doc.build(story, onFirstPage=first_page, canvasmaker=_numbered_canvas(footer))
    return buffer.getvalue()


def _status_label(status: str) -> str:
    return status.replace("_", " ").capitalize()


def render_document(data: DocumentData) -> bytes:
    """The PDF bytes of an estimate or invoice."""
    styles = _Styles.make()
    fmt = Formats.for_(data.locale, data.currency)
    pagesize = fmt.page_size()
    width = pagesize[0] - 2 * MARGIN

    meta = [(f"{data.title} #", data.number), ("Issue date", fmt.date(data.issue_date))]
    if data.second_date:
        meta.append((data.second_date_label, fmt.date(data.second_date)))
    if data.reference:
        meta.append(("Reference", data.reference))
    meta.append(("Status", _status_label(data.status)))
    if data.balance_due is not None:
        meta.append(("Balance due", fmt.money(data.balance_due)))
    else:
        meta.append(("Total", fmt.money(data.total)))

    story: list[Any] = [_header(styles, width, data.organization, data.title, meta), Spacer(1, 8 * mm)]
    story += _party_block(styles, "Bill to", data.bill_to)
    story.append(Spacer(1, 7 * mm))

    with_discount = any(line.discount_percent for line in data.lines)
    header = ["#", "Item", "Qty", "Rate", *(["Disc."] if with_discount else []), "Tax", "Amount"]
    right_label = ParagraphStyle("right_label", parent=styles.label, alignment=TA_RIGHT)
    rows: list[list[Any]] = [
        [styles.p(label, right_label if index >= 2 else styles.label) for index, label in enumerate(header)]
    ]
    fit = styles.f.fit
    for index, line in enumerate(data.lines, start=1):
        item = escape(fit(line.name))
        if line.description:
            description = escape(fit(line.description)).replace("\n", "<br/>")
            item += f'<br/><font size="8" color="#616e7c">{description}</font>'
        tax = "—"
        if line.tax_percent:
            tax = f"{line.tax_name + ' ' if line.tax_name else ''}{fmt.percent(line.tax_percent)}"
        discount = [fmt.percent(line.discount_percent) if line.discount_percent else "—"] if with_discount else []
        rows.append(
            [
                str(index),
                Paragraph(item, styles.body),
                fit(fmt.number(line.quantity)),
                fit(fmt.money(line.rate)),
                *(fit(value) for value in discount),
                styles.p(tax, styles.small_right),
                fit(fmt.money(line.amount)),
            ]
        )
    numeric = [14 * mm, 24 * mm, *([14 * mm] if with_discount else []), 30 * mm, 27 * mm]
    table = Table(rows, colWidths=[9 * mm, width - 9 * mm - sum(numeric), *numeric], repeatRows=1)
    table.setStyle(_grid_style(2, len(rows), styles.f.regular))
    story.append(table)
    story.append(Spacer(1, 4 * mm))

    totals = [("Subtotal", fmt.money(data.subtotal), False)]
    for name, percent, amount in data.taxes():
        totals.append((f"{name} ({fmt.percent(percent)})", fmt.money(amount), False))
    totals.append(("Total", fmt.money(data.total), True))
    if data.amount_paid is not None and data.balance_due is not None:
        totals.append(("Amount paid", fmt.money(data.amount_paid), False))
        totals.append(("Balance due", fmt.money(data.balance_due), True))
    story.append(KeepTogether(_totals(styles, totals, width)))

    if data.accepted_at:
        who = f" by {data.accepted_by}" if data.accepted_by else ""
        story += [Spacer(1, 4 * mm), styles.p(f"Accepted{who} on {fmt.date(data.accepted_at)}.", styles.body)]
    if data.decline_reason and data.status == "DECLINED":
        story += [Spacer(1, 4 * mm), styles.p(f"Declined: {data.decline_reason}", styles.body)]
    for heading, text in (("Notes", data.notes), ("Terms and conditions", data.terms)):
        if text:
            story.append(KeepTogether([styles.p(heading, styles.heading), styles.p(text, styles.body)]))

    return _build(
        pagesize,
        story,
        title=f"{data.title} {data.number}",
        author=data.organization.name,
        subject=f"{data.title} {data.number} for {data.bill_to.name}",
        footer=_footer(styles, f"{data.organization.name} · {data.title} {data.number}"),
        first_page=_stamp(styles, data.status),
    )


def render_statement(data: StatementData) -> bytes:
    """The PDF bytes of a statement of account."""
    statement, organization, contact, locale = data.statement, data.organization, data.contact, data.locale
    styles = _Styles.make()
    fmt = Formats.for_(locale, statement.currency)
    pagesize = fmt.page_size()
    width = pagesize[0] - 2 * MARGIN
    period = f"{fmt.date(statement.from_)} – {fmt.date(statement.to)}"
    meta = [
        ("Period", period),
        ("Opening balance", fmt.money(statement.opening_balance)),
        ("Invoiced", fmt.money(statement.invoiced)),
        ("Payments", fmt.money(statement.paid)),
        ("Closing balance", fmt.money(statement.closing_balance)),
    ]
    story: list[Any] = [_header(styles, width, organization, "Statement", meta), Spacer(1, 8 * mm)]
    story += _party_block(styles, "Statement for", contact)
    story.append(Spacer(1, 7 * mm))

    header = ["Date", "Details", "Amount", "Payment", "Balance"]
    right_label = ParagraphStyle("hr", parent=styles.label, alignment=TA_RIGHT)
    rows: list[list[Any]] = [
        [styles.p(label, right_label if index >= 2 else styles.label) for index, label in enumerate(header)]
    ]
    rows.append(
        [
            styles.f.fit(fmt.date(statement.from_)),
            "Opening balance",
            "",
            "",
            _fit_money(styles, fmt, statement.opening_balance),
        ]
    )
    for line in statement.lines:
        details = line.description
        if line.kind == "INVOICE" and line.due_date:
            details += f" (due {fmt.date(line.due_date)})"
        if line.kind == "PAYMENT" and line.number:
            details += f" · ref. {line.number}"
        rows.append(
            [
                styles.f.fit(fmt.date(line.date)),
                styles.p(details),
                _fit_money(styles, fmt, line.charge) if line.kind == "INVOICE" else "",
                _fit_money(styles, fmt, line.payment) if line.kind == "PAYMENT" else "",
                _fit_money(styles, fmt, line.balance),
            ]
        )
    rows.append(
        [
            styles.f.fit(fmt.date(statement.to)),
            "Closing balance",
            "",
            "",
            _fit_money(styles, fmt, statement.closing_balance),
        ]
    )
    numeric = [28 * mm, 28 * mm, 30 * mm]
    table = Table(rows, colWidths=[26 * mm, width - 26 * mm - sum(numeric), *numeric], repeatRows=1)
    table.setStyle(_grid_style(2, len(rows), styles.f.regular))
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 1), (-1, 1), styles.f.bold),
                ("FONTNAME", (0, len(rows) - 1), (-1, len(rows) - 1), styles.f.bold),
                ("LINEABOVE", (0, len(rows) - 1), (-1, len(rows) - 1), 0.8, INK),
            ]
        )
    )
    story.append(table)
    story.append(Spacer(1, 4 * mm))
    story.append(KeepTogether(_totals(styles, [("Balance due", fmt.money(statement.closing_balance), True)], width)))
    return _build(
        pagesize,
        story,
        title=f"Statement {period}",
        author=organization.name,
        subject=f"Statement of account for {contact.name}",
        footer=_footer(styles, f"{organization.name} · Statement for {contact.name}"),
        first_page=lambda canvas, doc: None,
    )


def _fit_money(styles: _Styles, fmt: Formats, amount: Decimal) -> str:
    return styles.f.fit(fmt.money(amount))


def demo_invoice(
    line_count: int = 24, *, status: str = "PAID", locale: str = "en_US", currency: str = "USD"
) -> DocumentData:
    """A made-up invoice to look at the layout (``python -m services.documents.pdf demo.pdf``), no database needed."""
    from core.money import LineInput, compute_totals

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
    paid = totals.total if status == "PAID" else Decimal(0)
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


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "demo-invoice.pdf")
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    target.write_bytes(render_document(demo_invoice(count)))
    print(f"wrote {target}; look at page 1 with: pdftoppm -png -r 80 -f 1 -l 1 {target} {target.with_suffix('')}")
