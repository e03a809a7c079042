"""Presence use cases on the real PostgreSQL and Redis: events in any order,
plans, temporary status, privacy, rosters, and rebuilding an emptied read model."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from presence import usecases
from presence.domain.access import Actor
from presence.domain import errors
from presence.domain.search import Index
from tests.support.presence import delete_prefix

from .conftest import booking_event, local

pytestmark = pytest.mark.integration

TEAM, OTHER_TEAM = str(uuid.uuid4()), str(uuid.uuid4())


def noon_today():
    """A fixed moment of today (local), so tests do not depend on the hour they run."""
    today = datetime.now(timezone.utc).astimezone(usecases.ZoneInfo("Europe/Paris")).date()
    return local(today, 10, 0)


@pytest.fixture
def world(ports):
    fake = ports.booking
    site = fake.add_site()
    alice = fake.add_person("Alice Martin", "DSI", teams=[TEAM], phone_extension="4242")
    bob = fake.add_person("Bob Durand", "DSI", teams=[TEAM])
    carol = fake.add_person("Carol Petit", "RH", teams=[OTHER_TEAM])
    now = noon_today()
    usecases.maintain(ports, now, usecases.Upkeep(), 30)
    return {"site": site, "alice": alice, "bob": bob, "carol": carol, "now": now}


def agent(pid, role="agent"):
    return Actor(pid, role)


def outbox(ports, person_id):
    with ports.store.unit() as unit:
        rows = unit.conn.execute(
            "SELECT event_type, payload FROM outbox WHERE payload->>'person_id' = %s ORDER BY id",
            (person_id,)).fetchall()
    return [(r["event_type"], r["payload"]) for r in rows]


def test_a_desk_booked_for_now_puts_the_person_on_site_at_the_desk(ports, world):
    now, alice = world["now"], world["alice"]
    event = booking_event("booking.created", alice, world["site"], now - timedelta(hours=1), now + timedelta(hours=2))
    assert usecases.on_booking_event(ports, "booking.created", event, now) == "applied"
    answer = usecases.where_is(ports, agent(world["bob"]), alice, None, now)
    presence = answer["presence"]
    assert (presence["status"], presence["signal"]) == ("on_site", "booking")
    assert presence["place"]["resource_id"] == event["booking"]["resource_id"]
    assert presence["reach"][0]["channel"] == "phone"  # at the desk: the phone first
    assert presence["plan"] == {"status": "on_site", "site_id": world["site"], "source": "booking"}

    checked = booking_event("booking.checked_in", alice, world["site"], now - timedelta(hours=1),
                            now + timedelta(hours=2), booking_id=event["booking"]["id"])
    usecases.on_booking_event(ports, "booking.checked_in", checked, now)
    presence = usecases.where_is(ports, agent(world["bob"]), alice, None, now)["presence"]
    assert (presence["status"], presence["signal"]) == ("on_site", "check_in")
    types = [t for t, _ in outbox(ports, alice)]
    assert types.count("presence.changed") == 2 and "workplan.changed" in types


def test_cancelling_goes_back_to_the_plan(ports, world):
    now, bob = world["now"], world["bob"]
    usecases.set_pattern(ports, agent(bob), [{"weekday": now.isoweekday(), "period": "day",
                                              "status": "remote", "site_id": None}], None, now)
    assert usecases.where_is(ports, agent(bob), bob, None, now)["presence"]["status"] == "remote"
    created = booking_event("booking.created", bob, world["site"], now - timedelta(minutes=5), now + timedelta(hours=3))
    usecases.on_booking_event(ports, "booking.created", created, now)
    plan = usecases.get_plan(ports, agent(bob), now.date().isoformat(), now.date().isoformat(), None, now)
    assert plan["days"][0]["am"] == {"status": "on_site", "site_id": world["site"], "source": "booking"}
    assert usecases.where_is(ports, agent(bob), bob, None, now)["presence"]["signal"] == "booking"

    cancelled = booking_event("booking.cancelled", bob, world["site"], now - timedelta(minutes=5),
                              now + timedelta(hours=3), booking_id=created["booking"]["id"])
    usecases.on_booking_event(ports, "booking.cancelled", cancelled, now)
    presence = usecases.where_is(ports, agent(bob), bob, None, now)["presence"]
    assert (presence["status"], presence["signal"], presence["plan"]["source"]) == ("remote", "day_plan", "pattern")
    workplans = [p for t, p in outbox(ports, bob) if t == "workplan.changed"]
    assert [w["cause"] for w in workplans] == ["pattern", "booking", "booking"]
    assert workplans[-1]["days"][0]["am"]["status"] == "remote"


def test_a_desk_booked_for_a_later_day_changes_that_day_only(ports, world):
    now, alice, bob = world["now"], world["alice"], world["bob"]
    day = now.date() + timedelta(days=3)
    today_before = ports.model.day_docs([(now.date(), alice)])
    event = booking_event("booking.created", alice, world["site"], local(day, 8), local(day, 18))
    assert usecases.on_booking_event(ports, "booking.created", event, now) == "applied"
    roster = usecases.on_site(ports, agent(bob), day.isoformat(), world["site"], None, now)["people"]
    assert [[d["resource_id"] for d in p["desks"]] for p in roster if p["person"]["id"] == alice] \
        == [[event["booking"]["resource_id"]]]
    assert ports.model.day_docs([(now.date(), alice)]) == today_before
    events = outbox(ports, alice)
    assert [t for t, _ in events] == ["workplan.changed"]  # nothing changed today
    assert [d["date"] for d in events[0][1]["days"]] == [day.isoformat()]


def test_a_declared_plan_beats_a_booking(ports, world):
    now, carol = world["now"], world["carol"]
    usecases.set_plan(ports, agent(carol), [{"date": now.date().isoformat(), "period": "morning",
                                              "status": "off", "site_id": None}], None, now)
    later = booking_event("booking.created", carol, world["site"], local(now.date(), 8), local(now.date(), 18))
    usecases.on_booking_event(ports, "booking.created", later, now - timedelta(hours=3))
    day = usecases.get_plan(ports, agent(carol), now.date().isoformat(), now.date().isoformat(), None, now)["days"][0]
    assert day["am"] == {"status": "off", "site_id": None, "source": "declared"}
    assert day["pm"]["source"] == "booking"


def test_the_same_event_twice_changes_nothing_the_second_time(ports, world):
    now, alice = world["now"], world["alice"]
    event = booking_event("booking.created", alice, world["site"], now + timedelta(hours=1), now + timedelta(hours=2))
    assert usecases.on_booking_event(ports, "booking.created", event, now) == "applied"
    before = outbox(ports, alice)
    assert usecases.on_booking_event(ports, "booking.created", event, now) == "duplicate"
    assert outbox(ports, alice) == before


def test_a_cancel_before_its_create_leaves_no_ghost(ports, world):
    now, alice = world["now"], world["alice"]
    start, end = now - timedelta(minutes=10), now + timedelta(hours=1)
    booking_id = str(uuid.uuid4())
    cancel = booking_event("booking.cancelled", alice, world["site"], start, end, booking_id=booking_id)
    create = booking_event("booking.created", alice, world["site"], start, end, booking_id=booking_id)
    check_in = booking_event("booking.checked_in", alice, world["site"], start, end, booking_id=booking_id)
    assert usecases.on_booking_event(ports, "booking.cancelled", cancel, now) == "applied"
    assert usecases.on_booking_event(ports, "booking.checked_in", check_in, now) == "superseded"
    assert usecases.on_booking_event(ports, "booking.created", create, now) == "superseded"
    presence = usecases.where_is(ports, agent(alice), alice, None, now)["presence"]
    assert presence["status"] == "unknown"
    roster = usecases.on_site(ports, agent(alice), now.date().isoformat(), world["site"], None, now)
    assert alice not in [p["person"]["id"] for p in roster["people"]]


def test_a_check_in_before_its_create_stays_checked_in(ports, world):
    now, bob = world["now"], world["bob"]
    start, end = now - timedelta(minutes=10), now + timedelta(hours=1)
    booking_id = str(uuid.uuid4())
    usecases.on_booking_event(ports, "booking.checked_in",
                              booking_event("booking.checked_in", bob, world["site"], start, end, booking_id=booking_id), now)
    usecases.on_booking_event(ports, "booking.created",
                              booking_event("booking.created", bob, world["site"], start, end, booking_id=booking_id), now)
    assert usecases.where_is(ports, agent(bob), bob, None, now)["presence"]["signal"] == "check_in"


def test_an_extension_applies_and_an_older_copy_never_undoes_it(ports, world):
    now, carol = world["now"], world["carol"]
    start, end, longer = now - timedelta(minutes=30), now + timedelta(minutes=10), now + timedelta(minutes=40)
    booking_id = str(uuid.uuid4())
    created = booking_event("booking.created", carol, world["site"], start, end, booking_id=booking_id)
    created["occurred_at"] = (now - timedelta(minutes=31)).isoformat()
    updated = booking_event("booking.updated", carol, world["site"], start, longer, booking_id=booking_id,
                            status="confirmed")
    updated["occurred_at"] = (now - timedelta(minutes=1)).isoformat()
    assert usecases.on_booking_event(ports, "booking.updated", updated, now) == "applied"
    assert usecases.on_booking_event(ports, "booking.created", created, now) == "superseded"
    presence = usecases.where_is(ports, agent(world["alice"]), carol, None, now)["presence"]
    assert presence["signal"] == "booking" and presence["until"] == longer.isoformat()


def test_a_temporary_status_expires_by_itself(ports, world):
    now, alice = world["now"], world["alice"]
    answer = usecases.set_status(ports, agent(alice), "in_meeting", (now + timedelta(minutes=30)).isoformat(),
                                 "  point   budget ", now)
    assert (answer["presence"]["status"], answer["presence"]["label"]) == ("in_meeting", "point budget")
    assert answer["presence"]["until"] == (now + timedelta(minutes=30)).isoformat()
    after = now + timedelta(minutes=31)
    assert usecases.where_is(ports, agent(alice), alice, None, after)["presence"]["status"] == "unknown"
    # the clock alone changes the status: it is published at the change
    assert ports.model.claim_due(now.timestamp()) == []
    assert usecases.status_changes(ports, after) == 1
    last = [p for t, p in outbox(ports, alice) if t == "presence.changed"][-1]
    assert last["cause"] == "time" and last["presence"]["status"] == "unknown"


def test_status_input_is_checked(ports, world):
    now, alice = world["now"], world["alice"]
    with pytest.raises(errors.Invalid) as bad:
        usecases.set_status(ports, agent(alice), "sleeping", (now + timedelta(hours=1)).isoformat(), None, now)
    assert bad.value.details == {"field": "kind"}
    with pytest.raises(errors.Invalid):
        usecases.set_status(ports, agent(alice), "away", (now + timedelta(hours=13)).isoformat(), None, now)
    with pytest.raises(errors.Invalid):
        usecases.set_status(ports, agent(alice), "away", (now + timedelta(hours=1)).isoformat(), "x" * 81, now)
    with pytest.raises(errors.Forbidden):
        usecases.set_status(ports, Actor(None, "bot"), "away", (now + timedelta(hours=1)).isoformat(), None, now)


def test_privacy_matrix_on_real_data(ports, world):
    now, alice, bob, carol = world["now"], world["alice"], world["bob"], world["carol"]
    usecases.set_plan(ports, agent(alice), [{"date": now.date().isoformat(), "period": "day",
                                              "status": "on_site", "site_id": world["site"]}], None, now)
    seen = lambda who: usecases.where_is(ports, who, alice, None, now)["presence"]["status"]  # noqa: E731
    admin = Actor(str(uuid.uuid4()), "admin")
    assert (seen(agent(bob)), seen(agent(carol)), seen(admin)) == ("on_site",) * 3
    usecases.set_privacy(ports, agent(alice), "teams", now)
    assert (seen(agent(bob)), seen(agent(carol)), seen(admin)) == ("on_site", "not_available", "not_available")
    roster = lambda who: [p["person"]["id"] for p in usecases.on_site(  # noqa: E731
        ports, who, now.date().isoformat(), world["site"], None, now)["people"]]
    assert alice in roster(agent(bob)) and alice not in roster(agent(carol))
    usecases.set_privacy(ports, agent(alice), "nobody", now)
    assert (seen(agent(bob)), seen(admin), seen(agent(alice))) == ("not_available", "not_available", "on_site")
    hidden = usecases.where_is(ports, agent(bob), alice, None, now)["presence"]
    assert hidden["place"] is None and hidden["since"] is None and hidden["plan"] is None
    assert alice not in roster(agent(bob)) and alice in roster(agent(alice))
    assert usecases.get_privacy(ports, agent(alice))["visibility"] == "nobody"


def test_a_directory_sync_during_a_privacy_change_does_not_undo_it(ports, world, monkeypatch):
    """The sync reads visibilities from the database; it ran here at the moment
    the read model was written, as it may on a busy service."""
    now, alice, bob = world["now"], world["alice"], world["bob"]
    write = ports.model.write_directory
    synced = []

    def write_then_sync(entries, removed=(), old=None):
        write(entries, removed, old=old)
        if alice in entries and not synced:
            synced.append(usecases.sync_directory(ports, now, None))

    monkeypatch.setattr(ports.model, "write_directory", write_then_sync)
    usecases.set_privacy(ports, agent(alice), "nobody", now)
    assert synced
    assert usecases.where_is(ports, agent(bob), alice, None, now)["presence"]["status"] == "not_available"


def test_off_never_says_why(ports, world):
    now, carol = world["now"], world["carol"]
    usecases.set_plan(ports, agent(carol), [{"date": now.date().isoformat(), "period": "day",
                                              "status": "off", "site_id": None}], None, now)
    presence = usecases.where_is(ports, agent(world["alice"]), carol, None, now)["presence"]
    assert presence["status"] == "off" and presence["label"] is None and presence["place"] is None
    with pytest.raises(errors.Invalid):
        usecases.set_plan(ports, agent(carol), [{"date": now.date().isoformat(), "status": "off",
                                                  "site_id": None, "reason": "sick"}], None, now)


def test_a_whole_week_in_one_call_and_the_roster_with_a_team(ports, world):
    now, alice, bob, carol, site = world["now"], world["alice"], world["bob"], world["carol"], world["site"]
    week = [{"date": (now.date() + timedelta(days=i)).isoformat(), "period": "day",
             "status": "on_site" if i % 2 == 0 else "remote", "site_id": site if i % 2 == 0 else None}
            for i in range(7)]
    result = usecases.set_plan(ports, agent(bob), week, None, now)
    assert [d["am"]["status"] for d in result["days"]] == ["on_site", "remote"] * 3 + ["on_site"]
    usecases.set_plan(ports, agent(carol), week[:1], None, now)
    in_two_days = (now.date() + timedelta(days=2)).isoformat()
    everyone = usecases.on_site(ports, agent(alice), in_two_days, site, None, now)["people"]
    assert [p["person"]["id"] for p in everyone] == [bob]
    today = now.date().isoformat()
    team = usecases.on_site(ports, agent(alice), today, site, TEAM, now)["people"]
    assert [p["person"]["id"] for p in team] == [bob]
    assert {p["person"]["id"] for p in usecases.on_site(ports, agent(alice), today, None, None, now)["people"]} >= {bob, carol}
    far = (now.date() + timedelta(days=40)).isoformat()
    usecases.set_plan(ports, agent(carol), [{"date": far, "status": "on_site", "site_id": site}], None, now)
    assert [p["person"]["id"] for p in usecases.on_site(ports, agent(alice), far, site, None, now)["people"]] == [carol]


def test_plan_input_is_checked(ports, world):
    now, bob = world["now"], world["bob"]
    bad = [
        ([{"date": "2020-01-01", "status": "remote", "site_id": None}], "days[0].date"),
        ([{"date": now.date().isoformat(), "status": "on_site", "site_id": None}], "days[0].site_id"),
        ([{"date": now.date().isoformat(), "status": "on_site", "site_id": str(uuid.uuid4())}], "days[0].site_id"),
        ([{"date": now.date().isoformat(), "status": "remote", "site_id": world["site"]}], "days[0].site_id"),
        ([{"date": now.date().isoformat(), "status": "asleep", "site_id": None}], "days[0].status"),
        ([{"date": now.date().isoformat(), "period": "night", "status": "remote"}], "days[0].period"),
        ([], "days"),
        ("monday", "days"),
    ]
    for days, field in bad:
        with pytest.raises(errors.Invalid) as caught:
            usecases.set_plan(ports, agent(bob), days, None, now)
        assert caught.value.details["field"] == field, days
    with pytest.raises(errors.Forbidden):
        usecases.set_plan(ports, agent(bob), [{"date": now.date().isoformat(), "status": "remote"}],
                          world["alice"], now)


def test_an_emptied_redis_is_rebuilt_from_the_snapshot_and_the_plans(ports, world):
    now, alice, bob, site = world["now"], world["alice"], world["bob"], world["site"]
    usecases.set_plan(ports, agent(bob), [{"date": now.date().isoformat(), "period": "day",
                                            "status": "on_site", "site_id": site}], None, now)
    live = booking_event("booking.created", alice, site, now - timedelta(hours=1), now + timedelta(hours=1))
    usecases.on_booking_event(ports, "booking.created", live, now)
    missed = booking_event("booking.created", bob, site, now - timedelta(hours=1), now + timedelta(hours=1))
    ports.booking.bookings[live["booking"]["id"]] = live
    ports.booking.bookings[missed["booking"]["id"]] = missed  # its event never arrived
    before_alice = usecases.where_is(ports, agent(bob), alice, None, now)

    assert delete_prefix(ports.model.r, ports.model.p.removesuffix("v1:")) > 0
    assert ports.model.ready_days([now.date()]) == set()
    # until rebuilt, answers come from PostgreSQL
    assert usecases.where_is(ports, agent(bob), alice, None, now) == before_alice
    done = usecases.maintain(ports, now, usecases.Upkeep(), 30)
    assert done["fresh"] and done["directory"] >= 1 and done["built"] >= 2 and done["reconciled"] >= 1
    assert ports.model.ready_days([now.date()]) == {now.date()}
    assert usecases.where_is(ports, agent(bob), alice, None, now) == before_alice
    bob_now = usecases.where_is(ports, agent(alice), bob, None, now)["presence"]
    assert bob_now["signal"] == "booking" and bob_now["place"]["resource_id"] == missed["booking"]["resource_id"]
    roster = usecases.on_site(ports, agent(alice), now.date().isoformat(), site, None, now)["people"]
    assert {p["person"]["id"] for p in roster} >= {alice, bob}


def test_reconciliation_drops_bookings_the_booking_service_no_longer_lists(ports, world):
    now, carol, site = world["now"], world["carol"], world["site"]
    event = booking_event("booking.created", carol, site, now - timedelta(hours=1), now + timedelta(hours=1))
    usecases.on_booking_event(ports, "booking.created", event, now)
    with ports.store.unit() as unit:  # the change predates the snapshot
        unit.conn.execute("UPDATE booking_fact SET updated_at = now() - interval '1 minute' WHERE booking_id = %s",
                          (event["booking"]["id"],))
    assert carol in usecases.reconcile_bookings(ports, now)
    with ports.store.unit() as unit:
        assert unit.fact_status(event["booking"]["id"]) == "cancelled"


def test_find_people_by_any_part_of_their_name(ports, world):
    fake = ports.booking
    mh = fake.add_person("Marie-Hélène Dupont", "Finances")
    homonym = fake.add_person("Marie-Hélène Dupont", "Culture")
    fake.add_person("Hélène Lefèvre", "RH")
    usecases.sync_directory(ports, world["now"], None)
    index = Index({**e["card"], "email": e["contacts"]["email"]} for e in ports.model.all_directory().values())
    found = usecases.find_people(ports, index, agent(world["alice"]), "helene", 10, None, world["now"])
    ids = [m["person"]["id"] for m in found["matches"]]
    assert {mh, homonym} <= set(ids)
    departments = {m["person"]["department"] for m in found["matches"] if m["person"]["id"] in (mh, homonym)}
    assert departments == {"Finances", "Culture"}
    narrowed = usecases.find_people(ports, index, agent(world["alice"]), "dupond finances", 10, None, world["now"])
    assert narrowed["matches"][0]["person"]["id"] == mh
    assert all("presence" in m and "score" in m for m in narrowed["matches"])


def test_the_read_model_is_the_published_shape(ports, world):
    now, alice, site = world["now"], world["alice"], world["site"]
    usecases.set_plan(ports, agent(alice), [{"date": now.date().isoformat(), "period": "day",
                                              "status": "on_site", "site_id": site}], None, now)
    model = ports.model
    assert model.meta()["timezone"] == "Europe/Paris"
    doc = json.loads(model.r.get(model.k_day(now.date(), alice)))
    assert set(doc) == {"v", "person_id", "date", "am", "pm", "desks", "timeline", "roster"}
    assert model.r.ttl(model.k_day(now.date(), alice)) > 0
    fields = model.roster(now.date(), site)
    field = next(f for f in fields if alice in f)
    visibility, sort_key, pid, teams = field.split("|")
    assert (visibility, sort_key, pid, teams) == ("everyone", "alice martin", alice, TEAM)
    assert json.loads(fields[field])["person"]["display_name"] == "Alice Martin"
    assert alice in model.team_members(TEAM)
