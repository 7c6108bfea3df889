"""Payment enums: modes, statuses, gateways and online payment methods."""

from __future__ import annotations

from enum import Enum

import strawberry

from models import payments


@strawberry.enum(
    description="The PaymentMode values a client may pay online with (an invoice's or the portal's gateways). "
    "One vocabulary: every payment enum is a subset of PaymentMode, with the same value names."
)
class PaymentGateway(Enum):
    CARD = "CARD"
    ACH = "ACH"


PaymentMode = strawberry.enum(
    payments.PaymentMode,
    description="How a payment was made: the whole vocabulary. PaymentGateway (CARD, ACH), PaymentMethodType "
    "(those and SIMULATED) and ManualPaymentMode (CASH, CHECK, BANK_TRANSFER, OTHER) are its subsets, with the "
    "same value names: a payment made with PaymentMethodType CARD has mode CARD.",
)


PaymentStatus = strawberry.enum(
    payments.PaymentStatus, description="Payment state; an ACH payment is PENDING until it clears."
)


@strawberry.enum(
    description=(
        "How the portal user pays (the PaymentMode subset of online payments). CARD and ACH go through Stripe "
        "(the frontend collects the details with "
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
