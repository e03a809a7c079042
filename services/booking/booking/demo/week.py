"""The demo town hall's coming working days, so the demo opens on a lived-in site.

Without them a new user's "who is on site" is empty and every "where is"
says "unknown". Here colleagues have declared their weekly pattern (most
telework one to three days a week, some work part time and are off on
Wednesday), a few are on leave or on a mission, most of those on site have
booked a desk in their department's zone (leaving free desks in every zone),
some already checked in this morning, a few keep their presence to their
teams or to themselves, and a few are in a meeting right now.

Each person's choices are drawn from their e-mail address with a fixed seed
and each day's desk draw from its date, so running this again on the same
day asks for the same things, and the bookings carry idempotency keys: a
second run changes nothing. The demo accounts are left alone: their week is
the user's to plan.

Plain Python: the ``escale demo week`` command sends the result through the
running services, so events, presence and notifications follow as they do
for a real agent.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from booking.domain.model import Site
from booking.domain.rules import closure_reason

from .staff import DEMO_ACCOUNTS

SEED = "escale-demo-week"
WORKDAYS = (1, 2, 3, 4, 5)
# How many weekdays a person teleworks: (days, weight). French public
# agents may telework up to three days a week; most take one or two.
TELEWORK_DAYS = ((0, 20), (1, 35), (2, 40), (3, 5))
# Which weekdays are chosen first for telework (Monday 1 .. Friday 5).
TELEWORK_WEIGHTS = {1: 3, 2: 1, 3: 3, 4: 1, 5: 4}
PART_TIME = 0.12          # off on Wednesday, the whole day or the afternoon
ON_LEAVE = 0.07           # a few consecutive days off in the coming days
ON_MISSION = 0.04         # one day away on a mission
KEEP_TO_TEAMS = 0.07      # presence visible to their teams only
KEEP_TO_SELF = 0.03       # presence visible to nobody
DESK_SHARE = 0.8          # of a zone's desks, at most, booked in the demo
CHECKED_IN = 0.8          # of today's bookings already started
IN_MEETING = 0.08         # of those checked in
DO_NOT_DISTURB = 0.03


@dataclass(frozen=True)
class Agent:
    person_id: str
    email: str
    team_ids: frozenset[str]


@dataclass(frozen=True)
class Desk:
    resource_id: str
    zone_team_id: str | None          # the team whose zone the desk is in
    restricted_team_ids: frozenset[str] = frozenset()

    def open_to(self, agent: Agent) -> bool:
        return not self.restricted_team_ids or bool(self.restricted_team_ids & agent.team_ids)


@dataclass(frozen=True)
class DeskBooking:
    person_id: str
    resource_id: str
    start: datetime
    end: datetime
    check_in: bool

    @property
    def idempotency_key(self) -> str:
        return f"demo-week:{self.person_id}:{self.start.date().isoformat()}"

    def request(self) -> dict:
        return {"resource_id": self.resource_id, "start": self.start.isoformat(),
                "end": self.end.isoformat()}


@dataclass(frozen=True)
class Status:
    person_id: str
    kind: str
    until: datetime


@dataclass
class Week:
    days: list[date]
    patterns: dict[str, list[dict]] = field(default_factory=dict)
    plans: dict[str, list[dict]] = field(default_factory=dict)      # leave and missions
    visibility: dict[str, str] = field(default_factory=dict)        # only those not "everyone"
    bookings: list[DeskBooking] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)

    @property
    def people(self) -> list[str]:
        return sorted(self.patterns)


@dataclass(frozen=True)
class _Habits:
    """One person's week: weekday -> (am, pm) status, and their days away."""
    weekdays: dict[int, tuple[str, str]]
    away: dict[date, str]

    def on_site(self, day: date) -> tuple[bool, bool]:
        if day in self.away:
            return False, False
        am, pm = self.weekdays.get(day.isoweekday(), ("off", "off"))
        return am == "on_site", pm == "on_site"


def open_days(site: Site, now: datetime, count: int) -> list[date]:
    """Today while desks may still be booked for it, then the next open days."""
    today = site.local_date(now)
    first = today if now < site.at(today, time(17, 0)) else today + timedelta(days=1)
    days, day = [], first
    while len(days) < count and day <= today + timedelta(days=28):
        if closure_reason(site, day) is None:
            days.append(day)
        day += timedelta(days=1)
    return days


def plan_week(site: Site, agents: list[Agent], desks: list[Desk], now: datetime,
              day_count: int = 5) -> Week:
    days = open_days(site, now, day_count)
    week = Week(days=days)
    demo_accounts = {account["email"] for account in DEMO_ACCOUNTS}
    people = sorted((a for a in agents if a.email not in demo_accounts), key=lambda a: a.email)
    habits: dict[str, _Habits] = {}
    for agent in people:
        rng = random.Random(f"{SEED}:{agent.email}")
        weekdays = _weekly_pattern(rng)
        week.patterns[agent.person_id] = _pattern_wire(weekdays, site.id)
        away = _days_away(rng, site, site.local_date(now))
        if away:
            week.plans[agent.person_id] = [{"date": d.isoformat(), "period": "day", "status": s}
                                           for d, s in sorted(away.items())]
        draw = rng.random()
        if draw < KEEP_TO_SELF:
            week.visibility[agent.person_id] = "nobody"
        elif draw < KEEP_TO_SELF + KEEP_TO_TEAMS:
            week.visibility[agent.person_id] = "teams"
        habits[agent.person_id] = _Habits(weekdays, away)
    for day in days:
        week.bookings.extend(_desks_for_day(site, day, now, people, habits, desks))
    week.statuses = _statuses_now(site, now, week.bookings)
    return week


