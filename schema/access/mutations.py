"""Signing in and out, invitations, passwords, sessions and two-factor: inputs, error codes, results."""

from __future__ import annotations

from typing import Any

import strawberry

from schema.access.types import TRANSPORT_DESCRIPTION, ActiveSession, Session, SessionTransport, StaffUser
from schema.base import error_codes, mutation_error, mutation_types, result_union
from schema.contacts.types import ContactPerson
from services.access.passwords import PASSWORD_POLICY


@strawberry.input
class LoginInput:
    email: str
    password: str
    portal: str | None = strawberry.field(
        default=None, description="The organization's portal slug for a portal user; absent for staff."
    )
    otp: str | None = strawberry.field(default=None, description="A one-time code when two-factor is enabled.")
    transport: SessionTransport | None = strawberry.field(default=None, description=TRANSPORT_DESCRIPTION)


LoginError, LoginResult = mutation_types(
    "Login",
    Session,
    "INVALID_CREDENTIALS TOO_MANY_ATTEMPTS OTP_REQUIRED OTP_INVALID",
    retry_after=True,
    description="Unknown email, wrong password and disabled access all answer INVALID_CREDENTIALS.",
)


PASSWORD_DESCRIPTION = f"The new password. {PASSWORD_POLICY}"


@strawberry.type(description="The persons who were sent an invitation.")
class InvitePortalUsersPayload:
    contact_persons: list[ContactPerson]


InvitePortalUsersError, InvitePortalUsersResult = mutation_types(
    "InvitePortalUsers",
    InvitePortalUsersPayload,
    "NOT_FOUND NO_CONTACT_PERSON NO_EMAIL ALREADY_ACTIVE PORTAL_DISABLED INVALID_INPUT",
    description="Nothing was sent when any person fails; `field` names the failing list entry.",
)


DisablePortalAccessError, DisablePortalAccessResult = mutation_types("DisablePortalAccess", ContactPerson, "NOT_FOUND")


@strawberry.input
class AcceptInviteInput:
    token: str = strawberry.field(description="The token from the invitation link.")
    password: str = strawberry.field(description=PASSWORD_DESCRIPTION)
    transport: SessionTransport | None = strawberry.field(default=None, description=TRANSPORT_DESCRIPTION)


TokenPasswordErrorCode = error_codes(
    "TokenPasswordErrorCode",
    "UNKNOWN_TOKEN TOKEN_EXPIRED TOKEN_USED TOKEN_SUPERSEDED PORTAL_DISABLED",
    "PASSWORD_TOO_SHORT PASSWORD_TOO_LONG PASSWORD_MATCHES_EMAIL TOO_MANY_ATTEMPTS",
)


def _redeeming_types(name: str) -> tuple[type, Any]:
    """The error and result of a mutation that redeems a single-use link to set a password and sign in."""
    return mutation_types(
        name,
        Session,
        shared=TokenPasswordErrorCode,
        retry_after=True,
        description="Wrong tokens are throttled per client address (TOO_MANY_ATTEMPTS).",
    )


AcceptInviteError, AcceptInviteResult = _redeeming_types("AcceptInvite")


@strawberry.input
class RequestPasswordResetInput:
    email: str
    portal: str | None = strawberry.field(default=None, description="Portal slug; absent for staff.")


@strawberry.type(description="Always the same answer, whether or not the email is known.")
class RequestPasswordResetPayload:
    accepted: bool


@strawberry.input
class ResetPasswordInput:
    token: str
    password: str = strawberry.field(description=PASSWORD_DESCRIPTION)
    transport: SessionTransport | None = strawberry.field(default=None, description=TRANSPORT_DESCRIPTION)


ResetPasswordError, ResetPasswordResult = _redeeming_types("ResetPassword")


@strawberry.input
class ChangePasswordInput:
    current_password: str
    new_password: str = strawberry.field(description=PASSWORD_DESCRIPTION)


ChangePasswordError, ChangePasswordResult = mutation_types(
    "ChangePassword",
    StaffUser | ContactPerson,
    "WRONG_PASSWORD SAME_PASSWORD PASSWORD_TOO_SHORT PASSWORD_TOO_LONG PASSWORD_MATCHES_EMAIL TOO_MANY_ATTEMPTS",
    retry_after=True,
    description="Current passwords are throttled like sign-in (TOO_MANY_ATTEMPTS).",
)


RevokeSessionError, RevokeSessionResult = mutation_types("RevokeSession", ActiveSession, "NOT_FOUND")


@strawberry.type(description="Scan the URI (or type the secret) into an authenticator app, then confirm a code.")
class TwoFactorSetup:
    secret: str
    otpauth_uri: str


@strawberry.type(description="Two-factor sign-in is on. Keep the recovery codes: each works once instead of a code.")
class TwoFactorEnabled:
    recovery_codes: list[str]


TwoFactorError = mutation_error(
    "TwoFactor",
    "ALREADY_ENABLED NOT_STARTED NOT_ENABLED OTP_INVALID WRONG_PASSWORD INVALID_INPUT TOO_MANY_ATTEMPTS",
    retry_after=True,
    description="Codes and passwords are throttled like sign-in (TOO_MANY_ATTEMPTS); a code works once.",
)


EnableTwoFactorResult = result_union("EnableTwoFactor", TwoFactorSetup, TwoFactorError)


ConfirmTwoFactorResult = result_union("ConfirmTwoFactor", TwoFactorEnabled, TwoFactorError)


DisableTwoFactorResult = result_union("DisableTwoFactor", StaffUser | ContactPerson, TwoFactorError)


@strawberry.input(description="Either the password or a current code (or a recovery code).")
class DisableTwoFactorInput:
    password: str | None = None
    otp: str | None = None
