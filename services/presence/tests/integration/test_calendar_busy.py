"""calendar.busy (booking's calendar sync) on the real PostgreSQL and Redis:
an agent's own meetings show as "in a meeting" without any title."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from presence import usecases
from presence.domain import errors
from presence.domain.access import Actor

from .conftest import local

pytestmark = pytest.mark.integration


def busy_event(person_id, start, end, periods, occurred_at=None):
    return {"v": 1, "event_id": str(uuid.uuid4()), "type": "calendar.busy",
            "occurred_at": (occurred_at or datetime.now(timezone.utc)).isoformat(), "person_id": person_id,
            "window": {"start": start.isoformat(), "end": end.isoformat()},
            "periods": [{"start": s.isoformat(), "end": e.isoformat()} for s, e in periods]}


@pytest.fixture
def alice(ports):
    return ports.booking.add_person("Alice Martin", "DSI")


def now_local():
    today = datetime.now(timezone.utc).astimezone(usecases.ZoneInfo("Europe/Paris")).date()
    return local(today, 10, 0), today


def test_busy_times_show_as_in_a_meeting_until_their_end_and_later_reports_replace_them(ports, alice):
    now, today = now_local()
    day_start, day_end = local(today, 0), local(today, 0) + timedelta(days=2)
    usecases.set_plan(ports, Actor(alice, "agent"),
                      [{"date": today.isoformat(), "period": "day", "status": "remote", "site_id": None}],
                      None, now)
    meeting = (now - timedelta(minutes=30), now + timedelta(minutes=60))
    stamp = datetime.now(timezone.utc)
    assert usecases.on_calendar_busy(ports, busy_event(alice, day_start, day_end, [meeting], stamp), now) == "applied"
    presence = usecases.where_is(ports, Actor(alice, "agent"), alice, None, now)["presence"]
    assert (presence["status"], presence["signal"]) == ("in_meeting", "meeting")
    assert presence["until"] == meeting[1].isoformat()
    with ports.store.unit() as unit:
        changed = unit.conn.execute(
            "SELECT payload FROM outbox WHERE event_type = 'presence.changed' AND payload->>'person_id' = %s "
            "ORDER BY id DESC LIMIT 1", (alice,)).fetchone()["payload"]
    assert changed["cause"] == "calendar"
    # An older report arriving late changes nothing; a newer empty one frees the person.
    assert usecases.on_calendar_busy(ports, busy_event(alice, day_start, day_end, [],
                                                       stamp - timedelta(minutes=5)), now) == "superseded"
    assert usecases.where_is(ports, Actor(alice, "agent"), alice, None, now)["presence"]["status"] == "in_meeting"
    usecases.on_calendar_busy(ports, busy_event(alice, day_start, day_end, [], stamp + timedelta(minutes=1)), now)
    presence = usecases.where_is(ports, Actor(alice, "agent"), alice, None, now)["presence"]
    assert (presence["status"], presence["signal"]) == ("remote", "day_plan")


def test_malformed_busy_events_are_refused(ports, alice):
    now, today = now_local()
    with pytest.raises(errors.Invalid):
        usecases.on_calendar_busy(ports, {"person_id": alice, "window": {"start": "yesterday"}}, now)
    naive = busy_event(alice, local(today, 0), local(today, 23), [])
    naive["periods"] = [{"start": "2026-11-23T10:00:00", "end": "2026-11-23T11:00:00"}]
    with pytest.raises(errors.Invalid):
        usecases.on_calendar_busy(ports, naive, now)
