"""In production the app refuses to start on a combination that is unsafe there, and says which setting to change."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from core.settings import Settings


def production(**values: object) -> Settings:
    return Settings(_env_file=None, environment="production", **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("values", "named"),
    [
        ({"simulated_payments": True}, "SIMULATED_PAYMENTS"),
        ({"cookie_secure": False}, "COOKIE_SECURE"),
        ({"stripe_secret_key": "sk_live_x"}, "STRIPE_WEBHOOK_SECRET"),
        ({"persisted_manifest": "/nonexistent/persisted-documents.json"}, "PERSISTED_MANIFEST"),
        ({"persisted_manifest": None}, "PERSISTED_MANIFEST"),
    ],
)
def test_an_unsafe_production_combination_is_refused_by_name(values: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError, match=named):
        production(**values)


def test_the_same_values_are_accepted_outside_production_and_a_safe_production_starts() -> None:
    for values in ({"cookie_secure": False}, {"stripe_secret_key": "sk_test_x"}):
        Settings(_env_file=None, environment="development", **values)  # type: ignore[call-arg]
    safe = production(stripe_secret_key="sk_live_x", stripe_webhook_secret="whsec_x")
    assert safe.secure_cookies and not safe.simulated_payments_enabled
