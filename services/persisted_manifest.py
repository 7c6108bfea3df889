"""Build ``persisted-documents.json`` from ``operations/**/*.graphql`` (one operation per file).

The manifest maps the SHA-256 of each document's text to the text: the format GraphQL Codegen's client preset
writes (``persistedDocuments: true``), so a frontend's generated file can replace or extend ours as it is.
``python -m services.persisted_manifest --write`` rewrites it; ``--check`` fails when it is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import orjson

from core.persisted import sha256_hex
from core.settings import PROJECT_ROOT

OPERATIONS = PROJECT_ROOT / "operations"
MANIFEST = PROJECT_ROOT / "persisted-documents.json"


def documents(folder: Path = OPERATIONS) -> dict[str, str]:
    found = {}
    for path in sorted(folder.rglob("*.graphql")):
        text = path.read_text().strip()
        found[sha256_hex(text)] = text
    return found


def render(folder: Path = OPERATIONS) -> bytes:
    return orjson.dumps(documents(folder), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    content = render()
    if args.write:
        MANIFEST.write_bytes(content)
        print(f"wrote {MANIFEST.name}: {len(documents())} operations")
        return 0
    if args.check and (not MANIFEST.is_file() or MANIFEST.read_bytes() != content):
        print(f"{MANIFEST.name} is stale: run `make persisted`", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
