"""Stage 1 of ``payInvoices``: the request — what is asked, by whom, and whether it may be asked here.

``check_request_shape`` and ``check_gateway_mode`` need no database; ``plan_amounts`` checks the request against
the invoices (locked by the caller) and decides what each invoice gets, from the server's balances.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from core.auth import PortalViewer
from core.database import Database
from core.errors import DomainError, invalid, not_found
from core.money import quantize
from core.settings import Settings
from services.documents.lines import money_amount
from services.payments.allocations import PAYABLE_STATUSES
from services.payments.gateway import is_configured
from subscriptions.broker import Broker

MAX_INVOICES = 100


# SIMULATED declines when given this payment method id (a demo of the failure path)
SIMULATED_DECLINE = "pm_simulated_decline"


PAYMENT_METHOD_ID = re.compile(r"pm_[A-Za-z0-9_]{1,250}")


@dataclass(frozen=True, slots=True)
class PayRequest:
    """A validated ``payInvoices`` input (ids decoded)."""

    invoice_ids: tuple[int, ...]
    amount: Decimal | None
    method_type: str  # CARD, ACH, SIMULATED
    saved_method_id: int | None
    stripe_method_id: str | None
    save_method: bool
    idempotency_key: str

    def fingerprint(self) -> str:
        """What makes two requests "the same" for their idempotency key."""
        canonical = {
            "invoices": sorted(self.invoice_ids),
            "amount": None if self.amount is None else str(self.amount.normalize()),
            "method": [self.method_type, self.saved_method_id, self.stripe_method_id],
            "save": self.save_method,
        }
        return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Payer:
    """The portal user paying, and where from (kept on the attempt: an ACH mandate names them)."""

    viewer: PortalViewer
    ip_address: str | None = None
    user_agent: str | None = None


@dataclass(frozen=True, slots=True)
class Deps:
    """What the flow needs from the process: the database, the broadcast broker, the settings."""

    db: Database
    broker: Broker
    settings: Settings


def simulated_offered(settings: Settings) -> bool:
    """SIMULATED (no money moves): never in production, only when allowed (default: development and tests) and
    never beside a configured Stripe account."""
    return settings.simulated_payments_enabled and not is_configured(settings)


def check_gateway_mode(settings: Settings, method_type: str) -> None:
    """CARD and ACH need Stripe; SIMULATED is only for demo and test installations without it."""
    if method_type == "SIMULATED" and not simulated_offered(settings):
        raise DomainError("SIMULATED_NOT_ALLOWED", "The simulated gateway is not available here.", "method.type")
    if method_type != "SIMULATED" and not is_configured(settings):
        raise DomainError("GATEWAY_NOT_CONFIGURED", "Online payments are not configured.", "method.type")


def check_request_shape(request: PayRequest) -> None:
    """Input rules that need no database."""
    if not request.invoice_ids or len(request.invoice_ids) > MAX_INVOICES:
        raise invalid(f"Pay 1 to {MAX_INVOICES} invoices at once.", "invoiceIds")
    if len(set(request.invoice_ids)) != len(request.invoice_ids):
        raise invalid("List each invoice once.", "invoiceIds")
    if request.amount is not None and len(request.invoice_ids) != 1:
        raise invalid("A partial amount can only be paid on one invoice.", "amount")
    if not 1 <= len(request.idempotency_key) <= 255 or not request.idempotency_key.isprintable():
        raise invalid("The idempotency key takes 1 to 255 printable characters.", "idempotencyKey")
    if request.stripe_method_id is not None and not PAYMENT_METHOD_ID.fullmatch(request.stripe_method_id):
        raise invalid("Not a Stripe PaymentMethod id (pm_…).", "method.stripePaymentMethodId")
    if request.method_type == "SIMULATED":
        if request.saved_method_id is not None or request.save_method:
            raise invalid("Simulated payments use no saved payment methods.", "method")
        return
    if (request.saved_method_id is None) == (request.stripe_method_id is None):
        raise invalid("Give a saved payment method or a Stripe PaymentMethod id.", "method")


def plan_amounts(invoices: dict[int, Any], request: PayRequest) -> tuple[str, list[tuple[int, Decimal]]]:
    """The currency and the amount for each invoice, from the server's balances (``invoices`` locked)."""
    rows = []
    for pk in request.invoice_ids:
        invoice = invoices.get(pk)
        if invoice is None:
            raise not_found("No invoice with this id.", "invoiceIds")
        rows.append(invoice)
    currency = rows[0].currency
    for invoice in rows:
        _check_payable(invoice, currency, request.method_type)
    if request.amount is not None:
        amount = money_amount(request.amount, currency, "amount")
        if amount > rows[0].balance_due:
            raise DomainError(
                "EXCEEDS_BALANCE",
                f"Invoice {rows[0].number} has {quantize(rows[0].balance_due, currency)} {currency} due.",
                "amount",
            )
        return currency, [(rows[0].id, amount)]
    return currency, [(invoice.id, quantize(invoice.balance_due, currency)) for invoice in rows]


def _check_payable(invoice: Any, currency: str, method_type: str) -> None:
    if invoice.currency != currency:
        raise DomainError("CURRENCY_MISMATCH", "Invoices paid together must share one currency.", "invoiceIds")
    if invoice.status == "PAID" or (invoice.status in PAYABLE_STATUSES and invoice.balance_due <= 0):
        raise DomainError("ALREADY_PAID", f"Invoice {invoice.number} is paid.", "invoiceIds")
    if invoice.status not in PAYABLE_STATUSES:
        raise DomainError("INVALID_STATE", f"Invoice {invoice.number} is {invoice.status}.", "invoiceIds")
    # SIMULATED stands in for a card payment, and obeys the invoice's gateways like one
    gateway = "CARD" if method_type == "SIMULATED" else method_type
    if gateway not in (invoice.payment_gateways or []):
        raise DomainError(
            "GATEWAY_NOT_ALLOWED",
            f"Invoice {invoice.number} cannot be paid by {method_type.lower()}.",
            "method.type",
        )
