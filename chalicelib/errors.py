"""The platform's exceptions, each with the HTTP status it maps to.

::

    PlatformError (500)
    ├── NotFound (404)            unknown campaign, or one not visible yet
    ├── BadRequest (400)          a malformed request
    ├── Unauthorized (401)        a system request that is unsigned, badly signed or stale
    ├── Unprocessable (422)       a well-formed request whose values are refused
    ├── IdempotencyConflict (409) an id reused with a different body
    ├── StoreUnavailable (503)    DynamoDB cannot be reached, or a table is missing
    │   └── OutcomeUnknown (503)  a write was sent and no clear answer came back: it may have landed
    ├── ReleaseConflict (409)     the release pointer moved under a publish/rollback
    ├── RotationConflict (409)    another rotation run wrote this rotation first
    └── NothingToRollBack (409)   there is no previous release

An ended campaign's 410 is not an exception: it is a page with the final
result, whose status comes from :data:`chalicelib.domain.window.STATUS`.

Every error may carry ``field``: the request field it is about (``"amount"``),
which the JSON error body names (``{"error", "field", "message"}``).
``chalicelib.web.http`` maps them to responses in one place; nothing matches on
message text.
"""

from __future__ import annotations


class PlatformError(Exception):
    """The base of every refusal the platform answers with a status (500 when nothing more precise fits)."""

    STATUS_CODE = 500
    CODE = "internal_error"

    def __init__(self, message: str = "", *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(PlatformError):
    """An unknown campaign, order or file, or a campaign that is not visible yet."""

    STATUS_CODE = 404
    CODE = "not_found"


class BadRequest(PlatformError):
    """A request that cannot be read: malformed JSON, a missing field, a wrong type."""

    STATUS_CODE = 400
    CODE = "bad_request"


class Unauthorized(PlatformError):
    """A system request without a valid Standard Webhooks signature (or no secret configured)."""

    STATUS_CODE = 401
    CODE = "unauthorized"


class Unprocessable(PlatformError):
    """A request whose JSON is well formed but whose ``field`` has a value we refuse."""

    STATUS_CODE = 422
    CODE = "invalid"


class IdempotencyConflict(PlatformError):
    """The same ``order_id``/``refund_id``/``donation_id`` came with a different body."""

    STATUS_CODE = 409
    CODE = "conflict"


class StoreUnavailable(PlatformError):
    """DynamoDB cannot serve us now (unreachable, throttled past the retries, a missing table); raised by chalicelib.store."""

    STATUS_CODE = 503
    CODE = "unavailable"


class OutcomeUnknown(StoreUnavailable):
    """A write was sent and DynamoDB's answer was lost (a timeout, a 5xx, the request's deadline):
    it may have been applied. A retry with the same id is safe (docs/resilience.md)."""


class ReleaseConflict(PlatformError):
    """The release pointer moved under a publish or rollback (a rival publish won); run the command again."""

    STATUS_CODE = 409
    CODE = "release_conflict"


class RotationConflict(PlatformError):
    """Another rotation run wrote this rotation number first (the schedule and ``campaign rotate`` raced)."""

    STATUS_CODE = 409
    CODE = "rotation_conflict"


class NothingToRollBack(PlatformError):
    """``campaign rollback`` found no earlier release to make live."""

    STATUS_CODE = 409
    CODE = "nothing_to_roll_back"
