"""Named domain errors.

Each error carries a stable ``code`` that the gateway maps to an HTTP status
in one table. The exception's args are ``(code, message, details_json)``:
nameko turns every non-string value inside ``exc_args`` into a string (a line
number 4 would arrive as "4"), so the details cross the wire as one JSON text.
An error is raised with a key of ``messages`` (or a ``messages.msg`` with its
parameters), never a sentence: the message is rendered in the caller's
language, current for the worker (``messages.speaking``), French by default.
"""

from __future__ import annotations

import json

from . import messages


class DomainError(Exception):
    code = "domain_error"

    def __init__(self, message: str | messages.Message, **details):
        if not isinstance(message, messages.Message):
            message = messages.msg(message)
        self.key, self.params = message
        self.details = details
        super().__init__(self.code, messages.text(message), json.dumps(details, default=str))

    @property
    def message(self) -> str:
        return self.args[1]

    def __str__(self) -> str:
        return self.message


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Invalid(DomainError):
    """Bad input; ``details["field"]`` names the offending field."""

    code = "invalid"

    def __init__(self, message: str | messages.Message, field: str | None = None, **details):
        super().__init__(message, field=field, **details)


class ImportRejected(DomainError):
    """A CSV file with at least one bad line; nothing of it was imported."""

    code = "import_rejected"

    def __init__(self, errors: list[dict]):
        first = errors[0] if errors else {}
        super().__init__(
            messages.msg("import_rejected", count=len(errors), line=first.get("line"),
                         column=first.get("column"), message=first.get("message")),
            errors=errors,
        )


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


class RuleViolation(DomainError):
    """Base of the booking rules a request can break; the code says which."""

    code = "rule_violation"


class TooFarAhead(RuleViolation):
    code = "too_far_ahead"


class InThePast(RuleViolation):
    code = "in_the_past"


class TooLong(RuleViolation):
    code = "too_long"


class OutsideOpeningHours(RuleViolation):
    code = "outside_opening_hours"


class SiteClosed(RuleViolation):
    code = "site_closed"


class PublicHoliday(RuleViolation):
    code = "public_holiday"


class RecurrenceTooLong(RuleViolation):
    code = "recurrence_too_long"


class RestrictedResource(RuleViolation):
    code = "restricted_resource"


class CheckInNotOpen(RuleViolation):
    code = "check_in_not_open"


class Conflict(DomainError):
    """The request clashes with existing state; ``details["conflict"]`` says with what."""

    code = "conflict"


class ResourceAlreadyBooked(Conflict):
    code = "resource_already_booked"


class PersonAlreadyHasDesk(Conflict):
    code = "person_already_has_desk"


class InvalidState(Conflict):
    code = "invalid_state"


class NotEmpty(Conflict):
    code = "not_empty"


# Every error a booking RPC may raise on purpose; nameko logs others as bugs.
EXPECTED = (DomainError,)
