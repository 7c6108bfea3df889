"""``python -m services.documents.pdf [target.pdf] [lines]``: render the demo invoice to look at the layout."""

from __future__ import annotations

import sys
from pathlib import Path

from services.documents.pdf import demo_invoice, render_document


def main(argv: list[str]) -> None:
    target = Path(argv[1] if len(argv) > 1 else "demo-invoice.pdf")
    count = int(argv[2]) if len(argv) > 2 else 24
    target.write_bytes(render_document(demo_invoice(count)))
    print(f"wrote {target}; look at page 1 with: pdftoppm -png -r 80 -f 1 -l 1 {target} {target.with_suffix('')}")


if __name__ == "__main__":
    main(sys.argv)
