from datetime import date, time, timedelta, timezone

import pytest

from booking.domain import errors
from booking.domain.model import Interval, Site
from booking.domain.recurrence import cap_horizon, expand_period, expand_slot

pytestmark = pytest.mark.unit

PARIS = Site(id="s", name="Hôtel de Ville")


def local(moment):
    return moment.astimezone(PARIS.tz)


def test_weekly_slot_keeps_local_time_across_the_end_of_march():
    # Tuesday 23 March 2027, 09:00-12:00 Paris; clocks go forward on Sunday 28 March.
    first = Interval(PARIS.at(date(2027, 3, 23), time(9)), PARIS.at(date(2027, 3, 23), time(12)))
    occurrences = expand_slot("FREQ=WEEKLY;COUNT=3", PARIS, first)
    assert [local(o.start).strftime("%Y-%m-%d %H:%M") for o in occurrences] == [
        "2027-03-23 09:00", "2027-03-30 09:00", "2027-04-06 09:00",
    ]
    assert [o.start.utcoffset() for o in occurrences] == [
        timedelta(hours=1), timedelta(hours=2), timedelta(hours=2),
    ]
    # The UTC instants therefore move by an hour: 08:00Z then 07:00Z.
    assert occurrences[0].start.astimezone(timezone.utc).hour == 8
    assert occurrences[1].start.astimezone(timezone.utc).hour == 7


def test_weekly_days_across_the_end_of_october():
    # Clocks go back on Sunday 31 October 2027.
    occurrences = expand_period("FREQ=WEEKLY;BYDAY=TU;COUNT=2", PARIS, date(2027, 10, 26), "day")
    assert [local(o.start).strftime("%Y-%m-%d %H:%M %z") for o in occurrences] == [
        "2027-10-26 07:30 +0200", "2027-11-02 07:30 +0100",
    ]
    assert all(o.minutes == 750 for o in occurrences)


def test_every_tuesday_until_the_end_of_march_with_a_date_until():
    occurrences = expand_period("FREQ=WEEKLY;BYDAY=TU;UNTIL=20270330", PARIS, date(2027, 3, 2), "morning")
    days = [local(o.start).date().isoformat() for o in occurrences]
    assert days == ["2027-03-02", "2027-03-09", "2027-03-16", "2027-03-23", "2027-03-30"]


def test_utc_until_is_understood_in_local_time():
    occurrences = expand_period(
        "RRULE:FREQ=DAILY;UNTIL=20270303T230000Z", PARIS, date(2027, 3, 1), "afternoon"
    )
    # 23:00Z on the 3rd is 00:00 on the 4th in Paris: the 3rd's afternoon (13:00) is included.
    assert [local(o.start).day for o in occurrences] == [1, 2, 3]


@pytest.mark.parametrize(
    "rule",
    ["", "FREQ=HOURLY;COUNT=3", "FREQ=WEEKLY;UNTIL=notadate", "COUNT", "FREQ=WEEKLY;DTSTART=20270101",
     "FREQ=WEEKLY;BYDAY=XX", "x" * 300],
)
def test_bad_rules_are_refused_naming_the_field(rule):
    with pytest.raises(errors.Invalid) as caught:
        expand_period(rule, PARIS, date(2027, 3, 2), "day")
    assert caught.value.details["field"] == "rrule"


def test_an_endless_daily_rule_is_refused():
    with pytest.raises(errors.RecurrenceTooLong):
        expand_period("FREQ=DAILY", PARIS, date(2027, 3, 2), "day")


def test_horizon_splits_occurrences():
    occurrences = expand_period("FREQ=WEEKLY;COUNT=10", PARIS, date(2027, 3, 2), "day")
    inside, beyond = cap_horizon(occurrences, PARIS, date(2027, 3, 1), 30)
    assert len(inside) == 5 and len(beyond) == 5
