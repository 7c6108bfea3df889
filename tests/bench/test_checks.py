"""The benchmark refuses to report what it did not measure: every answer wrk counts is checked (status, data, the
path header), parity compares values and key order, the peer's data is compared on what both can say, and a
target is `invalid` when its figure rests on bad answers."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from bench.harness import serve
from bench.load import ABSENT, Load, Result, lua_string, wrk
from bench.peers import same_invoices
from bench.report import Row, Target, judge
from bench.run import first_difference

needs_wrk = pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")


@pytest.mark.slow
@needs_wrk
def test_every_answer_is_checked_for_its_path_and_for_data() -> None:
    # given a server answering on known paths, with data or with errors
    with serve("tests.bench.answers_app:app", {}) as url:
        # when wrk loads each route expecting a path
        planned = wrk("planned", Load(url + "/planned", path="planned"), 1, 1)
        elsewhere = wrk("elsewhere", Load(url + "/planned", path="executed"), 1, 1)
        absent = wrk("absent", Load(url + "/no-header", path=ABSENT), 1, 1)
        refused = wrk("refused", Load(url + "/refused", path="executed"), 1, 1)
        bodies = tuple(json.dumps({"body": word}) for word in ("good", "good \u00e9t\u00e9", "bad"))
        mutation = wrk("mutation", Load(url + "/mutation", bodies, path="executed", must_contain='"Comment"'), 1, 1)
    # then only the answers on the expected path, with data, count as good
    assert planned.valid and planned.answers > 0
    assert not elsewhere.valid and elsewhere.wrong_path == elsewhere.answers
    assert absent.valid
    assert not refused.valid and refused.failed == refused.answers and refused.wrong_path == 0
    # (bodies are sent in turn, non-ASCII ones too: one in three answers is the error type)
    assert 0 < mutation.failed < mutation.answers


def test_lua_strings_escape_every_byte_that_is_not_printable_ascii() -> None:
    assert lua_string('a"b\\c\n\u00e9') == '"a\\034b\\092c\\010\\195\\169"'


def test_parity_compares_values_types_and_key_order() -> None:
    answer = {"data": {"a": 1, "b": [{"x": "1.00"}]}}
    assert first_difference(answer, json.loads(json.dumps(answer))) is None
    assert first_difference(answer, {"data": {"b": [{"x": "1.00"}], "a": 1}}) == "/data: keys ['a', 'b'] != ['b', 'a']"
    assert first_difference(answer, {"data": {"a": 1.0, "b": [{"x": "1.00"}]}}) == "/data/a: 1 != 1.0"
    assert first_difference(answer, {"data": {"a": 1, "b": [{"x": "1.0"}]}}) == '/data/b/0/x: "1.00" != "1.0"'
    assert first_difference(answer, {"data": {"a": 1, "b": []}}) == "/data/b: 1 items != 0"


def _app_answer(status: str = "OVERDUE", amount: str = "10.00") -> dict[str, Any]:
    node = {
        "id": "SW52b2ljZTox", "number": "INV-1", "status": status, "kind": "REGULAR", "issueDate": "2026-01-02",
        "dueDate": "2026-02-01", "currency": "USD", "total": "10.83", "balanceDue": "5.83", "viewed": False,
        "commentCount": 1, "lineItems": [{"name": "A", "quantity": "1", "rate": amount, "amount": amount,
                                          "taxAmount": "0.83"}],
        "payments": [{"amount": "5.00", "paymentDate": "2026-01-05", "mode": "CASH", "status": "SUCCEEDED"}],
    }  # fmt: skip
    page = {"hasNextPage": False, "endCursor": "x"}
    return {"data": {"invoices": {"totalCount": 1, "pageInfo": page, "edges": [{"cursor": "x", "node": node}]}}}


def _peer_answer() -> dict[str, Any]:
    node = {
        "id": "1", "number": "INV-1", "status": "SENT", "kind": "REGULAR", "issueDate": "2026-01-02",
        "dueDate": "2026-02-01", "currency": "USD", "total": "10.8300", "balanceDue": "5.8300", "viewedAt": None,
        "commentsByInvoiceId": {"totalCount": 3},
        "lineItemsByInvoiceId": {"nodes": [{"name": "A", "quantity": "1.0000", "rate": "10.0000",
                                            "amount": "10.0000", "taxAmount": "0.8300"}]},
        "paymentAllocationsByInvoiceId": {"nodes": [{"amount": "5.0000", "paymentByPaymentId": {
            "id": "7", "paymentDate": "2026-01-05", "mode": "CASH", "status": "SUCCEEDED"}}]},
    }  # fmt: skip
    page = {"hasNextPage": False, "endCursor": "y"}
    return {"data": {"allInvoices": {"totalCount": 1, "pageInfo": page, "edges": [{"cursor": "y", "node": node}]}}}


def test_the_peer_is_compared_on_what_both_answers_can_say() -> None:
    # the amounts' form, the ids, the cursors and the comment count differ; a derived OVERDUE is the stored SENT
    assert same_invoices(_app_answer(), _peer_answer()) is None
    assert same_invoices(_app_answer(status="PAID"), _peer_answer()) == "status PAID != SENT"
    assert "invoice INV-1" in (same_invoices(_app_answer(amount="10.01"), _peer_answer()) or "")


def _result(label: str, rps: float, p99: float = 1.0, failed: int = 0, concurrency: int = 32) -> Result:
    return Result(label, concurrency, rps, 1.0, p99, 100, 0, failed, 0)


def test_targets_are_met_missed_or_invalid() -> None:
    raw = _result("raw Q1", 1000)
    rows = [
        Row("Q1", "", _result("Q1", 400), "planned", raw, (Target("raw", 0.35, 32), Target("postgraphile", 1.5, 32))),
        Row("Q2", "", _result("Q2", 300), "executed", raw, (Target("raw", 0.35, 32),)),
        Row("Q2p", "", _result("Q2p", 900, failed=1), "executed", raw, (Target("raw", 0.8, 32),)),
        Row("M1", "", _result("M1", 300, p99=30, concurrency=1), "executed", None, (Target("p99", 25, 1),)),
    ]
    verdicts = judge(rows, {32: _result("postgraphile Q1", 200)})
    assert [(v.row.label, v.target.measure, v.status) for v in verdicts] == [
        ("Q1", "raw", "met"),
        ("Q1", "postgraphile", "met"),
        ("Q2", "raw", "missed"),
        ("Q2p", "raw", "invalid"),
        ("M1", "p99", "missed"),
    ]
    assert verdicts[0].line() == "Q1 c32 ratio_to_raw=0.40 target=0.35 met path=planned"
    assert verdicts[4].line() == "M1 c1 p99_ms=30.00 target=25 missed path=executed"
