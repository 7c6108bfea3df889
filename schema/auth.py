"""Signing in and out."""

from __future__ import annotations

import datetime as dt
from enum import Enum
from typing import Annotated

import strawberry

from schema.base import UserError
from schema.people import Viewer

RETRY_AFTER_DESCRIPTION = "With TOO_MANY_ATTEMPTS: wait this long before trying again."


@strawberry.input
class LoginInput:
    email: str
    password: str
    portal: str | None = strawberry.field(
        default=None, description="The organization's portal slug for a portal user; absent for staff."
    )
    otp: str | None = strawberry.field(default=None, description="A one-time code when two-factor is enabled.")


@strawberry.type(description="A signed-in session. The token is shown once; web clients also get a cookie.")
class Session:
    token: str = strawberry.field(description="Send as `Authorization: Bearer <token>`.")
    expires_at: dt.datetime
    viewer: Viewer


@strawberry.enum
class LoginErrorCode(Enum):
    INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
    TOO_MANY_ATTEMPTS = "TOO_MANY_ATTEMPTS"
    OTP_REQUIRED = "OTP_REQUIRED"
    OTP_INVALID = "OTP_INVALID"


@strawberry.type(description="Unknown email, wrong password and disabled access all answer INVALID_CREDENTIALS.")
class LoginError(UserError):
    code: LoginErrorCode
    retry_after_seconds: int | None = strawberry.field(default=None, description=RETRY_AFTER_DESCRIPTION)


LoginResult = Annotated[Session | LoginError, strawberry.union("LoginResult")]
