"""The place tree an administrator edits: site > building > floor > zone > resource.

Validation lives here, field by field, so every way in (API, CSV import,
tests) gets the same clear message naming the field.
"""

from __future__ import annotations

import uuid
from datetime import date, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import errors
from .model import RESOURCE_KINDS
from .messages import msg

PARENT = {"building": "site_id", "floor": "building_id", "zone": "floor_id", "resource": "zone_id"}
ENTITIES = ("site", "building", "floor", "zone", "resource")
MAX_TEXT = 200


def _text(value, name, required=True, max_len=MAX_TEXT):
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > max_len:
        raise errors.Invalid(msg("name_must_be_a_text_of", name=name, max_len=max_len), field=name)
    return value.strip()


def _int(value, name, low, high):
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise errors.Invalid(msg("name_must_be_a_whole_number", name=name, low=low, high=high),
                             field=name)
    return value


def _number(value, name, nullable=True):
    if value is None and nullable:
        return None
    if not isinstance(value, (int, float)) or isinstance(value, bool) or not -1e6 < value < 1e6:
        raise errors.Invalid(msg("name_must_be_a_number", name=name), field=name)
    return float(value)


def _uuid(value, name, nullable=False):
    if value is None and nullable:
        return None
    try:
        return str(uuid.UUID(value))
    except (ValueError, TypeError, AttributeError):
        raise errors.Invalid(msg("name_must_be_an_id", name=name), field=name) from None


def _clock(value, name):
    try:
        return time.fromisoformat(value)
    except (TypeError, ValueError):
        raise errors.Invalid(msg("name_must_be_a_time_such", name=name), field=name) from None


def _timezone(value, name):
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise errors.Invalid(msg("name_must_be_an_iana_time", name=name), field=name) from None
    return value


def _weekdays(value, name):
    if not isinstance(value, list) or any(
        not isinstance(d, int) or isinstance(d, bool) or not 1 <= d <= 7 for d in value
    ):
        raise errors.Invalid(msg("name_must_list_iso_weekdays_from", name=name), field=name)
    return sorted(set(value))


def _dates(value, name):
    if not isinstance(value, list) or len(value) > 400:
        raise errors.Invalid(msg("name_must_list_dates", name=name), field=name)
    try:
        return sorted({date.fromisoformat(d) for d in value})
    except (TypeError, ValueError):
        raise errors.Invalid(msg("name_must_list_dates_as_yyyy", name=name), field=name) from None


def _attributes(value, name):
    if not isinstance(value, dict) or len(value) > 30:
        raise errors.Invalid(msg("name_must_be_an_object_of", name=name), field=name)
    for key, item in value.items():
        if not isinstance(key, str) or not key or len(key) > 40:
            raise errors.Invalid(msg("name_keys_are_short_names", name=name), field=name)
        if not isinstance(item, (bool, int, float, str)) or (isinstance(item, str) and len(item) > 100):
            raise errors.Invalid(msg("name_key_must_be_true_false", name=name, key=key), field=name)
    return value


def _uuid_list(value, name):
    if not isinstance(value, list) or len(value) > 50:
        raise errors.Invalid(msg("name_must_list_ids", name=name), field=name)
    return [_uuid(v, name) for v in value]


def _kind(value, name):
    if value not in RESOURCE_KINDS:
        raise errors.Invalid(msg("name_must_be_desk_room_or", name=name), field=name)
    return value


FIELDS = {
    "site": {
        "code": lambda v, n: _text(v, n, max_len=40), "name": _text,
        "address": lambda v, n: _text(v, n, required=False),
        "timezone": _timezone, "opening_time": _clock, "midday_time": _clock, "closing_time": _clock,
        "closed_weekdays": _weekdays, "closed_dates": _dates,
        "holiday_country": lambda v, n: _text(v, n, max_len=2),
        "holiday_subdivision": lambda v, n: None if v is None else _text(v, n, max_len=10),
    },
    "building": {
        "site_id": _uuid, "code": lambda v, n: _text(v, n, max_len=40), "name": _text,
        "address": lambda v, n: _text(v, n, required=False),
    },
    "floor": {
        "building_id": _uuid, "code": lambda v, n: _text(v, n, max_len=40), "name": _text,
        "level": lambda v, n: _int(v, n, -10, 200),
        "plan_width": lambda v, n: _int(v, n, 10, 100000),
        "plan_height": lambda v, n: _int(v, n, 10, 100000),
    },
    "zone": {
        "floor_id": _uuid, "code": lambda v, n: _text(v, n, max_len=40), "name": _text,
        "team_id": lambda v, n: _uuid(v, n, nullable=True),
    },
    "resource": {
        "zone_id": _uuid, "kind": _kind, "code": lambda v, n: _text(v, n, max_len=40), "name": _text,
        "capacity": lambda v, n: _int(v, n, 1, 10000), "attributes": _attributes,
        "restricted_team_ids": _uuid_list, "x": _number, "y": _number,
    },
}
REQUIRED = {
    "site": ("code", "name"),
    "building": ("site_id", "code", "name"),
    "floor": ("building_id", "code", "name"),
    "zone": ("floor_id", "code", "name"),
    "resource": ("zone_id", "kind", "code", "name"),
}


def validate(entity: str, data, partial: bool = False) -> dict:
    """Cleaned fields of an entity; ``partial`` for an update (PATCH)."""
    if entity not in FIELDS:
        raise errors.NotFound(msg("unknown_kind_of_place_entity", entity=entity), field="entity")
    if not isinstance(data, dict):
        raise errors.Invalid("the_body_must_be_an_object", field=None)
    fields = FIELDS[entity]
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise errors.Invalid(msg("unknown_field_name", name=unknown[0]), field=unknown[0])
    if not partial:
        for name in REQUIRED[entity]:
            if name not in data:
                raise errors.Invalid(msg("name_is_required", name=name), field=name)
    elif not data:
        raise errors.Invalid("nothing_to_change", field=None)
    cleaned = {name: fields[name](value, name) for name, value in data.items()}
    if entity == "site":
        times = [cleaned.get(k) for k in ("opening_time", "midday_time", "closing_time")]
        if all(times) and not times[0] < times[1] < times[2]:
            raise errors.Invalid("opening_midday_and_closing_times_must",
                                 field="midday_time")
    return cleaned
