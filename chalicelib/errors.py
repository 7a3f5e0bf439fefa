"""The platform's exceptions, each with the HTTP status it maps to.

::

    PlatformError (500)
    ├── NotFound (404)            unknown campaign, or one not visible yet
    ├── Gone (410)                a campaign past its ends_at
    ├── BadRequest (400)          a malformed request
    ├── StoreUnavailable (503)    DynamoDB cannot be reached, or a table is missing
    ├── ReleaseConflict (409)     the release pointer moved under a publish/rollback
    ├── RotationConflict (409)    another rotation run wrote this rotation first
    └── NothingToRollBack (409)   there is no previous release

``chalicelib.web`` maps them to responses in one place; nothing matches on
message text.
"""
from __future__ import annotations


class PlatformError(Exception):
    STATUS_CODE = 500
    CODE = "internal_error"


class NotFound(PlatformError):
    STATUS_CODE = 404
    CODE = "not_found"


class Gone(PlatformError):
    STATUS_CODE = 410
    CODE = "gone"


class BadRequest(PlatformError):
    STATUS_CODE = 400
    CODE = "bad_request"


class StoreUnavailable(PlatformError):
    STATUS_CODE = 503
    CODE = "unavailable"


class ReleaseConflict(PlatformError):
    STATUS_CODE = 409
    CODE = "release_conflict"


class RotationConflict(PlatformError):
    STATUS_CODE = 409
    CODE = "rotation_conflict"


class NothingToRollBack(PlatformError):
    STATUS_CODE = 409
    CODE = "nothing_to_roll_back"
