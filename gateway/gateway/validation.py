"""Turn pydantic's validation errors into the API's 422 (one field named).

Every message comes from the i18n catalogue, keyed by pydantic's error type
(or by our own custom error types), so the answer is in the caller's
language and never echoes pydantic's internals.
"""

from __future__ import annotations

import re

from pydantic import ValidationError

from . import i18n
from .errors import ApiError

_KEYS = {
    "missing": "missing",
    "extra_forbidden": "unknown_field",
    "uuid_type": "not_uuid",
    "uuid_parsing": "not_uuid",
    "uuid_version": "not_uuid",
    "datetime_type": "not_datetime",
    "datetime_parsing": "not_datetime",
    "datetime_from_date_parsing": "not_datetime",
    "datetime_object_invalid": "not_datetime",
    "timezone_aware": "naive_datetime",
    "date_type": "not_date",
    "date_parsing": "not_date",
    "date_from_datetime_parsing": "not_date",
    "date_from_datetime_inexact": "not_date",
    "time_type": "not_time",
    "time_parsing": "not_time",
    "string_type": "not_string",
    "string_too_short": "too_short",
    "string_too_long": "too_long",
    "string_pattern_mismatch": "invalid_field",
    "int_type": "not_integer",
    "int_parsing": "not_integer",
    "int_from_float": "not_integer",
    "float_type": "not_number",
    "float_parsing": "not_number",
    "bool_type": "not_boolean",
    "bool_parsing": "not_boolean",
    "greater_than_equal": "too_small",
    "greater_than": "too_small",
    "less_than_equal": "too_big",
    "less_than": "too_big",
    "literal_error": "not_one_of",
    "enum": "not_one_of",
    "dict_type": "not_object",
    "model_type": "not_object",
    "model_attributes_type": "not_object",
    "list_type": "not_list",
    "too_long": "too_many",
    "too_short": "too_short",
}
# Our own PydanticCustomError types are catalogue keys themselves.
_CUSTOM = {
    "year_out_of_range", "end_before_start", "booking_when", "availability_when", "one_place",
    "bad_attribute", "mine_or_person", "hours_order", "timezone", "missing", "nothing_to_change",
    "not_integer",
}


def _field(error: dict) -> str:
    ctx = error.get("ctx") or {}
    if not error.get("loc") and "field" in ctx:
        return str(ctx["field"])
    # A union member's tag (``literal['a','b']``, ``function-after[...]``) is
    # pydantic's, not a field of the caller's: no field name holds a bracket.
    parts = [str(p) for p in error.get("loc", ()) if "[" not in str(p)]
    return ".".join(parts) if parts else str(ctx.get("field", "body"))


def describe(error: dict, language: str) -> tuple[str, str]:
    """(field, message) of one pydantic error."""
    kind = error.get("type", "")
    ctx = error.get("ctx") or {}
    field = _field(error)
    key = kind if kind in _CUSTOM else _KEYS.get(kind, "invalid_field")
    params = {"field": field}
    if key in ("too_short",):
        params["min"] = ctx.get("min_length", 1)
    elif key in ("too_long", "too_many"):
        params["max"] = ctx.get("max_length", "")
    elif key == "too_small":
        params["min"] = ctx.get("ge", ctx.get("gt", ""))
    elif key == "too_big":
        params["max"] = ctx.get("le", ctx.get("lt", ""))
    elif key == "not_one_of":
        # pydantic writes "'a', 'b' or 'c'" in English: keep only the values.
        expected = str(ctx.get("expected", ""))
        params["expected"] = ", ".join(re.findall(r"'([^']*)'", expected)) or expected
    return field, i18n.message(key, language, **params)


def as_api_error(exc: ValidationError, language: str) -> ApiError:
    errors = exc.errors(include_url=False, include_input=False)
    described = [describe(e, language) for e in errors[:20]]
    field, text = described[0]
    error = ApiError(
        "invalid", "invalid_field",
        details={"field": field, "errors": [{"field": f, "message": m} for f, m in described]},
        field=field,
    )
    error.text = text  # already translated
    return error
