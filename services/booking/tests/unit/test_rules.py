from datetime import date, datetime, time, timedelta

import pytest

from booking.domain import errors
from booking.domain.model import Interval, Resource, Site, period_interval
from booking.domain.rules import DEFAULT_RULES, Rules, check_booking, check_in_window, closure_reason

pytestmark = pytest.mark.unit

SITE = Site(id="s", name="Hôtel de Ville", closed_dates=frozenset({date(2027, 3, 12)}))
DESK = Resource(id="d", site_id="s", kind="desk", name="RH-01")
RULES = DEFAULT_RULES["desk"]
# A Monday morning, Paris time.
NOW = datetime(2027, 3, 1, 9, 0, tzinfo=SITE.tz)


def check(interval, resource=DESK, rules=RULES, teams=frozenset(), recurring=False):
    check_booking(SITE, rules, resource, interval, NOW, teams, recurring=recurring)


def test_a_day_within_the_window_passes():
    check(period_interval(SITE, date(2027, 3, 2), "day"))


def test_the_rest_of_today_can_still_be_booked():
    check(period_interval(SITE, date(2027, 3, 1), "afternoon"))
    check(period_interval(SITE, date(2027, 3, 1), "day"))


def test_a_finished_slot_is_in_the_past():
    with pytest.raises(errors.InThePast):
        check(Interval(SITE.at(date(2027, 3, 1), time(7, 30)), SITE.at(date(2027, 3, 1), time(8, 30))))


def test_too_far_ahead_and_ten_years_ahead():
    with pytest.raises(errors.TooFarAhead):
        check(period_interval(SITE, date(2027, 4, 6), "day"))
    with pytest.raises(errors.TooFarAhead):
        check(period_interval(SITE, date(2037, 3, 3), "day"))


def test_recurring_series_reach_further():
    check(period_interval(SITE, date(2027, 5, 4), "day"), recurring=True)


def test_weekend_closed_date_and_holidays():
    with pytest.raises(errors.SiteClosed):
        check(period_interval(SITE, date(2027, 3, 6), "day"))  # Saturday
    with pytest.raises(errors.SiteClosed):
        check(period_interval(SITE, date(2027, 3, 12), "day"))  # closed date
    with pytest.raises(errors.PublicHoliday) as caught:
        check(period_interval(SITE, date(2027, 3, 29), "day"))  # Easter Monday 2027
    assert "2027-03-29" in caught.value.message


def test_alsace_moselle_has_good_friday_when_the_site_says_so():
    moselle = Site(id="m", name="Metz", holiday_subdivision="57")
    assert closure_reason(moselle, date(2027, 3, 26)) is not None
    assert closure_reason(SITE, date(2027, 3, 26)) is None


def test_outside_opening_hours():
    day = date(2027, 3, 2)
    with pytest.raises(errors.OutsideOpeningHours):
        check(Interval(SITE.at(day, time(6, 0)), SITE.at(day, time(9, 0))))
    with pytest.raises(errors.OutsideOpeningHours):
        check(Interval(SITE.at(day, time(18, 0)), SITE.at(day, time(21, 0))))


def test_too_long():
    day = date(2027, 3, 2)
    rules = Rules(max_duration_minutes=60)
    with pytest.raises(errors.TooLong):
        check(Interval(SITE.at(day, time(9, 0)), SITE.at(day, time(10, 30))), rules=rules)


def test_restricted_desk_only_for_its_teams():
    restricted = Resource(id="r", site_id="s", kind="desk", name="RH-conf", restricted_team_ids=frozenset({"rh"}))
    slot = period_interval(SITE, date(2027, 3, 2), "day")
    with pytest.raises(errors.RestrictedResource):
        check(slot, resource=restricted, teams={"dsi"})
    check(slot, resource=restricted, teams={"dsi", "rh"})


def test_check_in_window():
    slot = Interval(NOW + timedelta(minutes=10), NOW + timedelta(hours=2))
    check_in_window(RULES, slot, NOW)
    with pytest.raises(errors.CheckInNotOpen):
        check_in_window(RULES, Interval(NOW + timedelta(minutes=20), NOW + timedelta(hours=2)), NOW)
    with pytest.raises(errors.CheckInNotOpen):
        check_in_window(RULES, Interval(NOW - timedelta(hours=2), NOW), NOW)


def test_rule_updates_are_bounded():
    assert RULES.updated({"max_days_ahead": 10}).max_days_ahead == 10
    with pytest.raises(errors.Invalid) as caught:
        RULES.updated({"max_days_ahead": -1})
    assert caught.value.details["field"] == "max_days_ahead"
    with pytest.raises(errors.Invalid):
        RULES.updated({"color": 1})
