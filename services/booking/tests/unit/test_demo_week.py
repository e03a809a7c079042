"""The demo town hall's coming days: what a new user sees on opening the demo."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.demo.staff import DEMO_ACCOUNTS
from booking.demo.week import DESK_SHARE, Agent, Desk, open_days, plan_week
from booking.domain.model import Site

PARIS = ZoneInfo("Europe/Paris")
SITE = Site(id="site-1", name="Hôtel de Ville")
TEAMS = ("etatcivil", "rh", "dsi", "finances")
AGENTS = [Agent(f"p-{team}-{i}", f"agent{i}.{team}@mairie-exemple.fr", frozenset({team}))
          for team in TEAMS for i in range(30)]
AGENTS += [Agent("p-demo-agent", DEMO_ACCOUNTS[0]["email"], frozenset({"dsi"})),
           Agent("p-demo-admin", DEMO_ACCOUNTS[1]["email"], frozenset({"dsi"}))]
DESKS = [Desk(f"d-{team}-{i}", team) for team in TEAMS for i in range(10)]
DESKS += [Desk(f"d-shared-{i}", None) for i in range(6)]
DESKS += [Desk("d-rh-private", "rh", frozenset({"rh"}))]
# A Tuesday morning, 10:20 in Paris.
MORNING = datetime(2026, 11, 24, 10, 20, tzinfo=PARIS)


def week(now=MORNING, days=5):
    return plan_week(SITE, AGENTS, DESKS, now, days)


def test_the_demo_accounts_are_left_to_the_user():
    planned = week()
    mine = {"p-demo-agent", "p-demo-admin"}
    assert not mine & set(planned.patterns)
    assert not mine & {b.person_id for b in planned.bookings}
    assert len(planned.patterns) == len(AGENTS) - 2


def test_everyone_else_declares_a_working_week_most_with_some_telework():
    planned = week()
    remote_days = Counter()
    for pid, pattern in planned.patterns.items():
        assert {e["weekday"] for e in pattern} == {1, 2, 3, 4, 5}
        for entry in pattern:
            assert entry["period"] in ("day", "morning", "afternoon")
            assert entry["status"] in ("on_site", "remote", "off")
            assert ("site_id" in entry) == (entry["status"] == "on_site")
        remote_days[sum(e["status"] == "remote" for e in pattern)] += 1
    assert max(remote_days) <= 3
    assert sum(n for days, n in remote_days.items() if days) > len(planned.patterns) / 2
    assert remote_days[0] > 0  # some come every day


def test_desks_are_booked_once_a_day_each_person_once_and_every_zone_keeps_free_desks():
    planned = week()
    assert planned.bookings
    for day in planned.days:
        todays = [b for b in planned.bookings if b.start.astimezone(PARIS).date() == day]
        assert todays, day
        assert len({b.resource_id for b in todays}) == len(todays)
        assert len({b.person_id for b in todays}) == len(todays)
        for team in TEAMS:
            zone = [d for d in DESKS if d.zone_team_id == team]
            booked = sum(b.resource_id in {d.resource_id for d in zone} for b in todays)
            assert booked <= int(len(zone) * DESK_SHARE) < len(zone)


def test_nobody_books_a_desk_on_a_day_they_telework_are_off_or_away():
    planned = week()
    for booking in planned.bookings:
        day = booking.start.astimezone(PARIS).date()
        pattern = planned.patterns[booking.person_id]
        halves = [e["status"] for e in pattern if e["weekday"] == day.isoweekday()]
        assert "on_site" in halves
        away = {p["date"] for p in planned.plans.get(booking.person_id, [])}
        assert day.isoformat() not in away
        assert SITE.at(day, SITE.opening_time) <= booking.start < booking.end <= SITE.at(day, SITE.closing_time)


def test_a_restricted_desk_goes_only_to_its_teams():
    for planned in (week(), week(days=10)):
        for booking in planned.bookings:
            if booking.resource_id == "d-rh-private":
                assert booking.person_id.startswith("p-rh-")


def test_a_few_are_on_leave_or_on_mission_and_a_few_keep_their_presence_private():
    planned = week()
    statuses = Counter(p["status"] for plans in planned.plans.values() for p in plans)
    assert set(statuses) <= {"off", "mission"} and statuses
    assert 0 < len(planned.visibility) < len(planned.patterns) / 4
    assert set(planned.visibility.values()) <= {"teams", "nobody"}


def test_today_only_what_is_not_over_some_have_checked_in_and_some_are_busy_now():
    planned = week()
    today = [b for b in planned.bookings if b.start.astimezone(PARIS).date() == MORNING.date()]
    assert today and all(b.end > MORNING + timedelta(minutes=30) for b in today)
    assert all(b.start <= MORNING for b in today if b.check_in)
    assert any(b.check_in for b in today) and not all(b.check_in for b in today)
    assert not any(b.check_in for b in planned.bookings if b.start > MORNING)
    checked_in = {b.person_id for b in today if b.check_in}
    assert planned.statuses
    for status in planned.statuses:
        assert status.person_id in checked_in
        assert status.kind in ("in_meeting", "do_not_disturb")
        assert MORNING < status.until <= MORNING + timedelta(hours=2)


def test_in_the_evening_today_is_over_and_nobody_is_busy_now():
    evening = MORNING.replace(hour=19)
    planned = week(now=evening)
    assert planned.days[0] == MORNING.date() + timedelta(days=1)
    assert not planned.statuses and not any(b.check_in for b in planned.bookings)


def test_running_again_later_in_the_week_asks_for_the_same_things():
    first = week(days=5)
    later = week(now=MORNING + timedelta(days=1, hours=3), days=2)
    fewer = week(days=2)
    key = lambda b: (b.person_id, b.resource_id, b.start, b.end)  # noqa: E731
    assert {key(b) for b in fewer.bookings} <= {key(b) for b in first.bookings}
    assert {key(b) for b in later.bookings} <= {key(b) for b in first.bookings}
    assert later.patterns == first.patterns and later.visibility == first.visibility
    for pid, plans in later.plans.items():
        assert all(p in first.plans[pid] for p in plans)


@pytest.mark.parametrize("now, expected", [
    # Christmas Eve after five: not today, not Christmas Day, not the weekend.
    (datetime(2026, 12, 24, 18, 0, tzinfo=PARIS), [date(2026, 12, 28), date(2026, 12, 29)]),
    # A Saturday: from Monday.
    (datetime(2026, 11, 28, 9, 0, tzinfo=PARIS), [date(2026, 11, 30), date(2026, 12, 1)]),
    # A Monday morning: today first.
    (datetime.combine(date(2026, 11, 23), time(8, 0), tzinfo=PARIS), [date(2026, 11, 23), date(2026, 11, 24)]),
])
def test_only_open_days_are_planned(now, expected):
    assert open_days(SITE, now, 2) == expected
