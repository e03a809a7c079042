"""The presence service as deployed: `nameko run` in its own process, fed by
the real booking service over RabbitMQ, its read model in the real Redis."""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import httpx
import psycopg
import pytest
import redis
from kombu import Connection, Exchange, Producer, Queue
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy

from tests.support.presence import delete_prefix
from tests.support.servers import REDIS_URL

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")


def eventually(check, timeout=15.0, every=0.2):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(every)


def slot_around_now(minutes=40):
    """An interval covering now inside today (the test site is open 00:00-23:59)."""
    now = datetime.now(PARIS)
    if now.hour == 23 and now.minute >= 57:  # too close to the end of the day: wait for tomorrow
        time.sleep((datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), PARIS) - now).total_seconds() + 1)
        now = datetime.now(PARIS)
    day_start = datetime.combine(now.date(), datetime.min.time(), PARIS)
    day_end = day_start.replace(hour=23, minute=58)
    return max(now - timedelta(minutes=5), day_start), min(now + timedelta(minutes=minutes), day_end)


@pytest.fixture
def presence(presence_service, amqp_uri):
    with ServiceRpcProxy("presence", {"AMQP_URI": amqp_uri}, timeout=15) as proxy:
        yield proxy


@pytest.fixture
def booking(booking_service, amqp_uri):
    with ServiceRpcProxy("booking", {"AMQP_URI": amqp_uri}, timeout=15) as proxy:
        yield proxy


def actor(pid, role="agent"):
    return {"person_id": pid, "role": role, "site_ids": []}


@pytest.fixture
def presence_events(amqp_uri):
    """Every event presence publishes from now on, in order."""
    connection = Connection(amqp_uri)
    exchange = Exchange("presence.events", type="topic", durable=True)
    queue = Queue(f"test-presence-{uuid.uuid4().hex[:8]}", exchange, routing_key="#", exclusive=True)
    channel = connection.channel()
    queue(channel).declare()
    received = []

    def drain():
        while True:
            message = queue(channel).get(no_ack=True)
            if message is None:
                return received
            received.append(json.loads(message.body))

    yield drain
    connection.release()


def test_health_readiness_and_metrics(presence_service):
    base = presence_service.base_url
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{base}/readyz").json()
    assert ready == {"status": "ready", "checks": {"database": True, "redis": True}}
    assert "escale_presence_outbox_pending" in httpx.get(f"{base}/metrics").text


def test_book_check_in_and_cancel_through_the_booking_service(presence, booking, place):
    me, colleague = place.people[0], place.people[1]
    start, end = slot_around_now()
    made = booking.create_booking(actor=actor(me), request={
        "resource_id": place.desks[0], "start": start.isoformat(), "end": end.isoformat()})["booking"]

    def on_site_at_the_desk():
        answer = presence.where_is(actor=actor(colleague), person_id=me)
        assert (answer["presence"]["status"], answer["presence"]["signal"]) == ("on_site", "booking")
        assert answer["presence"]["place"]["resource_id"] == place.desks[0]
        assert answer["presence"]["place"]["site_id"] == place.site_id
        return answer

    answer = eventually(on_site_at_the_desk)
    assert answer["person"]["id"] == me and answer["person"]["teams"][0]["code"] == "dsi"
    booking.check_in(actor=actor(me), booking_id=made["id"])
    eventually(lambda: _assert_signal(presence, colleague, me, "check_in"))

    # someone else: remote every day of the week, books a desk, cancels: back to the plan
    other = place.people[2]
    presence.set_pattern(actor=actor(other), pattern=[
        {"weekday": d, "period": "day", "status": "remote", "site_id": None} for d in range(1, 8)])
    second = booking.create_booking(actor=actor(other), request={
        "resource_id": place.desks[1], "start": start.isoformat(), "end": end.isoformat()})["booking"]
    eventually(lambda: _assert_signal(presence, me, other, "booking"))
    booking.cancel_booking(actor=actor(other), booking_id=second["id"])

    def back_to_the_plan():
        now = presence.where_is(actor=actor(me), person_id=other)["presence"]
        assert (now["status"], now["signal"], now["plan"]["source"]) == ("remote", "day_plan", "pattern")

    eventually(back_to_the_plan)


