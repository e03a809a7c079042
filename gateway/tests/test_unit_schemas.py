"""Request models: strict JSON types, aware datetimes, sane dates, named fields."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from gateway.schemas import AvailabilityQuery, BookingCreate, BookingListQuery, SiteCreate
from gateway.validation import as_api_error

pytestmark = pytest.mark.unit

DESK = "de5c0000-0000-4000-8000-000000000001"
START = "2026-03-10T09:00:00+01:00"
END = "2026-03-10T12:00:00+01:00"


def first_error(model, data, mode="json"):
    with pytest.raises(ValidationError) as exc:
        if mode == "json":
            model.model_validate_json(json.dumps(data))
        else:
            model.model_validate(data)
    error = as_api_error(exc.value, "en")
    return error.details["field"], error.text


def test_slot_and_day_forms():
    slot = BookingCreate.model_validate_json(json.dumps(
        {"resource_id": DESK, "start": START, "end": END, "title": "Réunion"}))
    assert slot.to_request() == {"resource_id": DESK, "start": START, "end": END,
                                 "title": "Réunion"}
    day = BookingCreate.model_validate_json(json.dumps({"resource_id": DESK, "date": "2026-03-10"}))
    assert day.to_request() == {"resource_id": DESK, "date": "2026-03-10", "period": "day"}
    utc = BookingCreate.model_validate_json(json.dumps(
        {"resource_id": DESK, "start": "2026-03-10T08:00:00Z", "end": "2026-03-10T09:00:00Z"}))
    assert utc.to_request()["start"] == "2026-03-10T08:00:00Z"


@pytest.mark.parametrize("data, field, words", [
    ({"resource_id": 123, "start": START, "end": END}, "resource_id", "id"),
    ({"resource_id": "desk-1", "start": START, "end": END}, "resource_id", "id"),
    ({"resource_id": DESK, "start": "2026-03-10T09:00:00", "end": END}, "start", "offset"),
    ({"resource_id": DESK, "start": 1773129600, "end": END}, "start", "ISO 8601"),
    ({"resource_id": DESK, "start": END, "end": START}, "end", "after the start"),
    ({"resource_id": DESK, "start": START, "end": START}, "end", "after the start"),
    ({"resource_id": DESK, "start": START}, "end", "required"),
    ({"resource_id": DESK}, "start", "either"),
    ({"resource_id": DESK, "start": START, "end": END, "date": "2026-03-10"}, "date", "either"),
    ({"resource_id": DESK, "period": "morning"}, "date", "required"),
    ({"resource_id": DESK, "date": "2026-03-10", "period": "evening"}, "period", "one of"),
    ({"resource_id": DESK, "date": "10/03/2026"}, "date", "YYYY-MM-DD"),
    ({"resource_id": DESK, "start": "2150-03-10T09:00:00+01:00",
      "end": "2150-03-10T10:00:00+01:00"}, "start", "2100"),
    ({"resource_id": DESK, "date": "1999-12-31"}, "date", "2000"),
    ({"resource_id": DESK, "start": START, "end": END, "rrule": "x" * 201}, "rrule", "at most 200"),
    ({"resource_id": DESK, "start": START, "end": END, "title": "t" * 201}, "title", "at most 200"),
    ({"resource_id": DESK, "start": START, "end": END, "colour": "red"}, "colour", "Unknown"),
    ({"resource_id": DESK, "start": START, "end": END, "person_id": "me"}, "person_id", "id"),
    ({"start": START, "end": END}, "resource_id", "required"),
])
def test_booking_errors_name_the_field(data, field, words):
    got_field, message = first_error(BookingCreate, data)
    assert got_field == field
    assert words.lower() in message.lower()


def test_query_datetime_accepts_an_unescaped_plus():
    q = AvailabilityQuery.model_validate(
        {"floor_id": DESK, "start": "2026-03-10T09:00:00 01:00",
         "end": "2026-03-10T10:00:00 01:00"})
    assert q.to_kwargs()["start"] == "2026-03-10T09:00:00+01:00"


@pytest.mark.parametrize("data, field", [
    ({"start": START, "end": END}, "floor_id"),
    ({"site_id": DESK, "floor_id": DESK, "start": START, "end": END}, "floor_id"),
    ({"floor_id": DESK}, "start"),
    ({"floor_id": DESK, "start": START, "end": END, "min_capacity": "lots"}, "min_capacity"),
    ({"floor_id": DESK, "start": START, "end": END, "min_capacity": "0"}, "min_capacity"),
    ({"floor_id": DESK, "start": START, "end": END, "attributes": "dock station"}, "attributes"),
    ({"floor_id": DESK, "start": START, "end": END, "kind": "chair"}, "kind"),
    ({"floor_id": DESK, "start": START, "end": END, "near_team_id": "ccas"}, "near_team_id"),
    ({"floor_id": DESK, "start": START, "end": END, "colour": "red"}, "colour"),
])
def test_availability_errors(data, field):
    assert first_error(AvailabilityQuery, data, mode="python")[0] == field


def test_availability_day_and_attributes():
    q = AvailabilityQuery.model_validate(
        {"site_id": DESK, "date": "2026-03-10", "attributes": "docking_station,screens",
         "min_capacity": "4"})
    assert q.to_kwargs() == {"site_id": DESK, "date": "2026-03-10", "period": "day",
                             "attributes": ["docking_station", "screens"], "min_capacity": 4}


def test_booking_list_query():
    q = BookingListQuery.model_validate({"mine": "1", "from": START, "to": END})
    assert q.mine and q.from_.isoformat() == START
    assert first_error(BookingListQuery, {"from": END, "to": START}, mode="python")[0] == "to"
    assert first_error(BookingListQuery, {"status": "lost"}, mode="python")[0] == "status"


def test_site_checks_timezone_and_hours():
    assert first_error(SiteCreate, {"code": "HDV", "name": "Mairie",
                                    "timezone": "Europe/Atlantis"})[0] == "timezone"
    assert first_error(SiteCreate, {"code": "HDV", "name": "Mairie", "opening_time": "13:00",
                                    "midday_time": "12:00", "closing_time": "20:00"})[0] == \
        "midday_time"
    assert first_error(SiteCreate, {"code": "HDV", "name": "Mairie",
                                    "closed_weekdays": [0]})[0] == "closed_weekdays.0"
