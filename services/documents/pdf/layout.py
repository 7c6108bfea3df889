"""The page furniture every PDF shares: colours, paragraph styles, the status stamp, header, party blocks, grids,
totals, numbered footers, and building the document (one render at a time per process)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from models.documents import Tone
from models.estimates import ESTIMATE_TONES
from models.invoices import INVOICE_TONES
from services.documents.pdf.data import Party
from services.documents.pdf.fonts import Fonts, fonts

_RENDER_LOCK = threading.Lock()  # ReportLab keeps some module-level state; one render at a time per process


INK = colors.HexColor("#1f2933")


MUTED = colors.HexColor("#616e7c")


RULE = colors.HexColor("#cbd2d9")


HEADER_FILL = colors.HexColor("#f0f4f8")


TONE_COLORS = {
    Tone.SETTLED: colors.HexColor("#2f855a"),
    Tone.ONWARD: colors.HexColor("#2b6cb0"),
    Tone.PENDING: colors.HexColor("#b7791f"),
    Tone.PROBLEM: colors.HexColor("#c53030"),
    Tone.INACTIVE: colors.HexColor("#7b8794"),
}


# every status of both vocabularies: its stamp (text, colour), or None where it reads "in play" and gets none
STAMPS: dict[str, tuple[str, Any] | None] = {
    status: (status.replace("_", " "), TONE_COLORS[tone]) if tone else None
    for status, tone in (*ESTIMATE_TONES.items(), *INVOICE_TONES.items())
}


MARGIN = 18 * mm


@dataclass
class Styles:
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
    def make() -> Styles:
        f = fonts()
        body = ParagraphStyle("body", fontName=f.regular, fontSize=9, leading=12, textColor=INK)
        return Styles(
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


def page_footer(styles: Styles, left: str) -> Callable[[Canvas, int, int], None]:
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


def status_stamp(styles: Styles, status: str) -> Callable[[Canvas, Any], None]:
    def draw(canvas: Canvas, doc: Any) -> None:
        stamp = STAMPS.get(status)
        if stamp is None:
            return
        text, color = stamp
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


def header(styles: Styles, width: float, org: Party, title: str, meta: list[tuple[str, str]]) -> Table:
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


def party_block(styles: Styles, heading: str, party: Party) -> list[Any]:
    return [
        styles.p(heading.upper(), styles.label),
        Spacer(1, 1 * mm),
        styles.p(party.name, ParagraphStyle("party", parent=styles.body, fontName=styles.f.bold)),
        styles.p("\n".join(party.lines), styles.body),
    ]


def grid_style(columns_right_from: int, rows: int, font: str) -> TableStyle:
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


def totals_table(styles: Styles, rows: list[tuple[str, str, bool]], width: float) -> Table:
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


def build(
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


def heading_row(styles: Styles, labels: list[str]) -> list[Any]:
    """A grid's heading row: the first two labels left-aligned, the numeric ones right-aligned."""
    right_label = ParagraphStyle("right_label", parent=styles.label, alignment=TA_RIGHT)
    return [styles.p(label, right_label if index >= 2 else styles.label) for index, label in enumerate(labels)]