def _weekly_pattern(rng: random.Random) -> dict[int, tuple[str, str]]:
    weekdays = {d: ("on_site", "on_site") for d in WORKDAYS}
    if rng.random() < PART_TIME:
        weekdays[3] = ("off", "off") if rng.random() < 0.6 else ("on_site", "off")
    days, weights = zip(*TELEWORK_DAYS)
    remote = rng.choices(days, weights)[0]
    # Weighted draw without replacement: the smallest -log(u)/w come first.
    order = sorted((d for d in WORKDAYS if weekdays[d] == ("on_site", "on_site")),
                   key=lambda d: -math.log(1.0 - rng.random()) / TELEWORK_WEIGHTS[d])
    for d in order[:remote]:
        weekdays[d] = ("remote", "remote")
    return weekdays


def _pattern_wire(weekdays: dict[int, tuple[str, str]], site_id: str) -> list[dict]:
    out = []
    for weekday, halves in sorted(weekdays.items()):
        periods = (("day", halves[0]),) if halves[0] == halves[1] else (("morning", halves[0]), ("afternoon", halves[1]))
        for period, status in periods:
            entry = {"weekday": weekday, "period": period, "status": status}
            if status == "on_site":
                entry["site_id"] = site_id
            out.append(entry)
    return out


def _days_away(rng: random.Random, site: Site, today: date) -> dict[date, str]:
    """Leave (a few open days in a row) or a mission (one day) within the next
    three weeks, drawn from the week's Monday so that every run of the week
    agrees, whatever the day and the number of days asked for."""
    draw = rng.random()
    if draw >= ON_LEAVE + ON_MISSION:
        return {}
    monday = today - timedelta(days=today.isoweekday() - 1)
    day = monday + timedelta(days=rng.randrange(21))
    length = 1 if draw < ON_MISSION else rng.randint(2, 5)
    status = "mission" if draw < ON_MISSION else "off"
    away: dict[date, str] = {}
    while len(away) < length and day < monday + timedelta(days=35):
        if closure_reason(site, day) is None:
            away[day] = status
        day += timedelta(days=1)
    return {d: s for d, s in away.items() if d >= today}


def _desks_for_day(site: Site, day: date, now: datetime, people: list[Agent],
                   habits: dict[str, _Habits], desks: list[Desk]) -> list[DeskBooking]:
    rng = random.Random(f"{SEED}:{day.isoformat()}")
    by_team: dict[str | None, list[Desk]] = defaultdict(list)
    for desk in desks:
        by_team[desk.zone_team_id].append(desk)
    seated: set[str] = set()        # one desk a day per person
    bookings = []
    # Teams' own zones first, then shared zones for whoever is left.
    for team_id in sorted(by_team, key=lambda t: (t is None, t or "")):
        zone = by_team[team_id]
        room = int(len(zone) * DESK_SHARE)
        coming = [a for a in people if a.person_id not in seated
                  and (team_id is None or team_id in a.team_ids) and any(habits[a.person_id].on_site(day))]
        rng.shuffle(coming)
        free = list(zone)
        rng.shuffle(free)
        for agent in coming:
            if room <= 0:
                break
            desk = next((d for d in free if d.open_to(agent)), None)
            if desk is None:
                break
            am, pm = habits[agent.person_id].on_site(day)
            start, end = _hours(site, day, rng, am, pm)
            free.remove(desk)
            seated.add(agent.person_id)
            room -= 1
            # Who sits where does not depend on the time of the run (a second run asks
            # for the same desks); what is already over is left out, and who has
            # already checked in is drawn apart.
            if end > now + timedelta(minutes=30):
                arrived = start <= now and random.Random(f"{SEED}:{agent.email}:{day}").random() < CHECKED_IN
                bookings.append(DeskBooking(agent.person_id, desk.resource_id, start, end, arrived))
    return bookings


def _hours(site: Site, day: date, rng: random.Random, am: bool, pm: bool) -> tuple[datetime, datetime]:
    """A day, a morning or an afternoon at the desk, within the site's opening hours."""
    arrive = rng.choice((time(8, 0), time(8, 30), time(9, 0))) if am else time(13, 30)
    leave = rng.choice((time(17, 0), time(17, 30), time(18, 0))) if pm else time(12, 30)
    return (max(site.at(day, arrive), site.at(day, site.opening_time)),
            min(site.at(day, leave), site.at(day, site.closing_time)))


def _statuses_now(site: Site, now: datetime, bookings: list[DeskBooking]) -> list[Status]:
    """A few of those at their desk now are in a meeting or not to be disturbed."""
    here = [b for b in bookings if b.check_in and b.start <= now < b.end - timedelta(hours=1)]
    rng = random.Random(f"{SEED}:{site.local_date(now).isoformat()}:now")
    quarter = now.replace(minute=now.minute - now.minute % 15, second=0, microsecond=0)
    out = []
    for booking in sorted(here, key=lambda b: b.person_id):
        draw = rng.random()
        if draw < IN_MEETING:
            out.append(Status(booking.person_id, "in_meeting", quarter + timedelta(minutes=rng.choice((45, 60, 90)))))
        elif draw < IN_MEETING + DO_NOT_DISTURB:
            out.append(Status(booking.person_id, "do_not_disturb", quarter + timedelta(minutes=60)))
    return out
