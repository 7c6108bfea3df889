"""PDFs of estimates, invoices and statements, rendered with ReportLab's platypus.

Why ReportLab: mature (25 years, still released), installs from PyPI as wheels with no system libraries
(WeasyPrint needs Pango and friends), and platypus does what a long invoice needs out of the box: tables that
split across pages repeating their header row (``repeatRows``), and page decorations (footer, page numbers,
status stamp) drawn by page callbacks. Amounts, quantities, percentages and dates are formatted with Babel in
the organization's locale and the document's currency.

Loading (``data``) goes through the viewer's ``Scope`` (a row outside it is "not found"); rendering (``document``,
``statement`` on the shared ``layout``) is plain CPU work and runs in a worker thread: ``render_*`` are
synchronous, ``to_pdf`` wraps them.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from services.documents.pdf.data import (
    DocumentData,
    DocumentKind,
    Party,
    PdfLine,
    StatementData,
    load_document,
    load_statement,
)
from services.documents.pdf.demo import demo_invoice
from services.documents.pdf.document import render_document
from services.documents.pdf.formats import Formats, address_lines, pdf_filename
from services.documents.pdf.layout import STAMPS
from services.documents.pdf.statement import render_statement

__all__ = [
    "STAMPS",
    "DocumentData",
    "DocumentKind",
    "Formats",
    "Party",
    "PdfLine",
    "RenderedPdf",
    "StatementData",
    "address_lines",
    "demo_invoice",
    "load_document",
    "load_statement",
    "pdf_filename",
    "render_document",
    "render_statement",
    "to_pdf",
]


@dataclass(frozen=True, slots=True)
class RenderedPdf:
    """A rendered PDF and the file name to offer it under."""

    filename: str
    content: bytes


async def to_pdf(data: DocumentData | StatementData) -> RenderedPdf:
    """Render in a worker thread (CPU work; keep no database connection open around this)."""
    if isinstance(data, DocumentData):
        return RenderedPdf(data.filename, await asyncio.to_thread(render_document, data))
    return RenderedPdf(data.filename, await asyncio.to_thread(render_statement, data))
