"""Reading PDFs back in tests: the text of each page (pypdf), with Babel's no-break spaces made plain."""

from __future__ import annotations

import re
from io import BytesIO

from pypdf import PdfReader


def pdf_pages(content: bytes) -> list[list[str]]:
    """The text lines of each page, stripped, no-break spaces and runs of blanks folded to one space."""
    assert content.startswith(b"%PDF-"), content[:40]
    reader = PdfReader(BytesIO(content))
    pages = []
    for page in reader.pages:
        text = re.sub(r"[ \u00a0\u202f\t]+", " ", page.extract_text() or "")
        pages.append([line.strip() for line in text.splitlines() if line.strip()])
    return pages


def pdf_lines(content: bytes) -> list[str]:
    return [line for page in pdf_pages(content) for line in page]


def value_after(lines: list[str], label: str) -> str:
    """The line that follows ``label`` (label/value pairs come out of pypdf as consecutive lines)."""
    index = lines.index(label)
    return lines[index + 1]
