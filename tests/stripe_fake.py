"""A small fake of Stripe's HTTP API for tests, driven by the real ``stripe`` library (``STRIPE_API_BASE``).

It implements what Portico calls — customers; payment methods retrieve/attach/detach; payment intents
create/retrieve/confirm/cancel — with Stripe's idempotency rules: the first result of an ``Idempotency-Key``
is saved and replayed (``Idempotent-Replayed: true``), the same key with other parameters or another endpoint
answers 400 ``idempotency_error``, a key still in flight answers 409. Requests that fail before doing
anything (the 500 switch, authentication) save nothing, like Stripe's requests that never started executing.

Payment methods behave by how they were registered (``card(behavior=…)``, ``bank_account(…)``):
``succeed``, ``decline`` (card_declined / generic_decline), ``insufficient_funds``, ``expired_card``,
``three_d_secure`` (requires_action), and bank accounts go ``processing`` until ``settle``.
Switches: ``fail_next(path, "500" | "drop_before" | "drop_after")`` — a 500 without acting, a dropped
connection before acting, or acting and then dropping the connection so the response is lost.
Stripe-side changes for webhook tests: ``complete_action``, ``settle``, ``refund``, and ``event`` builds a
webhook event; ``sign`` produces the ``Stripe-Signature`` header.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

SECRET_KEY = "sk_test_portico_fake"
WEBHOOK_SECRET = "whsec_portico_fake"

_ids = itertools.count(1)


def _new_id(prefix: str) -> str:
    return f"{prefix}_{next(_ids):06d}{secrets.token_hex(4)}"


def parse_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Stripe's form encoding (``a[b][0]=x``) back into nested dicts and lists."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = root
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
    return _lists(root)


def _lists(node: Any) -> Any:
    if isinstance(node, dict):
        if node and all(key.isdigit() for key in node):
            return [_lists(node[key]) for key in sorted(node, key=int)]
        return {key: _lists(value) for key, value in node.items()}
    return node


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, Any]
    idempotency_key: str | None
    outcome: str = "answered"  # answered, replayed, failed_500, dropped_before, dropped_after, conflict


@dataclass
class _Saved:
    fingerprint: str
    status: int
    body: dict[str, Any]


@dataclass
class FakeStripe:
    secret_key: str = SECRET_KEY
    requests: list[Recorded] = field(default_factory=list)
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_methods: dict[str, dict[str, Any]] = field(default_factory=dict)
    payment_intents: dict[str, dict[str, Any]] = field(default_factory=dict)
    charges: dict[str, dict[str, Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.RLock()
        self._saved: dict[str, _Saved] = {}
        self._in_flight: set[str] = set()
        self._failures: list[tuple[str, str]] = []
        self._behavior: dict[str, str] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # ---- life cycle ---------------------------------------------------------------------------------------

    def start(self) -> str:
        fake = self

        class Handler(_Handler):
            stripe = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.customers.clear()
            self.payment_methods.clear()
            self.payment_intents.clear()
            self.charges.clear()
            self._saved.clear()
            self._in_flight.clear()
            self._failures.clear()
            self._behavior.clear()

    # ---- set-up and inspection ----------------------------------------------------------------------------

    def card(
        self,
        behavior: str = "succeed",
        *,
        brand: str = "visa",
        last4: str = "4242",
        exp_month: int = 12,
        exp_year: int = 2034,
        customer: str | None = None,
    ) -> str:
        """Register a card PaymentMethod (as Stripe.js would create it) and return its id."""
        pm_id = _new_id("pm")
        details = {"brand": brand, "last4": last4, "exp_month": exp_month, "exp_year": exp_year}
        self._add_method(pm_id, "card", {"card": details}, behavior, customer)
        return pm_id

    def bank_account(
        self, behavior: str = "processing", *, bank_name: str = "STRIPE TEST BANK", last4: str = "6789"
    ) -> str:
        pm_id = _new_id("pm")
        details = {"bank_name": bank_name, "last4": last4, "account_type": "checking"}
        self._add_method(pm_id, "us_bank_account", {"us_bank_account": details}, behavior, None)
        return pm_id

    def _add_method(self, pm_id: str, kind: str, details: dict[str, Any], behavior: str, customer: str | None) -> None:
        with self._lock:
            self.payment_methods[pm_id] = {
                "id": pm_id,
                "object": "payment_method",
                "type": kind,
                "customer": customer,
                "created": int(time.time()),
                "livemode": False,
                "metadata": {},
                **details,
            }
            self._behavior[pm_id] = behavior

    def fail_next(self, path: str, kind: str = "500", count: int = 1) -> None:
        """The next ``count`` requests whose path matches the regex ``path`` fail as ``kind``."""
        with self._lock:
            self._failures.extend([(path, kind)] * count)

    def calls(self, method: str, path: str) -> list[Recorded]:
        """Recorded requests whose path matches the regex ``path`` (anchored at both ends)."""
        with self._lock:
            return [r for r in self.requests if r.method == method and re.fullmatch(path, r.path)]

    # ---- Stripe-side changes (what would happen at Stripe outside our requests) ---------------------------

    def complete_action(self, intent_id: str, *, succeed: bool = True) -> dict[str, Any]:
        """The payer finished (or failed) 3-D Secure."""
        with self._lock:
            intent = self.payment_intents[intent_id]
            if succeed:
                self._succeed(intent)
            else:
                self._fail(intent, "payment_intent_authentication_failure", None, "3-D Secure failed.")
            return json.loads(json.dumps(intent))

    def settle(self, intent_id: str, *, succeed: bool = True, code: str = "insufficient_funds") -> dict[str, Any]:
        """A processing (ACH) payment clears or fails."""
        with self._lock:
            intent = self.payment_intents[intent_id]
            if succeed:
                self._succeed(intent)
            else:
                self._fail(intent, code, None, "The bank debit failed.")
            return json.loads(json.dumps(intent))

    def refund(self, intent_id: str, amount: int | None = None) -> dict[str, Any]:
        """Refund (part of) a payment; returns the charge as a charge.refunded event carries it."""
        with self._lock:
            charge = self.charges[self.payment_intents[intent_id]["latest_charge"]]
            charge["amount_refunded"] = min(
                charge["amount"], charge["amount_refunded"] + (amount if amount is not None else charge["amount"])
            )
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            return json.loads(json.dumps(charge))

    def event(self, type_: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
        return {
            "id": event_id or _new_id("evt"),
            "object": "event",
            "api_version": "2026-01-01",
            "created": int(time.time()),
            "livemode": False,
            "type": type_,
            "data": {"object": obj},
        }

    @staticmethod
    def sign(payload: str, secret: str = WEBHOOK_SECRET, timestamp: int | None = None) -> str:
        stamp = int(time.time()) if timestamp is None else timestamp
        digest = hmac.new(secret.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256).hexdigest()
        return f"t={stamp},v1={digest}"

    # ---- request handling ----------------------------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict[str, Any], headers: dict[str, str]) -> tuple[str, int, Any]:
        """Returns (action, status, body); action is "answer", "drop" (close without answering)."""
        key = headers.get("idempotency-key")
        record = Recorded(method, path, params, key)
        with self._lock:
            self.requests.append(record)
            failure = self._take_failure(path)
            if failure in ("500", "drop_before"):
                record.outcome = "failed_500" if failure == "500" else "dropped_before"
                if failure == "drop_before":
                    return "drop", 0, None
                return "answer", 500, _error("api_error", "Something went wrong on Stripe's end.")
            if headers.get("authorization") != f"Bearer {self.secret_key}":
                return "answer", 401, _error("invalid_request_error", "Invalid API Key provided.")
            fingerprint = json.dumps([method, path, params], sort_keys=True)
            if key is not None and method == "POST":
                saved = self._saved.get(key)
                if saved is not None:
                    if saved.fingerprint != fingerprint:
                        record.outcome = "idempotency_error"
                        return (
                            "answer",
                            400,
                            _error(
                                "idempotency_error",
                                "Keys for idempotent requests can only be used with the same parameters they were first"
                                " used with.",
                            ),
                        )
                    record.outcome = "replayed"
                    return "answer", saved.status, {**saved.body, "_replayed": True}
                if key in self._in_flight:
                    record.outcome = "conflict"
                    return (
                        "answer",
                        409,
                        _error(
                            "invalid_request_error",
                            "Another request with this key is in progress.",
                            "idempotency_key_in_use",
                        ),
                    )
                self._in_flight.add(key)
            try:
                status, body = self._route(method, path, params)
            finally:
                if key is not None:
                    self._in_flight.discard(key)
            if key is not None and method == "POST" and status not in (400, 401, 404):  # validation: not saved
                self._saved[key] = _Saved(fingerprint, status, json.loads(json.dumps(body)))
            if failure == "drop_after":
                record.outcome = "dropped_after"
                return "drop", 0, None
            return "answer", status, body

    def _take_failure(self, path: str) -> str | None:
        for index, (pattern, kind) in enumerate(self._failures):
            if re.fullmatch(pattern, path):
                del self._failures[index]
                return kind
        return None

    def _route(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        routes: list[tuple[str, str, Any]] = [
            ("POST", r"/v1/customers", self._create_customer),
            ("GET", r"/v1/payment_methods/(?P<id>[^/]+)", self._retrieve_method),
            ("POST", r"/v1/payment_methods/(?P<id>[^/]+)/attach", self._attach_method),
            ("POST", r"/v1/payment_methods/(?P<id>[^/]+)/detach", self._detach_method),
            ("POST", r"/v1/payment_intents", self._create_intent),
            ("GET", r"/v1/payment_intents/(?P<id>[^/]+)", self._retrieve_intent),
            ("POST", r"/v1/payment_intents/(?P<id>[^/]+)/confirm", self._confirm_intent),
            ("POST", r"/v1/payment_intents/(?P<id>[^/]+)/cancel", self._cancel_intent),
        ]
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                result: tuple[int, dict[str, Any]] = handler(params, **match.groupdict())
                return result
        return 404, _error("invalid_request_error", f"Unrecognized request URL ({method}: {path}).")

    def _create_customer(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        customer = {
            "id": _new_id("cus"),
            "object": "customer",
            "name": params.get("name"),
            "email": params.get("email"),
            "metadata": params.get("metadata", {}),
            "created": int(time.time()),
            "livemode": False,
        }
        self.customers[customer["id"]] = customer
        return 200, customer

    def _retrieve_method(self, params: dict[str, Any], id: str) -> tuple[int, dict[str, Any]]:
        method = self.payment_methods.get(id)
        if method is None:
            return 404, _missing("payment_method", id)
        return 200, method

    def _attach_method(self, params: dict[str, Any], id: str) -> tuple[int, dict[str, Any]]:
        method = self.payment_methods.get(id)
        if method is None:
            return 404, _missing("payment_method", id)
        if params.get("customer") not in self.customers:
            return 404, _missing("customer", params.get("customer"))
        method["customer"] = params["customer"]
        return 200, method

    def _detach_method(self, params: dict[str, Any], id: str) -> tuple[int, dict[str, Any]]:
        method = self.payment_methods.get(id)
        if method is None:
            return 404, _missing("payment_method", id)
        if method["customer"] is None:
            return 400, _error(
                "invalid_request_error",
                "The payment method is not attached to a customer.",
                "payment_method_not_attached",
            )
        method["customer"] = None
        return 200, method

    def _create_intent(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        try:
            amount = int(params["amount"])
        except (KeyError, ValueError):
            return 400, _error("invalid_request_error", "Missing or invalid amount.", "parameter_missing")
        if amount < 1 or not re.fullmatch(r"[a-z]{3}", params.get("currency", "")):
            return 400, _error("invalid_request_error", "Invalid amount or currency.", "parameter_invalid_integer")
        customer = params.get("customer")
        if customer is not None and customer not in self.customers:
            return 400, _missing("customer", customer)
        method_id = params.get("payment_method")
        if method_id is not None:
            method = self.payment_methods.get(method_id)
            if method is None:
                return 400, _missing("payment_method", method_id)
            if method["customer"] is not None and method["customer"] != customer:
                return 400, _error(
                    "invalid_request_error",
                    "The PaymentMethod is attached to another customer.",
                    "payment_method_invalid",
                )
            if method["type"] not in params.get("payment_method_types", ["card"]):
                return 400, _error(
                    "invalid_request_error", "The PaymentMethod's type is not allowed.", "payment_method_invalid"
                )
        intent_id = _new_id("pi")
        intent: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": amount,
            "amount_received": 0,
            "currency": params["currency"],
            "customer": customer,
            "payment_method": method_id,
            "payment_method_types": params.get("payment_method_types", ["card"]),
            "setup_future_usage": params.get("setup_future_usage"),
            "description": params.get("description"),
            "metadata": params.get("metadata", {}),
            "status": "requires_confirmation" if method_id else "requires_payment_method",
            "client_secret": f"{intent_id}_secret_{secrets.token_hex(8)}",
            "last_payment_error": None,
            "latest_charge": None,
            "next_action": None,
            "created": int(time.time()),
            "livemode": False,
        }
        self.payment_intents[intent_id] = intent
        if params.get("confirm") == "true":
            return self._confirm_intent({}, intent_id)
        return 200, intent

    def _retrieve_intent(self, params: dict[str, Any], id: str) -> tuple[int, dict[str, Any]]:
        intent = self.payment_intents.get(id)
        return (200, intent) if intent is not None else (404, _missing("payment_intent", id))

    def _confirm_intent(self, params: dict[str, Any], id: str) -> tuple[int, dict[str, Any]]:
        intent = self.payment_intents.get(id)
        if intent is None:
            return 404, _missing("payment_intent", id)
        if params.get("payment_method"):
            intent["payment_method"] = params["payment_method"]
        if intent["status"] not in ("requires_confirmation", "requires_payment_method") or not intent["payment_method"]:
            return 400, _unexpected_state(intent)
        method = self.payment_methods[intent["payment_method"]]
        behavior = self._behavior.get(method["id"], "succeed")
        if method["type"] == "us_bank_account":
            acceptance = (params.get("mandate_data") or {}).get("customer_acceptance") or {}
            if acceptance.get("type") != "online" or not (acceptance.get("online") or {}).get("ip_address"):
                return 400, _error("invalid_request_error", "mandate_data is required.", "parameter_missing")
            intent["status"] = "processing"
            self._attach_for_future_use(intent)
            return 200, intent
        if behavior == "three_d_secure":
            intent["status"] = "requires_action"
            intent["next_action"] = {"type": "use_stripe_sdk", "use_stripe_sdk": {}}
            return 200, intent
        declines = {
            "decline": ("card_declined", "generic_decline"),
            "insufficient_funds": ("card_declined", "insufficient_funds"),
            "expired_card": ("expired_card", None),
        }
        if behavior in declines:
            code, decline_code = declines[behavior]
            self._fail(intent, code, decline_code, "Your card was declined.")
            error = _error("card_error", "Your card was declined.", code)
            error["error"]["decline_code"] = decline_code
            error["error"]["payment_intent"] = json.loads(json.dumps(intent))
            return 402, error
        self._succeed(intent)
        return 200, intent

    def _cancel_intent(self, params: dict[str, Any], id: str) -> tuple[int, dict[str, Any]]:
        intent = self.payment_intents.get(id)
        if intent is None:
            return 404, _missing("payment_intent", id)
        if intent["status"] not in ("requires_payment_method", "requires_confirmation", "requires_action"):
            return 400, _unexpected_state(intent)
        intent["status"] = "canceled"
        intent["cancellation_reason"] = params.get("cancellation_reason")
        return 200, intent

    def _succeed(self, intent: dict[str, Any]) -> None:
        charge_id = _new_id("ch")
        self.charges[charge_id] = {
            "id": charge_id,
            "object": "charge",
            "amount": intent["amount"],
            "amount_refunded": 0,
            "refunded": False,
            "currency": intent["currency"],
            "payment_intent": intent["id"],
            "status": "succeeded",
            "paid": True,
            "metadata": intent["metadata"],
        }
        intent.update(status="succeeded", amount_received=intent["amount"], latest_charge=charge_id, next_action=None)
        self._attach_for_future_use(intent)

    def _fail(self, intent: dict[str, Any], code: str, decline_code: str | None, message: str) -> None:
        intent.update(
            status="requires_payment_method",
            next_action=None,
            last_payment_error={"type": "card_error", "code": code, "decline_code": decline_code, "message": message},
        )

    def _attach_for_future_use(self, intent: dict[str, Any]) -> None:
        if intent.get("setup_future_usage") and intent.get("customer"):
            self.payment_methods[intent["payment_method"]]["customer"] = intent["customer"]


def _error(type_: str, message: str, code: str | None = None) -> dict[str, Any]:
    return {"error": {"type": type_, "message": message, "code": code}}


def _missing(kind: str, id: Any) -> dict[str, Any]:
    return _error("invalid_request_error", f"No such {kind}: '{id}'", "resource_missing")


def _unexpected_state(intent: dict[str, Any]) -> dict[str, Any]:
    error = _error(
        "invalid_request_error",
        f"This PaymentIntent's status is {intent['status']}.",
        "payment_intent_unexpected_state",
    )
    error["error"]["payment_intent"] = json.loads(json.dumps(intent))
    return error


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    stripe: FakeStripe

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        return

    def _serve(self, method: str) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length).decode() if length else ""
        pairs = parse_qsl(body if method == "POST" else parts.query, keep_blank_values=True)
        headers = {key.lower(): value for key, value in self.headers.items()}
        action, status, payload = self.stripe.handle(method, parts.path, parse_form(pairs), headers)
        if action == "drop":
            self.close_connection = True
            return
        replayed = isinstance(payload, dict) and payload.pop("_replayed", False)
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("request-id", _new_id("req"))
        if replayed:
            self.send_header("idempotent-replayed", "true")
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._serve("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._serve("POST")