def _assert_signal(presence, asker, person, signal):
    assert presence.where_is(actor=actor(asker), person_id=person)["presence"]["signal"] == signal


def test_a_temporary_status_expires_and_each_change_is_published(presence, place, presence_events):
    me = place.people[0]
    until = datetime.now(timezone.utc) + timedelta(seconds=3)
    answer = presence.set_status(actor=actor(me), kind="do_not_disturb", until=until.isoformat(),
                                 label="rapport à finir")
    assert (answer["presence"]["status"], answer["presence"]["signal"]) == ("do_not_disturb", "temporary_status")
    assert answer["presence"]["reach"] == [] or answer["presence"]["reach"][0]["channel"] in ("chat", "email")

    def expired_and_published():
        events = [e for e in presence_events() if e["person_id"] == me and e["type"] == "presence.changed"]
        assert [e["cause"] for e in events][-2:] == ["status", "time"], events
        assert events[-1]["presence"]["status"] != "do_not_disturb"
        assert events[-1]["audience"] == {"visibility": "everyone", "team_ids": [place.team_id]}
        assert "reach" not in events[-1]["presence"]

    eventually(expired_and_published, timeout=20)
    assert presence.where_is(actor=actor(place.people[1]), person_id=me)["presence"]["status"] != "do_not_disturb"


def test_booking_events_twice_or_out_of_order_through_the_broker(presence, place, amqp_uri, presence_db_url):
    me = place.people[1]
    start, end = slot_around_now()
    booking_id = str(uuid.uuid4())

    def event(event_type, status, event_id=None):
        return {
            "v": 1, "event_id": event_id or str(uuid.uuid4()), "type": event_type,
            "occurred_at": datetime.now(timezone.utc).isoformat(),
            "booking": {"id": booking_id, "status": status, "start": start.isoformat(), "end": end.isoformat(),
                        "resource_id": place.desks[3], "resource_kind": "desk", "resource_name": "Bureau 3",
                        "site_id": place.site_id, "floor_id": place.floor_id, "zone_id": place.zone_id,
                        "person_id": me},
            "person": {"id": me}, "resource": {"id": place.desks[3], "code": "D003", "kind": "desk"},
            "site": {"id": place.site_id, "name": "Site", "timezone": "Europe/Paris"},
        }

    cancel = event("booking.cancelled", "cancelled")
    create = event("booking.created", "confirmed")
    with Connection(amqp_uri) as connection:
        producer = Producer(connection.channel(), exchange=Exchange("booking.events", type="topic", durable=True),
                            serializer="json")
        for payload in (cancel, cancel, create):  # the cancel twice, then its create
            producer.publish(payload, routing_key=payload["type"], retry=True)

    def applied():
        with psycopg.connect(presence_db_url) as conn:
            row = conn.execute("SELECT status FROM booking_fact WHERE booking_id = %s", (booking_id,)).fetchone()
        assert row is not None and row[0] == "cancelled"

    eventually(applied)

    def all_three_handled():  # the duplicate cancel is recognised, the late create superseded
        with psycopg.connect(presence_db_url) as conn:
            seen = conn.execute("SELECT count(*) FROM processed_event WHERE event_id = ANY(%s)",
                                ([cancel["event_id"], create["event_id"]],)).fetchone()[0]
        assert seen == 2

    eventually(all_three_handled)
    now = presence.where_is(actor=actor(me), person_id=me)["presence"]
    assert not (now["place"] or {}).get("resource_id") == place.desks[3]  # no ghost booking
    roster = presence.on_site(actor=actor(me), date=start.date().isoformat(), site_id=place.site_id)
    assert all(d["resource_id"] != place.desks[3] for p in roster["people"] for d in p["desks"])


