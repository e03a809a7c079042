"""Named domain errors of the presence service.

Like booking's, the exception's args are ``(code, message, details_json)``:
nameko turns every non-string value inside ``exc_args`` into a string, so
the details cross the wire as one JSON text; the gateway maps ``code`` to an
HTTP status in its one table. The message is rendered from
a key of ``messages`` in the caller's language by the entrypoint
(``localized``); until then it is in the default language.
"""

from __future__ import annotations

import json

from . import messages


class DomainError(Exception):
    code = "domain_error"
    key = "invalid_field"

    def __init__(self, key: str | None = None, /, *, details: dict | None = None, **params):
        self.key = key or self.key
        self.params = params
        self.details = details or {}
        super().__init__(self.code, messages.render(self.key, None, **params),
                         json.dumps(self.details, default=str))

    @property
    def message(self) -> str:
        return self.args[1]

    def localized(self, language: str | None) -> "DomainError":
        """The same error, its message in ``language``."""
        self.args = (self.code, messages.render(self.key, language, **self.params),
                     json.dumps(self.details, default=str))
        return self

    def __str__(self) -> str:
        return self.args[1]


class NotFound(DomainError):
    code = "not_found"
    key = "person_not_found"


class Forbidden(DomainError):
    code = "forbidden"
    key = "only_yourself"


class Invalid(DomainError):
    """Bad input; ``details["field"]`` names the offending field."""

    code = "invalid"
    key = "invalid_field"

    def __init__(self, field: str, reason: str, **params):
        super().__init__("invalid_field", details={"field": field}, field=field, reason=reason,
                         **params)


# Every error a presence RPC may raise on purpose; nameko logs others as bugs.
EXPECTED = (DomainError,)
