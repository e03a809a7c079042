"""The live hub without a network: topics, visibility, per-viewer variants,
bounded queues, and the presence/booking translators."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from gateway.live import Connection, LiveHub, Viewer
from gateway.live_sources import SOURCES, allow_topic, translate_booking, translate_presence
from gateway.presence_read import roster_field_visible

pytestmark = pytest.mark.unit

ALICE, BOB, CAROL = (str(uuid.uuid4()) for _ in range(3))
TEAM, SITE, ROOM = (str(uuid.uuid4()) for _ in range(3))


class FakeSocket:
    def __init__(self):
        self.closed_with = None

    @property
    def closed(self):
        return self.closed_with is not None

    async def close(self, code=1000, message=b""):
        self.closed_with = (code, message)


async def _never(*_):
    raise AssertionError("not used")


def hub(queue_size=8):
    return LiveHub("amqp://unused", SOURCES, authenticate=_never, recheck=_never, allow_topic=allow_topic,
                   queue_size=queue_size)


def connect(h: LiveHub, viewer: Viewer, *topics) -> Connection:
    conn = Connection(FakeSocket(), viewer, h._queue_size)
    h._connections.add(conn)
    for topic in topics:
        conn.topics.add(topic)
        h._by_topic.setdefault(topic, set()).add(conn)
    return conn


def drain(conn: Connection) -> list[dict]:
    out = []
    while not conn.queue.empty():
        out.append(json.loads(conn.queue.get_nowait()))
    return out


def presence_event(visibility="teams"):
    return {"v": 1, "event_id": str(uuid.uuid4()), "type": "presence.changed", "occurred_at": "2026-03-10T10:00:00+01:00",
            "person_id": ALICE, "audience": {"visibility": visibility, "team_ids": [TEAM]},
            "date": "2026-03-10", "cause": "status",
            "presence": {"status": "in_meeting", "signal": "temporary_status", "place": {"site_id": SITE},
                         "reach": [{"channel": "phone"}]}}


async def test_presence_goes_only_to_subscribers_allowed_to_see_it():
    h = hub()
    teammate = connect(h, Viewer(BOB, "agent", frozenset({TEAM})), f"person:{ALICE}")
    outsider = connect(h, Viewer(CAROL, "agent", frozenset()), f"person:{ALICE}", f"site:{SITE}")
    admin = connect(h, Viewer(str(uuid.uuid4()), "admin"), f"site:{SITE}")
    elsewhere = connect(h, Viewer(str(uuid.uuid4()), "agent", frozenset({TEAM})), f"site:{uuid.uuid4()}")
    assert h.publish("presence.events", "presence.changed", presence_event("teams")) == 1
    [message] = drain(teammate)
    assert message["type"] == "presence.changed" and message["topic"] == f"person:{ALICE}"
    assert "reach" not in message["presence"]
    assert drain(outsider) == drain(admin) == drain(elsewhere) == []
    assert h.publish("presence.events", "presence.changed", presence_event("everyone")) == 3
    [once] = drain(outsider)  # once, not once per topic it matches
    assert once["topic"] in (f"person:{ALICE}", f"site:{SITE}")


async def test_a_booking_shows_who_only_to_its_holder():
    h = hub()
    holder = connect(h, Viewer(ALICE, "agent"), f"resource:{ROOM}")
    other = connect(h, Viewer(BOB, "agent"), f"resource:{ROOM}")
    event = {"event_id": "e", "type": "booking.created", "booking": {
        "id": "b", "person_id": ALICE, "title": "Entretien", "resource_id": ROOM, "site_id": SITE,
        "start": "s", "end": "e"}}
    h.publish("booking.events", "booking.created", event)
    assert drain(holder)[0]["booking"]["title"] == "Entretien"
    seen = drain(other)[0]["booking"]
    assert "person_id" not in seen and "title" not in seen and seen["resource_id"] == ROOM


async def test_a_slow_client_is_closed_and_never_stalls_the_others():
    h = hub(queue_size=2)
    slow = connect(h, Viewer(BOB, "agent", frozenset({TEAM})), f"person:{ALICE}")
    fast = connect(h, Viewer(CAROL, "agent", frozenset({TEAM})), f"person:{ALICE}")
    for _ in range(3):
        h.publish("presence.events", "presence.changed", presence_event())
        drain(fast)
    await asyncio.sleep(0)
    assert slow.closing and slow.ws.closed_with == (1013, b"too slow")
    assert slow not in h._connections and not fast.closing
    h.publish("presence.events", "presence.changed", presence_event())
    assert len(drain(fast)) == 1


def test_translators_ignore_what_they_cannot_read():
    assert list(translate_presence("presence.changed", {"no": "person"})) == []
    assert list(translate_booking("booking.created", {"booking": "nope"})) == []
    assert list(translate_presence("something.else", presence_event())) == []


async def test_the_read_model_memory_forgets_a_person_on_their_events():
    from gateway.live_sources import read_model_source
    from gateway.presence_read import PresenceReadModel, prepare_day, prepare_entry

    reader = PresenceReadModel("redis://unused", "p:")
    reader.set_live(True)
    day = "2026-03-10"
    entry = prepare_entry('{"card": {"id": "x"}, "visibility": "teams", "team_ids": ["t"], "reach": []}')
    assert entry.card == '{"id": "x"}' and entry.team_ids == {"t"} and '"not_available"' in entry.hidden
    reader._keep([ALICE, BOB], day, [entry, entry], prepare_day('{"timeline": []}'), {ALICE: 0, BOB: 0},
                 reader._epoch, 0.0)
    assert reader._cached([ALICE, BOB], day, 1.0) is not None
    h = LiveHub("amqp://unused", [read_model_source(reader)], authenticate=_never, recheck=_never,
                allow_topic=allow_topic)
    h.publish("presence.events", "presence.changed", presence_event())
    assert reader._cached([ALICE, BOB], day, 1.0) is None      # Alice's event: forgotten
    # an answer read before an invalidation is not kept
    generations = {BOB: reader._generation.get(BOB, 0)}
    reader.forget(BOB)
    reader._keep([BOB], day, [entry], None, generations, reader._epoch, 0.0)
    assert reader._cached([BOB], day, 1.0) is None
    # no events flowing: no memory at all
    reader._keep([BOB], day, [entry], None, {BOB: reader._generation[BOB]}, reader._epoch, 0.0)
    assert reader._cached([BOB], day, 1.0) is not None
    reader.set_live(False)
    assert reader._cached([BOB], day, 1.0) is None


def test_devices_follow_their_room_only():
    device = Viewer(None, "device", room_id=ROOM)
    assert allow_topic(device, f"resource:{ROOM}") and not allow_topic(device, f"site:{SITE}")
    assert allow_topic(Viewer(BOB, "agent"), f"site:{SITE}")


@pytest.mark.parametrize("field,viewer,team,visible", [
    (f"everyone|alice|{ALICE}|{TEAM}", (BOB, "agent", set()), None, True),
    (f"teams|alice|{ALICE}|{TEAM}", (BOB, "agent", {TEAM}), None, True),
    (f"teams|alice|{ALICE}|{TEAM}", (BOB, "admin", set()), None, False),
    (f"nobody|alice|{ALICE}|", (ALICE, "agent", set()), None, True),
    (f"nobody|alice|{ALICE}|", (BOB, "admin", set()), None, False),
    (f"everyone|alice|{ALICE}|{TEAM}", (BOB, "agent", set()), str(uuid.uuid4()), False),
    (f"everyone|alice|{ALICE}|{TEAM}", (BOB, "agent", set()), TEAM, True),
])
def test_roster_fields_filter_without_parsing_entries(field, viewer, team, visible):
    assert roster_field_visible(viewer[0], viewer[1], viewer[2], field, team) is visible


class FakeTransport:
    def __init__(self, backlog=0):
        self.frames, self.backlog = [], backlog

    def write(self, data):
        self.frames.append(data)

    def is_closing(self):
        return False

    def get_write_buffer_size(self):
        return self.backlog


def frame_text(frame: bytes) -> dict:
    assert frame[0] == 0x81  # final text frame, no compression, no mask
    length = frame[1]
    offset = 2 if length < 126 else 4
    return json.loads(frame[offset:].decode())


async def test_fan_out_writes_one_shared_frame_per_message_straight_to_the_transports():
    h = hub()
    viewers = [Viewer(None, "device", room_id=ROOM, token_id=str(uuid.uuid4())) for _ in range(3)]
    conns = [connect(h, v, f"resource:{ROOM}") for v in viewers]
    for conn in conns:
        conn.transport = FakeTransport()
    holder = connect(h, Viewer(ALICE, "agent"), f"resource:{ROOM}")
    holder.transport = FakeTransport()
    event = {"event_id": "e", "type": "booking.created", "booking": {
        "id": "b", "person_id": ALICE, "title": "Entretien", "resource_id": ROOM, "site_id": SITE,
        "start": "s", "end": "e"}}
    assert h.publish("booking.events", "booking.created", event) == 4
    frames = [c.transport.frames for c in conns]
    assert all(len(f) == 1 for f in frames) and all(c.queue.empty() for c in conns)
    assert frames[0][0] is frames[1][0] is frames[2][0]  # encoded once for the three tablets
    assert "title" not in frame_text(frames[0][0])["booking"]
    assert frame_text(holder.transport.frames[0])["booking"]["title"] == "Entretien"


async def test_a_queued_reply_or_a_full_transport_sends_through_the_queue_in_order():
    h = hub()
    behind = connect(h, Viewer(BOB, "agent"), f"resource:{ROOM}")
    behind.transport = FakeTransport()
    h._reply(behind, {"type": "pong"})  # waiting for the sender task
    full = connect(h, Viewer(CAROL, "agent"), f"resource:{ROOM}")
    full.transport = FakeTransport(backlog=10 * 1024 * 1024)
    event = {"event_id": "e", "type": "booking.created", "booking": {"id": "b", "resource_id": ROOM}}
    h.publish("booking.events", "booking.created", event)
    assert behind.transport.frames == [] and [m["type"] for m in drain(behind)] == ["pong", "booking.created"]
    assert full.transport.frames == [] and [m["type"] for m in drain(full)] == ["booking.created"]


async def test_an_ownerless_walk_in_booking_reaches_the_room_and_nobodys_person_topic():
    h = hub()
    tablet = connect(h, Viewer(None, "device", room_id=ROOM), f"resource:{ROOM}")
    admin = connect(h, Viewer(str(uuid.uuid4()), "admin"), f"site:{SITE}")
    event = {"event_id": "e", "type": "booking.created", "person": None, "booking": {
        "id": "b", "person_id": None, "title": "", "source": "tablet", "resource_id": ROOM,
        "site_id": SITE, "start": "s", "end": "e"}}
    [delivery] = translate_booking("booking.created", event)
    assert not any(t.startswith("person:") for t in delivery.topics)
    assert h.publish("booking.events", "booking.created", event) == 2
    for conn in (tablet, admin):
        [seen] = drain(conn)
        assert seen["booking"]["id"] == "b" and "person_id" not in seen["booking"]


async def test_a_changed_token_has_its_sockets_checked_at_once():
    h = hub()
    token = str(uuid.uuid4())
    mine = connect(h, Viewer(None, "device", room_id=ROOM, token_id=token))
    other = connect(h, Viewer(None, "device", room_id=ROOM, token_id=str(uuid.uuid4())))
    h.token_changed(token)
    assert mine.recheck_now.is_set() and not other.recheck_now.is_set()
