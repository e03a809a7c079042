"""Named errors of the notify service.

Like the booking service's: ``args = (code, message, details_json)`` (nameko
turns non-string values inside ``exc_args`` into strings, so the details
cross the wire as one JSON text), and the gateway maps ``code`` to an HTTP
status in its one table. An error is raised with a key of ``error_messages``
(or an ``error_messages.msg`` with its parameters), never a sentence: the
message is worded in the caller's language, current for the worker
(``error_messages.speaking``), French by default.
"""

from __future__ import annotations

import json

from . import error_messages


class NotifyError(Exception):
    code = "notify_error"

    def __init__(self, message: str | error_messages.Message, **details):
        if not isinstance(message, error_messages.Message):
            message = error_messages.msg(message)
        self.key, self.params = message
        self.details = details
        super().__init__(self.code, error_messages.text(message),
                         json.dumps(details, default=str))

    @property
    def message(self) -> str:
        return self.args[1]

    def __str__(self) -> str:
        return self.message


class NotFound(NotifyError):
    code = "not_found"


class Forbidden(NotifyError):
    code = "forbidden"


class Invalid(NotifyError):
    """Bad input; ``details["field"]`` names the offending field."""

    code = "invalid"

    def __init__(self, message: str | error_messages.Message, field: str | None = None,
                 **details):
        super().__init__(message, field=field, **details)


class InvalidState(NotifyError):
    code = "invalid_state"


EXPECTED = (NotifyError,)
