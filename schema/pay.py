"""Online payments from the portal: ``payInvoices``, payment attempts and saved payment methods."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from enum import Enum
from typing import Annotated, Any

import strawberry

from core.ids import to_global_id
from schema.base import Node, UserError
from schema.document import Invoice
from schema.enums import PaymentGateway
from schema.payment import Payment
from schema.people import Contact


@strawberry.enum(
    description=(
        "How the portal user pays. CARD and ACH go through Stripe (the frontend collects the details with "
        "Stripe.js and sends a PaymentMethod id). SIMULATED is a demo gateway standing in for a card payment (so "
        "only where the invoice accepts CARD): never in production, elsewhere only while no Stripe key is configured "
        "and SIMULATED_PAYMENTS allows it (default: development and tests). It succeeds at once, and declines when "
        "stripePaymentMethodId is `pm_simulated_decline`."
    )
)
class PaymentMethodType(Enum):
    CARD = "CARD"
    ACH = "ACH"
    SIMULATED = "SIMULATED"


@strawberry.enum(description="Where a payment attempt stands.")
class PaymentAttemptStatus(Enum):
    SUCCEEDED = strawberry.enum_value("SUCCEEDED", description="Paid: the payment is recorded on the invoices.")
    PROCESSING = strawberry.enum_value(
        "PROCESSING",
        description="Accepted, not yet cleared (ACH debits take days): the invoices refuse other payments meanwhile.",
    )
    REQUIRES_ACTION = strawberry.enum_value(
        "REQUIRES_ACTION",
        description="The payer must authenticate (3-D Secure): pass clientSecret to Stripe.js `handleNextAction`.",
    )
    FAILED = strawberry.enum_value("FAILED", description="Nothing was charged; see failureCode.")


@strawberry.enum(description="Why a payment attempt failed.")
class PaymentFailureCode(Enum):
    CARD_DECLINED = "CARD_DECLINED"
    INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
    EXPIRED_CARD = "EXPIRED_CARD"
    INCORRECT_CVC = "INCORRECT_CVC"
    PROCESSING_ERROR = "PROCESSING_ERROR"
    AUTHENTICATION_FAILED = "AUTHENTICATION_FAILED"
    BANK_DEBIT_FAILED = "BANK_DEBIT_FAILED"
    INVALID_PAYMENT_METHOD = "INVALID_PAYMENT_METHOD"
    CANCELED = strawberry.enum_value("CANCELED", description="Abandoned, or replaced by a later attempt.")


@strawberry.input(description="Exactly one of savedPaymentMethodId and stripePaymentMethodId (none for SIMULATED).")
class PaymentMethodInput:
    type: PaymentMethodType
    saved_payment_method_id: strawberry.ID | None = strawberry.field(
        default=None, description="One of the viewer's savedPaymentMethods, of the same type."
    )
    stripe_payment_method_id: str | None = strawberry.field(
        default=None, description="A PaymentMethod created by Stripe.js (pm_…); card numbers never reach Portico."
    )


@strawberry.input(description='Pay one invoice, or several of one currency in one charge ("pay all outstanding").')
class PayInvoicesInput:
    invoice_ids: list[strawberry.ID] = strawberry.field(description="1 to 100 of the viewer's payable invoices.")
    method: PaymentMethodInput
    idempotency_key: str = strawberry.field(
        description=(
            "Chosen by the client, one per intended payment (a UUID). Sending it again returns the same attempt "
            "and never charges twice; reusing it for a different payment is IDEMPOTENCY_KEY_REUSED."
        )
    )
    amount: Decimal | None = strawberry.field(
        default=None,
        description="A partial payment, one invoice only; default: the balance due of each invoice.",
    )
    save_payment_method: bool | None = strawberry.field(
        default=False, description="Keep the card or bank account (at Stripe) for later payments."
    )


@strawberry.type(description="The outcome of payInvoices; the same idempotencyKey returns the same attempt.")
class PaymentAttempt:
    status: PaymentAttemptStatus
    client_secret: str | None = strawberry.field(description="Set while REQUIRES_ACTION, for Stripe.js.")
    amount: Decimal
    currency: str
    method_type: PaymentMethodType
    failure_code: PaymentFailureCode | None
    failure_message: str | None
    payment_id: strawberry.Private[int | None]
    invoice_ids: strawberry.Private[list[int]]

    @strawberry.field(description="The payment: SUCCEEDED once paid, PENDING while an ACH debit clears.")
    async def payment(self, info: strawberry.Info) -> Payment | None:
        return await info.context.loaders.payment.load(self.payment_id) if self.payment_id else None

    @strawberry.field(description="The invoices this attempt pays, as they stand now.")
    async def invoices(self, info: strawberry.Info) -> list[Invoice]:
        loaded = await info.context.loaders.invoice.load_many(self.invoice_ids)
        return [invoice for invoice in loaded if invoice is not None]


@strawberry.enum
class PayInvoicesErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    INVALID_INPUT = "INVALID_INPUT"
    ALREADY_PAID = "ALREADY_PAID"
    INVALID_STATE = "INVALID_STATE"
    EXCEEDS_BALANCE = "EXCEEDS_BALANCE"
    CURRENCY_MISMATCH = "CURRENCY_MISMATCH"
    GATEWAY_NOT_ALLOWED = strawberry.enum_value(
        "GATEWAY_NOT_ALLOWED", description="An invoice does not accept this payment method type."
    )
    GATEWAY_NOT_CONFIGURED = strawberry.enum_value(
        "GATEWAY_NOT_CONFIGURED", description="CARD and ACH need Stripe, which is not configured."
    )
    SIMULATED_NOT_ALLOWED = strawberry.enum_value(
        "SIMULATED_NOT_ALLOWED",
        description="The simulated gateway is off here: production, Stripe configured, or SIMULATED_PAYMENTS off.",
    )
    INVALID_PAYMENT_METHOD = "INVALID_PAYMENT_METHOD"
    PAYMENT_PENDING = strawberry.enum_value(
        "PAYMENT_PENDING", description="A payment of an invoice is clearing (ACH); pay again only if it fails."
    )
    PAYMENT_IN_PROGRESS = strawberry.enum_value(
        "PAYMENT_IN_PROGRESS", description="Another attempt on these invoices is running; try again shortly."
    )
    IDEMPOTENCY_KEY_REUSED = "IDEMPOTENCY_KEY_REUSED"
    GATEWAY_UNAVAILABLE = strawberry.enum_value(
        "GATEWAY_UNAVAILABLE",
        description="Stripe did not answer: retry with the same idempotencyKey (it never charges twice).",
    )


@strawberry.type
class PayInvoicesError(UserError):
    code: PayInvoicesErrorCode


PayInvoicesResult = Annotated[PaymentAttempt | PayInvoicesError, strawberry.union("PayInvoicesResult")]


@strawberry.type(description="A card or bank account kept at Stripe for a contact (display data only).")
class SavedPaymentMethod(Node):
    type: PaymentGateway
    brand: str | None = strawberry.field(description="Card brand (visa, mastercard, …).")
    bank_name: str | None
    last4: str
    exp_month: int | None
    exp_year: int | None
    created_at: dt.datetime
    contact_id: strawberry.Private[int]

    @strawberry.field
    async def contact(self, info: strawberry.Info) -> Contact | None:
        return await info.context.loaders.contact.load(self.contact_id)

    @staticmethod
    def from_row(row: Any) -> SavedPaymentMethod:
        return SavedPaymentMethod(
            id=strawberry.ID(to_global_id("SavedPaymentMethod", row.id)),
            contact_id=row.contact_id,
            type=PaymentGateway(row.type),
            brand=row.brand,
            bank_name=row.bank_name,
            last4=row.last4,
            exp_month=row.exp_month,
            exp_year=row.exp_year,
            created_at=row.created_at,
        )


@strawberry.enum
class RemoveSavedPaymentMethodErrorCode(Enum):
    NOT_FOUND = "NOT_FOUND"
    GATEWAY_UNAVAILABLE = "GATEWAY_UNAVAILABLE"


@strawberry.type
class RemoveSavedPaymentMethodError(UserError):
    code: RemoveSavedPaymentMethodErrorCode


RemoveSavedPaymentMethodResult = Annotated[
    SavedPaymentMethod | RemoveSavedPaymentMethodError, strawberry.union("RemoveSavedPaymentMethodResult")
]
