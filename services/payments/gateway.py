"""A thin wrapper over the ``stripe`` library: the calls Portico makes, with Stripe's failures sorted by meaning.

Every call goes out once (``max_network_retries=0``): retrying is the caller's decision, always with the same
``Idempotency-Key`` so that Stripe replays the first result instead of acting twice. Failures become:
- ``GatewayDeclined``: the card or bank said no (HTTP 402), with Stripe's error object (and PaymentIntent);
- ``GatewayRejected``: Stripe refused the request (400/404: bad id, wrong state, idempotency parameters);
- ``GatewayUnavailable``: no answer, a 5xx, 409 (the same key is in flight) or 429: try again later, same key.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import stripe

from core.money import minor_unit, quantize
from core.settings import Settings

# our method types as Stripe's PaymentMethod types
STRIPE_METHOD_TYPES = {"CARD": "card", "ACH": "us_bank_account"}


class GatewayError(Exception):
    def __init__(self, message: str, error: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.error = error or {}

    @property
    def code(self) -> str | None:
        return self.error.get("code")

    @property
    def decline_code(self) -> str | None:
        return self.error.get("decline_code")

    @property
    def payment_intent(self) -> dict[str, Any] | None:
        return self.error.get("payment_intent")


class GatewayDeclined(GatewayError):
    """The payment method was declined."""


class GatewayRejected(GatewayError):
    """Stripe refused the request itself."""


class GatewayUnavailable(GatewayError):
    """Stripe could not be reached or did not finish: the outcome is unknown until retried with the same key."""


def is_configured(settings: Settings) -> bool:
    return bool(settings.stripe_secret_key)


def to_minor(amount: Decimal, currency: str) -> int:
    """An amount in the currency's minor unit (cents for USD, yen for JPY): what Stripe takes."""
    units = amount / minor_unit(currency)
    if units != units.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(units)


def from_minor(units: int, currency: str) -> Decimal:
    """A Stripe amount (minor units) as our Decimal in ``currency``."""
    return quantize(Decimal(units) * minor_unit(currency), currency)


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def _translate(error: stripe.StripeError) -> GatewayError:
    body = error.json_body if isinstance(error.json_body, dict) else {}
    details = body.get("error") if isinstance(body.get("error"), dict) else {}
    message = details.get("message") or str(error) or type(error).__name__
    if isinstance(error, stripe.CardError):
        return GatewayDeclined(message, details)
    if isinstance(error, stripe.APIConnectionError | stripe.RateLimitError):
        return GatewayUnavailable(message, details)
    if isinstance(error, stripe.InvalidRequestError | stripe.IdempotencyError):
        return GatewayRejected(message, details)
    if isinstance(error, stripe.APIError) and (error.http_status is None or error.http_status >= 500):
        return GatewayUnavailable(message, details)
    if isinstance(error, stripe.APIError) and error.http_status == 409:
        return GatewayUnavailable(message, details)
    # authentication, permission: a configuration problem; nothing was done at Stripe
    return GatewayRejected(message, details)


class _HTTPXClient(stripe.HTTPXClient):
    """stripe's httpx client, passing the encoded form as ``content=``: its ``data=<str>`` is deprecated by httpx."""

    def _get_request_args_kwargs(self, method: str, url: str, headers: Any, post_data: Any) -> Any:
        args, kwargs = super()._get_request_args_kwargs(method, url, headers, post_data)
        kwargs.pop("data", None)
        kwargs["content"] = post_data or None
        return args, kwargs


class StripeGateway:
    """The Stripe calls of one unit of work; open it with ``open_gateway``."""

    def __init__(self, settings: Settings) -> None:
        self._http = _HTTPXClient(timeout=settings.stripe_timeout_seconds)
        self.client = stripe.StripeClient(
            settings.stripe_secret_key,
            base_addresses={"api": settings.stripe_api_base or stripe.DEFAULT_API_BASE},
            max_network_retries=0,
            http_client=self._http,
        )

    async def close(self) -> None:
        await self._http.close_async()

    async def _call(self, call: Any) -> dict[str, Any]:
        try:
            return _plain(await call)
        except stripe.StripeError as error:
            raise _translate(error) from error

    async def create_customer(self, params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        return await self._call(
            self.client.v1.customers.create_async(params, {"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        )

    async def retrieve_payment_method(self, payment_method_id: str) -> dict[str, Any]:
        return await self._call(self.client.v1.payment_methods.retrieve_async(payment_method_id))

    async def detach_payment_method(self, payment_method_id: str) -> dict[str, Any]:
        return await self._call(self.client.v1.payment_methods.detach_async(payment_method_id))

    async def create_payment_intent(self, params: dict[str, Any], *, idempotency_key: str) -> dict[str, Any]:
        return await self._call(
            self.client.v1.payment_intents.create_async(params, {"idempotency_key": idempotency_key})  # type: ignore[arg-type]
        )

    async def confirm_payment_intent(
        self, intent_id: str, params: dict[str, Any], *, idempotency_key: str
    ) -> dict[str, Any]:
        return await self._call(
            self.client.v1.payment_intents.confirm_async(
                intent_id,
                params,  # type: ignore[arg-type]
                {"idempotency_key": idempotency_key},
            )
        )

    async def retrieve_payment_intent(self, intent_id: str) -> dict[str, Any]:
        return await self._call(self.client.v1.payment_intents.retrieve_async(intent_id))

    async def cancel_payment_intent(self, intent_id: str, *, idempotency_key: str) -> dict[str, Any]:
        return await self._call(
            self.client.v1.payment_intents.cancel_async(
                intent_id,
                {"cancellation_reason": "abandoned"},
                {"idempotency_key": idempotency_key},
            )
        )


@asynccontextmanager
async def open_gateway(settings: Settings) -> AsyncIterator[StripeGateway]:
    """A gateway whose HTTP connections are closed on exit (no client outlives the request that used it)."""
    gateway = StripeGateway(settings)
    try:
        yield gateway
    finally:
        await gateway.close()
