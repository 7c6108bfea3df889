"""Opaque global ids: base64url of ``Type:pk``."""

from __future__ import annotations

import base64
import binascii

NODE_TYPES = frozenset(
    {
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


def to_global_id(type_name: str, pk: int) -> str:
    return base64.urlsafe_b64encode(f"{type_name}:{pk}".encode()).decode().rstrip("=")


def from_global_id(global_id: str) -> tuple[str, int] | None:
    """``(type, pk)``, or None for anything malformed; callers treat None as not found."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, raw_pk = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        pk = int(raw_pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    if type_name not in NODE_TYPES or pk <= 0 or pk > 2**63 - 1:
        return None
    return type_name, pk


def decode_id(global_id: str, *type_names: str) -> int | None:
    """The primary key if ``global_id`` names one of ``type_names``; None otherwise."""
    decoded = from_global_id(global_id)
    if decoded is None or decoded[0] not in type_names:
        return None
    return decoded[1]