def test_an_emptied_read_model_is_rebuilt(presence, booking, place, presence_redis_prefix):
    me, colleague = place.people[0], place.people[1]
    day = datetime.now(PARIS).date() + timedelta(days=2)
    presence.set_plan(actor=actor(colleague), days=[
        {"date": day.isoformat(), "period": "day", "status": "on_site", "site_id": place.site_id}])
    booking.create_booking(actor=actor(me), request={"resource_id": place.desks[2], "date": day.isoformat(),
                                                      "period": "morning"})

    def roster():
        people = presence.on_site(actor=actor(me), date=day.isoformat(), site_id=place.site_id)["people"]
        ids = {p["person"]["id"] for p in people}
        assert {me, colleague} <= ids
        return sorted(json.dumps(p, sort_keys=True) for p in people if p["person"]["id"] in (me, colleague))

    before = eventually(roster)
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    assert delete_prefix(client, presence_redis_prefix) > 0
    # rebuilt by the service on its own, from PostgreSQL and booking.active_bookings
    eventually(lambda: _assert_ready(client, presence_redis_prefix, day), timeout=20)
    assert eventually(roster) == before
    client.close()


def _assert_ready(client, prefix, day):
    assert client.exists(f"{prefix}v1:meta") and client.exists(f"{prefix}v1:ready:{day.isoformat()}")


def test_find_people_with_accents_hyphens_typos_and_homonyms(presence, place, booking_db_url):
    tag = uuid.uuid4().hex[:6]
    with psycopg.connect(booking_db_url) as conn:
        org = conn.execute("SELECT organisation_id FROM person WHERE id = %s", (place.people[0],)).fetchone()[0]
        ids = {}
        for department in ("Finances", "Culture"):
            ids[department] = str(conn.execute(
                "INSERT INTO person (organisation_id, email, given_name, family_name, display_name, department) "
                "VALUES (%s, %s, 'Marie-Hélène', %s, %s, %s) RETURNING id",
                (org, f"mh.{department.lower()}.{tag}@mairie-test.fr", f"Dupont{tag}",
                 f"Marie-Hélène Dupont{tag}", department)).fetchone()[0])

    def found(q):
        return [m["person"]["id"] for m in presence.find_people(actor=actor(place.people[0]), q=q, limit=10)["matches"]]

    eventually(lambda: _assert_contains(found(f"helene dupont{tag}"), set(ids.values())))
    assert set(ids.values()) <= set(found(f"marie-helene DUPONT{tag}"))
    assert set(ids.values()) <= set(found(f"dupomt{tag}"))  # a typo in the name
    assert found(f"dupont{tag} culture")[0] == ids["Culture"]


def _assert_contains(found, wanted):
    assert wanted <= set(found), (found, wanted)


def test_errors_cross_the_wire_with_code_and_localized_message(presence_service, amqp_uri, place):
    with ServiceRpcProxy("presence", {"AMQP_URI": amqp_uri}, timeout=10) as french:
        with pytest.raises(RemoteError) as caught:
            french.where_is(actor=actor(place.people[0]), person_id="nope")
    code, message, details = caught.value.exc_args if hasattr(caught.value, "exc_args") else (None, None, None)
    assert caught.value.exc_type == "Invalid"
    with ServiceRpcProxy("presence", {"AMQP_URI": amqp_uri}, timeout=10, context_data={"language": "en"}) as english:
        with pytest.raises(RemoteError) as caught_en:
            english.set_privacy(actor=actor(place.people[0]), visibility="friends")
    assert "possible values" in caught_en.value.value
    with ServiceRpcProxy("presence", {"AMQP_URI": amqp_uri}, timeout=10) as french:
        with pytest.raises(RemoteError) as caught_fr:
            french.set_privacy(actor=actor(place.people[0]), visibility="friends")
    assert "valeurs possibles" in caught_fr.value.value
