"""A site's desk check-in deadline ("check in by 10:00"), as a rule."""

from datetime import datetime, timedelta

import pytest

from booking.domain import errors
from booking.domain.model import Site
from booking.domain.rules import DEFAULT_RULES, deadline_release

pytestmark = pytest.mark.unit

SITE = Site(id="s", name="Hôtel de Ville")
DESK = DEFAULT_RULES["desk"]


def local(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 3, day, hour, minute, tzinfo=SITE.tz)


def test_no_deadline_by_default():
    assert DESK.checkin_deadline is None
    assert deadline_release(DESK, SITE, local(1, 8)) is None


def test_a_booking_started_before_the_deadline_is_released_at_it_on_its_own_day():
    rules = DESK.updated({"checkin_deadline": "10:00"})
    assert deadline_release(rules, SITE, local(1, 8)) == local(1, 10)
    assert deadline_release(rules, SITE, local(2, 9, 59)) == local(2, 10)


def test_a_booking_starting_at_or_after_the_deadline_is_not_concerned():
    rules = DESK.updated({"checkin_deadline": "10:00"})
    assert deadline_release(rules, SITE, local(1, 10)) is None
    assert deadline_release(rules, SITE, local(1, 13)) is None


def test_the_deadline_is_a_wall_clock_time_across_a_daylight_saving_change():
    rules = DESK.updated({"checkin_deadline": "09:30"})
    # 28 March 2027: Paris moves from UTC+1 to UTC+2 overnight.
    before = deadline_release(rules, SITE, local(27, 8))
    after = deadline_release(rules, SITE, local(29, 8))
    assert (before.hour, before.minute, after.hour, after.minute) == (9, 30, 9, 30)
    assert before.utcoffset() == timedelta(hours=1) and after.utcoffset() == timedelta(hours=2)


def test_the_deadline_is_hh_mm_or_null():
    rules = DESK.updated({"checkin_deadline": "10:00"})
    assert rules.to_dict()["checkin_deadline"] == "10:00"
    assert rules.updated({"checkin_deadline": None}).checkin_deadline is None
    for bad in ("10h", "24:00", "9:00", "10:00:00", 10, True):
        with pytest.raises(errors.Invalid) as invalid:
            DESK.updated({"checkin_deadline": bad})
        assert invalid.value.details["field"] == "checkin_deadline"
