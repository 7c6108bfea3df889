"""Payments: money received from clients, online (``payInvoices`` through Stripe) or recorded by staff.

One online payment, stage by stage (each module's docstring says what it guarantees):

1. ``checkout``     — ``pay_invoices``: the stages below in order, and the ``AttemptResult`` the client gets.
2. ``requests``     — ``PayRequest``: its shape, the gateway mode (CARD/ACH need Stripe; SIMULATED without it),
                      and the amount for each invoice from the server's balances.
3. ``attempts``     — ``PaymentAttempt``, the typed ``payment_attempt`` row: opened once per idempotency key with
                      the invoices locked, found by key, locked, ``Blocked`` by another open attempt.
4. ``stripe_flow``  — the PaymentIntent: created, stored, confirmed, cancelled, with Idempotency-Keys derived
                      from the attempt; an intent matched to its attempt; what Stripe's answer means.
5. ``outcomes``     — success, pending (ACH) or failure applied to the locked attempt once, in any order; the
                      money reaches the invoices through ``allocations``.

Beside them: ``methods`` (a new card or bank account checked, a saved one chosen or kept), ``refunds``
(``charge.refunded``), ``webhooks`` (``POST /webhooks/stripe``: verified events to ``outcomes`` and ``refunds``),
``gateway`` (the ``stripe`` library wrapped: calls, failures by meaning, minor units) and ``allocations``
(a payment applied to invoices, never beyond a balance; ``recordPayment`` uses it too).

A bug in a card or ACH payment is usually found in ``checkout``, ``attempts``, ``stripe_flow`` and
``outcomes``; one that arrives by webhook starts in ``webhooks`` instead of ``checkout``.
"""
