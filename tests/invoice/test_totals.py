"""The rounding rule of core/money.py through the API, with hand-computed figures.

Per line: amount = quantity × rate × (1 − discount%), rounded half-up to the currency's minor unit; tax = amount ×
tax%, rounded the same way per line; the document sums them with no further rounding.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.client import GraphQLClient
from tests.factories import Factory
from tests.invoice.helpers import CREATE_ESTIMATE, CREATE_INVOICE, line, mutate, staff_session

CASES = [
    pytest.param(
        "USD",
        # 3 × 19.99 = 59.97, less 10 % = 53.973 → 53.97; 8.25 % of 53.97 = 4.452525 → 4.45
        [line("Widget", "3", "19.99", discountPercent="10", taxName="Sales tax", taxPercent="8.25")],
        [("53.97", "4.45")],
        ("53.97", "4.45", "58.42"),
        id="USD discount and tax",
    ),
    pytest.param(
        "USD",
        # tax is rounded per line: 10 % of 0.05 = 0.005 → 0.01 on each line, 0.02 in all (not 10 % of 0.10)
        [line("A", "1", "0.05", taxPercent="10"), line("B", "1", "0.05", taxPercent="10")],
        [("0.05", "0.01"), ("0.05", "0.01")],
        ("0.10", "0.02", "0.12"),
        id="USD tax rounded per line",
    ),
    pytest.param(
        "USD",
        # 2.5 × 3.33 = 8.325, less 15 % = 7.07625 → 7.08; 7 % of 7.08 = 0.4956 → 0.50
        # 1.5 × 0.99 = 1.485 → 1.49 (half-up); 7 % of 1.49 = 0.1043 → 0.10
        [
            line("Hours", "2.5", "3.33", discountPercent="15", taxPercent="7"),
            line("Parts", "1.5", "0.99", taxPercent="7"),
        ],
        [("7.08", "0.50"), ("1.49", "0.10")],
        ("8.57", "0.60", "9.17"),
        id="USD fractional quantities, half-up",
    ),
    pytest.param(
        "JPY",
        # 7 × 150 = 1050, less 15 % = 892.5 → 893 (half-up, 0 decimals); 10 % of 893 = 89.3 → 89
        # 3 × 333 = 999, less 10 % = 899.1 → 899; 8 % of 899 = 71.92 → 72
        [
            line("Tea", "7", "150", discountPercent="15", taxPercent="10"),
            line("Cups", "3", "333", discountPercent="10", taxPercent="8"),
        ],
        [("893", "89"), ("899", "72")],
        ("1792", "161", "1953"),
        id="JPY zero decimals",
    ),
    pytest.param(
        "KWD",
        # 1 × 1.234 = 1.234; 5 % of it = 0.0617 → 0.062 (three decimals)
        [line("Service", "1", "1.234", taxPercent="5")],
        [("1.234", "0.062")],
        ("1.234", "0.062", "1.296"),
        id="KWD three decimals",
    ),
]


@pytest.mark.parametrize(("currency", "lines", "line_totals", "totals"), CASES)
@pytest.mark.parametrize("mutation", [CREATE_INVOICE, CREATE_ESTIMATE], ids=["invoice", "estimate"])
async def test_totals_follow_the_rounding_rule(
    gql: GraphQLClient,
    factory: Factory,
    mutation: str,
    currency: str,
    lines: list[dict[str, Any]],
    line_totals: list[tuple[str, str]],
    totals: tuple[str, str, str],
) -> None:
    # given a contact billed in the currency
    staff = await staff_session(gql, factory)
    contact = await factory.contact(staff.tenant.org, currency=currency)
    # when a document is created with these lines
    result = await mutate(gql, mutation, {"input": {"contactId": contact.gid, "lineItems": lines}}, staff.token)
    # then every figure matches the hand computation
    assert result["currency"] == currency
    assert [(item["amount"], item["taxAmount"]) for item in result["lineItems"]] == line_totals
    assert (result["subtotal"], result["taxTotal"], result["total"]) == totals
    if "balanceDue" in result:
        assert result["balanceDue"] == totals[2]
