"""Named errors of the notify service.

Like the booking service's: ``args = (code, message, details_json)`` (nameko
turns non-string values inside ``exc_args`` into strings, so the details
cross the wire as one JSON text), and the gateway maps ``code`` to an HTTP
status in its one table.
"""

from __future__ import annotations

import json


class NotifyError(Exception):
    code = "notify_error"

    def __init__(self, message: str, **details):
        super().__init__(self.code, message, json.dumps(details, default=str))
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return self.message


class NotFound(NotifyError):
    code = "not_found"


class Forbidden(NotifyError):
    code = "forbidden"


class Invalid(NotifyError):
    """Bad input; ``details["field"]`` names the offending field."""

    code = "invalid"

    def __init__(self, message: str, field: str | None = None, **details):
        super().__init__(message, field=field, **details)


class InvalidState(NotifyError):
    code = "invalid_state"


EXPECTED = (NotifyError,)
