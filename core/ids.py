"""Opaque global ids: base64url of ``Type:pk``."""

from __future__ import annotations

import base64
import binascii
import re

# every id prefix node(id) resolves (resolvers/node.py; tests/access/test_node.py keeps the two lists equal)
NODE_TYPES = frozenset(
    {
        "Organization",
        "StaffUser",
        "Contact",
        "ContactPerson",
        "Estimate",
        "Invoice",
        "Payment",
        "Project",
        "Task",
        "TimeEntry",
        "Comment",
        "Review",
        "Activity",
        "SavedPaymentMethod",
        "Session",
    }
)

MAX_PK = 2**63 - 1  # PostgreSQL BIGINT
# ASCII digits only ([0-9], not \d), no sign, no leading zero: the one spelling str(pk) produces
_PK = re.compile(r"[1-9][0-9]{0,18}")
_MAX_ID_LENGTH = 60  # base64 of the longest type name, ":" and 19 digits


def to_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """``(type, pk)`` for an id exactly as ``to_global_id`` writes it; None otherwise (callers: not found).

    One spelling per object: ``" 5"``, ``"05"``, ``"+5"``, ``"٥"``, padding or stray characters would all decode
    to the same row through ``int()`` and a lenient base64 decoder, so the id is re-encoded and compared.
    """
    if not isinstance(global_id, str) or len(global_id) > _MAX_ID_LENGTH:
        return None
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        decoded = base64.urlsafe_b64decode(padded.encode()).decode()
    except (binascii.Error, UnicodeError, ValueError):
        return None
    type_name, separator, raw_pk = decoded.partition(":")
    if not separator or type_name not in NODE_TYPES or not _PK.fullmatch(raw_pk):
        return None
    pk = int(raw_pk)
    if pk > MAX_PK or to_global_id(type_name, pk) != global_id:
        return None
    return type_name, pk


def decode_id(global_id: str, *type_names: str) -> int | None:
    """The primary key if ``global_id`` names one of ``type_names``; None otherwise."""
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] not in type_names:
        return None
    return decoded[1]
