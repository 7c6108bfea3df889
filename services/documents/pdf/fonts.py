"""Fonts for the PDFs: DejaVu Sans when the system has it (wide coverage: ₹, narrow no-break space, …), else the
Vera fonts that ship inside the reportlab wheel (Latin-1 and €), so rendering works on any machine."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import reportlab
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

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
