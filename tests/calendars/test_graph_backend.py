"""The Graph backend against the Graph protocol replica (tests/support/graph_replica.py).

The replica answers the JSON Microsoft documents for the requests the
backend makes (token endpoint included); it is not Microsoft 365. These
tests show the backend makes those requests, follows their paging, reads
their error answers as documented, and turns them into the port's values.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
from booking import usecases
from booking.adapters.db import open_pool
from booking.adapters.store import BookingStore
from booking.calendars import usecases as calendars
from booking.calendars.backend import (
    BackendAuthError,
    BackendConfig,
    BackendError,
    BackendUnavailable,
    CalendarNotFound,
    OutgoingItem,
    SyncTokenInvalid,
    booking_uid,
    build_backend,
)
from booking.calendars.graph import MARKER_ID
from booking.domain import errors
from booking.domain.access import Actor

from tests.support.data import make_place
from tests.support.graph_replica import CLIENT_ID, CLIENT_SECRET, TENANT

pytestmark = pytest.mark.integration

ROOM = "salle-loire@example.org"
AGENT = "lea.dubois@example.org"
ADMIN = Actor(person_id=None, role="admin")
T0 = (datetime.now(UTC) + timedelta(days=2)).replace(hour=9, minute=0, second=0, microsecond=0)


def config(replica, ref="m365", **options) -> BackendConfig:
    return BackendConfig(
        name="graph",
        url=replica.graph_url,
        credentials_ref=ref,
        options={"authority": replica.login_url, **options},
    )


ENV = {
    "ESCALE_CALENDAR_M365_TENANT_ID": TENANT,
    "ESCALE_CALENDAR_M365_CLIENT_ID": CLIENT_ID,
    "ESCALE_CALENDAR_M365_CLIENT_SECRET": CLIENT_SECRET,
}


@pytest.fixture
def backend(graph_replica):
    return build_backend(config(graph_replica), env=ENV)


def booking(start: datetime, hours: int = 1, title: str = "Réunion Escale") -> OutgoingItem:
    booking_id = str(uuid.uuid4())
    return OutgoingItem(
        booking_id=booking_id,
        uid=booking_uid(booking_id),
        start=start,
        end=start + timedelta(hours=hours),
        title=title,
        time_zone="Europe/Paris",
    )


def by_id(change_set):
    return {item.remote_id: item for item in change_set.items}


def test_outlook_meeting_listed_then_moved_then_cancelled_incrementally(graph_replica, backend):
    meeting = graph_replica.add_meeting(
        ROOM, "Comité", T0, T0 + timedelta(hours=1), organizer="chef@example.org"
    )

    first = backend.changes(ROOM, None)
    assert first.full and first.next_token
    item = by_id(first)[meeting]
    assert (item.start, item.end, item.title) == (T0, T0 + timedelta(hours=1), "Comité")
    assert item.organiser_email == "chef@example.org" and item.escale_booking_id is None
    delta = graph_replica.requests[-1]
    assert delta.path == f"/v1.0/users/{ROOM}/calendar/calendarView/delta"
    assert {"startDateTime", "endDateTime"} <= set(delta.query)

    quiet = backend.changes(ROOM, first.next_token)
    assert (quiet.items, quiet.deleted_ids, quiet.full) == ([], [], False)

    graph_replica.move_meeting(meeting, T0 + timedelta(hours=3), T0 + timedelta(hours=4))
    moved = backend.changes(ROOM, quiet.next_token)
    assert [(i.remote_id, i.start) for i in moved.items] == [(meeting, T0 + timedelta(hours=3))]

    graph_replica.cancel_meeting(meeting)
    cancelled = backend.changes(ROOM, moved.next_token)
    assert cancelled.items == [] and cancelled.deleted_ids == [meeting]


def test_pages_are_followed_to_the_delta_link(graph_replica):
    backend = build_backend(config(graph_replica, page_size=2), env=ENV)
    ids = {
        graph_replica.add_meeting(
            ROOM, f"M{n}", T0 + timedelta(hours=n), T0 + timedelta(hours=n, minutes=30)
        )
        for n in range(5)
    }
    change_set = backend.changes(ROOM, None)
    assert set(by_id(change_set)) == ids
    deltas = [r for r in graph_replica.requests if r.path.endswith("/delta")]
    assert len(deltas) == 3
    assert all("odata.maxpagesize=2" in r.headers["Prefer"] for r in deltas)
    assert backend.calls == len(graph_replica.requests)  # token request included


def test_a_series_comes_as_occurrences_linked_to_their_master(graph_replica, backend):
    occurrences = graph_replica.add_series(
        ROOM, "Point quotidien", T0, timedelta(minutes=15), count=3
    )
    items = by_id(backend.changes(ROOM, None))
    assert set(items) == set(occurrences)
    assert len({items[i].series_remote_id for i in occurrences}) == 1
    assert items[occurrences[0]].series_remote_id


def test_expired_delta_token_raises_and_a_full_round_recovers(graph_replica, backend):
    meeting = graph_replica.add_meeting(ROOM, "Point", T0, T0 + timedelta(hours=1))
    token = backend.changes(ROOM, None).next_token
    graph_replica.expire_delta_tokens()

    with pytest.raises(SyncTokenInvalid):
        backend.changes(ROOM, token)
    assert graph_replica.requests[-1].path.endswith("/calendarView/delta")
    again = backend.changes(ROOM, None)
    assert again.full and meeting in by_id(again)


def test_a_token_whose_window_runs_out_starts_a_full_round_by_itself(graph_replica):
    backend = build_backend(config(graph_replica, window_future_days=10), env=ENV)
    first = backend.changes(ROOM, None)
    version, _, link = first.next_token.split("|", 2)
    stale = f"{version}|{(datetime.now(UTC) + timedelta(days=2)).isoformat()}|{link}"
    far = graph_replica.add_meeting(
        ROOM, "Loin", T0 + timedelta(days=7), T0 + timedelta(days=7, hours=1)
    )
    again = backend.changes(ROOM, stale)
    assert again.full and far in by_id(again)
    assert "startDateTime" in graph_replica.requests[-1].query


@pytest.mark.parametrize("status", [429, 503])
def test_throttling_surfaces_retry_after(graph_replica, backend, status):
    backend.changes(ROOM, None)
    graph_replica.throttle(status=status, retry_after=7)
    with pytest.raises(BackendUnavailable) as raised:
        backend.changes(ROOM, None)
    assert raised.value.retry_after == 7
    assert backend.changes(ROOM, None).full


def test_an_expired_access_token_is_refreshed_once(graph_replica, backend):
    backend.changes(ROOM, None)
    graph_replica.revoke_tokens()
    backend.changes(ROOM, None)
    assert graph_replica.tokens_issued == 2
    statuses = [r.path for r in graph_replica.requests]
    assert statuses.count(f"/{TENANT}/oauth2/v2.0/token") == 2


def test_a_token_refused_twice_is_an_auth_error(graph_replica, backend, monkeypatch):
    backend.changes(ROOM, None)
    # Tokens are refused as soon as they are issued (e.g. the app lost its consent).
    original = graph_replica._token

    def issue_then_forget(path, form):
        answer = original(path, form)
        graph_replica.revoke_tokens()
        return answer

    monkeypatch.setattr(graph_replica, "_token", issue_then_forget)
    graph_replica.revoke_tokens()
    with pytest.raises(BackendAuthError):
        backend.changes(ROOM, None)
    graph_requests = [r for r in graph_replica.requests if r.path.startswith("/v1.0")]
    assert len(graph_requests) == 3  # the first round, then one try and one retry


def test_a_wrong_client_secret_is_an_auth_error_without_the_secret(graph_replica):
    backend = build_backend(
        config(graph_replica), env={**ENV, "ESCALE_CALENDAR_M365_CLIENT_SECRET": "nope"}
    )
    with pytest.raises(BackendAuthError) as raised:
        backend.changes(ROOM, None)
    assert "nope" not in str(raised.value) and "invalid_client" in str(raised.value)


def test_a_mailbox_outside_the_access_policy_is_an_auth_error(graph_replica, backend):
    graph_replica.denied_mailboxes.add(ROOM)
    with pytest.raises(BackendAuthError):
        backend.changes(ROOM, None)


def test_an_unknown_user_is_a_mapping_to_fix(graph_replica, backend):
    graph_replica.unknown_users.add(ROOM)
    with pytest.raises(CalendarNotFound):
        backend.changes(ROOM, None)
    with pytest.raises(CalendarNotFound):
        backend.busy(ROOM, T0, T0 + timedelta(hours=8))


def test_a_write_graph_refuses_is_a_backend_error_not_a_retry(graph_replica, backend):
    graph_replica.fail(400, "ErrorInvalidRequest", "Your request can't be completed.")
    with pytest.raises(BackendError) as raised:
        backend.put(ROOM, booking(T0), None)
    assert not isinstance(raised.value, BackendUnavailable)
    assert "ErrorInvalidRequest" in str(raised.value)
    assert graph_replica.events(ROOM) == []


def test_missing_credentials_fail_at_start_with_the_variables_to_set(graph_replica):
    with pytest.raises(ValueError, match="ESCALE_CALENDAR_M365_TENANT_ID"):
        build_backend(config(graph_replica), env={})


def test_escale_bookings_are_written_marked_and_recognised(graph_replica, backend):
    token = backend.changes(ROOM, None).next_token
    outgoing = booking(T0 + timedelta(hours=2))
    ref = backend.put(ROOM, outgoing, None)

    [stored] = graph_replica.events(ROOM)
    assert stored["id"] == ref.remote_id and stored["subject"] == "Réunion Escale"
    assert stored["transactionId"].startswith(f"escale:{outgoing.booking_id}:")
    assert graph_replica.extended_properties(ref.remote_id) == {MARKER_ID: outgoing.booking_id}
    post = next(
        r for r in graph_replica.requests if r.method == "POST" and r.path.endswith("/events")
    )
    assert post.body["start"] == {
        "dateTime": (T0 + timedelta(hours=2))
        .astimezone(__import__("zoneinfo").ZoneInfo("Europe/Paris"))
        .strftime("%Y-%m-%dT%H:%M:%S"),
        "timeZone": "Europe/Paris",
    }

    echo = by_id(backend.changes(ROOM, token))[ref.remote_id]
    assert echo.escale_booking_id == outgoing.booking_id
    assert (echo.start, echo.end) == (outgoing.start, outgoing.end)


def test_moving_a_booking_patches_the_event_and_a_vanished_one_is_recreated(graph_replica, backend):
    outgoing = booking(T0)
    ref = backend.put(ROOM, outgoing, None)
    moved = OutgoingItem(
        **{
            **outgoing.__dict__,
            "start": T0 + timedelta(days=1),
            "end": T0 + timedelta(days=1, hours=2),
            "sequence": 1,
        }
    )
    again = backend.put(ROOM, moved, ref.remote_id)
    assert again.remote_id == ref.remote_id
    assert graph_replica.requests[-1].method == "PATCH"
    [stored] = graph_replica.events(ROOM)
    assert stored["end"]["dateTime"].startswith(
        (T0 + timedelta(days=1, hours=2)).strftime("%Y-%m-%dT%H:%M")
    )

    graph_replica.cancel_meeting(ref.remote_id)  # someone deleted it in Outlook
    recreated = backend.put(ROOM, moved, ref.remote_id)
    assert recreated.remote_id != ref.remote_id
    assert [e["id"] for e in graph_replica.events(ROOM)] == [recreated.remote_id]


def test_delete_removes_the_booking_and_tolerates_an_event_already_gone(graph_replica, backend):
    ref = backend.put(ROOM, booking(T0), None)
    backend.delete(ROOM, ref.remote_id)
    assert graph_replica.events(ROOM) == []
    backend.delete(ROOM, ref.remote_id)  # 404 ErrorItemNotFound is not an error here


def test_busy_times_come_without_titles(graph_replica, backend):
    graph_replica.add_meeting(AGENT, "Entretien annuel confidentiel", T0, T0 + timedelta(hours=1))
    graph_replica.add_meeting(
        AGENT, "Pause", T0 + timedelta(hours=2), T0 + timedelta(hours=3), show_as="free"
    )
    graph_replica.add_meeting(
        AGENT, "Demain", T0 + timedelta(days=1), T0 + timedelta(days=1, hours=1)
    )

    periods = backend.busy(AGENT, T0 - timedelta(hours=1), T0 + timedelta(hours=12))
    assert [(p.start, p.end) for p in periods] == [(T0, T0 + timedelta(hours=1))]
    # Graph did send the subject; nothing of it is kept.
    assert "Entretien" not in repr(periods)
    request = graph_replica.requests[-1]
    assert request.path == f"/v1.0/users/{AGENT}/calendar/getSchedule" and request.body[
        "schedules"
    ] == [AGENT]


def test_a_broken_event_is_skipped_with_a_reason_and_the_rest_syncs(graph_replica, backend):
    good = graph_replica.add_meeting(ROOM, "Bon", T0, T0 + timedelta(hours=1))
    broken = graph_replica.add_raw_event(
        ROOM, {"subject": "Cassé", "start": {"dateTime": "demain matin", "timeZone": "UTC"}}
    )
    unknown_zone = graph_replica.add_raw_event(
        ROOM,
        {
            "subject": "Zone",
            "start": {"dateTime": "2026-11-25T09:00:00.0000000", "timeZone": "Mars/Olympus"},
            "end": {"dateTime": "2026-11-25T10:00:00.0000000", "timeZone": "Mars/Olympus"},
        },
    )
    no_end = graph_replica.add_raw_event(
        ROOM,
        {
            "subject": "Sans fin",
            "start": {"dateTime": T0.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "timeZone": "UTC"},
        },
    )

    change_set = backend.changes(ROOM, None)
    assert set(by_id(change_set)) == {good, no_end}
    assert by_id(change_set)[no_end].end is None  # the engine decides what a missing end means
    assert sorted((s.remote_id, s.reason) for s in change_set.skipped) == sorted(
        [(broken, "unreadable_start"), (unknown_zone, "unreadable_start_time_zone")]
    )


def test_a_calendar_other_than_the_default_one(graph_replica, backend):
    ref = backend.put(f"{ROOM}/AAMkCalendarRooms", booking(T0), None)
    post = graph_replica.requests[-1]
    assert post.path == f"/v1.0/users/{ROOM}/calendars/AAMkCalendarRooms/events"
    backend.changes(f"{ROOM}/AAMkCalendarRooms", None)
    assert (
        graph_replica.requests[-1].path
        == f"/v1.0/users/{ROOM}/calendars/AAMkCalendarRooms/calendarView/delta"
    )
    assert ref.remote_id


# --- through the sync engine ---------------------------------------------------------------


@pytest.fixture(scope="module")
def store(booking_db_url):
    pool = open_pool(booking_db_url, 5)
    yield BookingStore(pool)
    pool.close()


def test_engine_room_meeting_in_m365_blocks_the_room_and_escale_bookings_appear_in_m365(
    booking_db_url, store, graph_replica
):
    place = make_place(booking_db_url, desks=0, rooms=1, people=2)
    mailbox = f"salle-{uuid.uuid4().hex[:8]}@example.org"
    calendars.set_connection(
        store,
        ADMIN,
        place.site_id,
        {
            "backend": "graph",
            "url": graph_replica.graph_url,
            "credentials_ref": "m365",
            "options": {"authority": graph_replica.login_url},
            "interval_seconds": 3600,
        },
    )
    calendars.map_room(store, ADMIN, place.rooms[0], mailbox)
    backends = calendars.BackendPool(env=ENV)

    def sync():
        return calendars.sync_now(store, backends, datetime.now(UTC), ADMIN, place.site_id)

    start = T0 + timedelta(hours=1)
    meeting = graph_replica.add_meeting(
        mailbox, "Comité de direction", start, start + timedelta(hours=1), organizer=place.emails[1]
    )
    run = sync()
    assert run["status"] == "ok" and run["counts"]["created"] == 1, run
    agent = Actor(person_id=place.people[0], role="agent")
    with pytest.raises(errors.ResourceAlreadyBooked):
        usecases.create_booking(
            store,
            datetime.now(UTC),
            agent,
            {
                "resource_id": place.rooms[0],
                "start": (start + timedelta(minutes=30)).isoformat(),
                "end": (start + timedelta(hours=2)).isoformat(),
                "title": "Trop tard",
            },
        )

    later = start + timedelta(hours=3)
    made = usecases.create_booking(
        store,
        datetime.now(UTC),
        agent,
        {
            "resource_id": place.rooms[0],
            "start": later.isoformat(),
            "end": (later + timedelta(hours=1)).isoformat(),
            "title": "Atelier",
        },
    )["booking"]
    assert sync()["counts"]["pushed"] == 1
    [written] = [e for e in graph_replica.events(mailbox) if e["id"] != meeting]
    assert written["subject"] == "Atelier"
    assert written["transactionId"].startswith(f"escale:{made['id']}:")
    echo = sync()["counts"]
    assert echo["created"] == 0 and echo["pushed"] == 0  # its echo is recognised


def test_engine_an_agents_meetings_become_busy_times_without_titles(
    booking_db_url, store, graph_replica
):
    place = make_place(booking_db_url, desks=0, rooms=1, people=2)
    mailbox = f"agent-{uuid.uuid4().hex[:8]}@example.org"
    calendars.set_connection(
        store,
        ADMIN,
        place.site_id,
        {
            "backend": "graph",
            "url": graph_replica.graph_url,
            "credentials_ref": "m365",
            "options": {"authority": graph_replica.login_url},
            "interval_seconds": 3600,
        },
    )
    calendars.map_person(store, ADMIN, place.people[0], place.site_id, mailbox)
    start = (datetime.now(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    graph_replica.add_meeting(
        mailbox, "Entretien annuel confidentiel", start, start + timedelta(hours=1)
    )

    run = calendars.sync_now(
        store, calendars.BackendPool(env=ENV), datetime.now(UTC), ADMIN, place.site_id
    )
    assert run["status"] == "ok", run
    with psycopg.connect(booking_db_url) as conn:
        [(payload,)] = conn.execute(
            "SELECT payload FROM outbox WHERE event_type = 'calendar.busy' AND payload->>'person_id' = %s",
            (place.people[0],),
        ).fetchall()
    assert [
        (datetime.fromisoformat(p["start"]), datetime.fromisoformat(p["end"]))
        for p in payload["periods"]
    ] == [(start, start + timedelta(hours=1))]
    assert "Entretien" not in json.dumps(payload)
