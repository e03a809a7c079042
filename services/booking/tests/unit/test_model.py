from datetime import date, datetime, timedelta, timezone

import pytest

from booking.domain import errors
from booking.domain.model import Interval, Site, parse_instant, period_interval

pytestmark = pytest.mark.unit

SITE = Site(id="s", name="Hôtel de Ville")
UTC = timezone.utc


def at(hour, minute=0):
    return datetime(2027, 3, 2, hour, minute, tzinfo=UTC)


def test_back_to_back_intervals_do_not_overlap():
    morning = Interval(at(8), at(12))
    afternoon = Interval(at(12), at(18))
    assert not morning.overlaps(afternoon)
    assert not afternoon.overlaps(morning)


def test_intervals_sharing_a_minute_overlap():
    assert Interval(at(8), at(12, 1)).overlaps(Interval(at(12), at(18)))
    assert Interval(at(9), at(10)).overlaps(Interval(at(8), at(18)))


def test_end_before_start_is_refused_naming_the_field():
    with pytest.raises(errors.Invalid) as caught:
        Interval(at(12), at(8))
    assert caught.value.details["field"] == "end"


def test_naive_times_are_refused():
    with pytest.raises(errors.Invalid):
        parse_instant("2027-03-02T08:00:00", "start")


def test_periods_follow_the_site_hours_in_local_time():
    day = period_interval(SITE, date(2027, 7, 6), "day")
    assert day.start.isoformat() == "2027-07-06T07:30:00+02:00"
    assert day.end.isoformat() == "2027-07-06T20:00:00+02:00"
    morning = period_interval(SITE, date(2027, 1, 5), "morning")
    afternoon = period_interval(SITE, date(2027, 1, 5), "afternoon")
    assert morning.end == afternoon.start
    assert morning.start.utcoffset() == timedelta(hours=1)


def test_unknown_period_names_the_field():
    with pytest.raises(errors.Invalid) as caught:
        period_interval(SITE, date(2027, 1, 5), "evening")
    assert caught.value.details["field"] == "period"
