"""Use cases against the real notify database, with a clock of the test's
choosing: reminders, no-show warnings, quiet hours, retries, and work that
must happen once whatever the number of processes."""

import threading
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from notify import usecases
from notify.adapters.transport import DeliveryFailed, Skip
from notify.domain.planning import Sender

from .conftest import own_store

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
SENDER = Sender("escale@mairie-test.fr", "Escale")
POLICY = usecases.Policy(max_attempts=3, retry_base=10, retry_cap=60, batch=100)


@pytest.fixture(scope="module")
def store(run_id):
    with own_store(run_id, "usecases") as store:
        yield store


def settle(store):
    """Forget what earlier tests left pending, so a test sends only its own."""
    with store.pool.connection() as conn:
        conn.execute("UPDATE delivery SET status = 'skipped' WHERE status = 'pending'")
        conn.execute("UPDATE scheduled SET status = 'done' WHERE status = 'waiting'")


def event(kind="booking.created", booking_id=None, person_id=None, start=None, status="confirmed"):
    start = start or datetime(2026, 3, 10, 9, 0, tzinfo=PARIS)
    person_id = person_id or str(uuid.uuid4())
    return {
        "v": 1, "event_id": str(uuid.uuid4()), "type": kind,
        "occurred_at": "2026-03-01T10:00:00+01:00",
        "booking": {"id": booking_id or str(uuid.uuid4()), "status": status,
                    "start": start.isoformat(), "end": (start + timedelta(hours=3)).isoformat(),
                    "resource_kind": "desk", "resource_name": "Bureau 12", "site_id": "s1",
                    "person_id": person_id, "created_at": "2026-03-01T10:00:00+01:00"},
        "person": {"id": person_id, "email": f"{person_id[:8]}@mairie-test.fr",
                   "display_name": "Camille Test", "language": "fr"},
        "resource": {"id": "r1", "code": "D12", "name": "Bureau 12", "kind": "desk"},
        "site": {"id": "s1", "name": "Hôtel de ville", "timezone": "Europe/Paris"},
    }


def handle(store, ev, now, release_after=30):
    return usecases.handle_booking_event(store, now, ev, SENDER, True, POLICY,
                                         lambda site, kind: release_after)


def deliveries(store, booking_id):
    with store.pool.connection() as conn:
        return conn.execute(
            "SELECT kind, channel, status, next_attempt_at, expires_at, message FROM delivery "
            "WHERE booking_id = %s ORDER BY kind, channel", (booking_id,)).fetchall()


def at(day, hour, minute=0):
    return datetime(2026, 3, day, hour, minute, tzinfo=PARIS)


def test_a_day_before_reminder_fires_at_17_00_the_day_before(store):
    ev = event()
    handle(store, ev, at(1, 10))
    booking_id = ev["booking"]["id"]
    assert usecases.run_scheduled(store, at(9, 16, 59), SENDER, True) == 0
    assert [d["kind"] for d in deliveries(store, booking_id)] == ["confirmation"]
    usecases.run_scheduled(store, at(9, 17, 0), SENDER, True)
    reminders = [d for d in deliveries(store, booking_id) if d["kind"] == "reminder"]
    assert [d["channel"] for d in reminders] == ["email"]
    assert reminders[0]["message"]["subject"].startswith("Rappel : Bureau 12")
    assert reminders[0]["expires_at"] == ev_start(ev)


def ev_start(ev):
    return datetime.fromisoformat(ev["booking"]["start"])


def test_a_morning_of_reminder_waits_for_the_morning(store):
    ev = event()
    person = {"person_id": ev["person"]["id"], "role": "agent"}
    usecases.set_preferences(store, person, {"reminder": "morning_of",
                                             "channels": {"reminder": ["email", "chat"]}})
    handle(store, ev, at(1, 10))
    usecases.run_scheduled(store, at(9, 17), SENDER, True)
    assert not [d for d in deliveries(store, ev["booking"]["id"]) if d["kind"] == "reminder"]
    usecases.run_scheduled(store, at(10, 7, 30), SENDER, True)
    reminders = [d for d in deliveries(store, ev["booking"]["id"]) if d["kind"] == "reminder"]
    assert [d["channel"] for d in reminders] == ["chat", "email"]
    assert reminders[0]["message"]["text"].startswith("⏰ Rappel")


def test_no_reminder_and_no_warning_after_a_cancellation(store):
    ev = event()
    handle(store, ev, at(1, 10))
    cancel = event("booking.cancelled", ev["booking"]["id"], ev["person"]["id"], status="cancelled")
    handle(store, cancel, at(2, 10))
    usecases.run_scheduled(store, at(10, 12), SENDER, True)
    kinds = sorted(d["kind"] for d in deliveries(store, ev["booking"]["id"]))
    assert kinds == ["cancellation", "confirmation"]


def test_a_cancellation_arriving_first_still_wins(store):
    ev = event()
    cancel = event("booking.cancelled", ev["booking"]["id"], ev["person"]["id"], status="cancelled")
    handle(store, cancel, at(2, 10))
    handle(store, ev, at(2, 10))     # the older event, delivered late
    usecases.run_scheduled(store, at(10, 12), SENDER, True)
    assert "reminder" not in [d["kind"] for d in deliveries(store, ev["booking"]["id"])]


def test_no_show_warning_before_release_unless_checked_in(store):
    ev = event()
    handle(store, ev, at(1, 10), release_after=30)
    usecases.run_scheduled(store, at(10, 9, 19), SENDER, True)
    assert "no_show_warning" not in [d["kind"] for d in deliveries(store, ev["booking"]["id"])]
    usecases.run_scheduled(store, at(10, 9, 20), SENDER, True)
    warnings = [d for d in deliveries(store, ev["booking"]["id"]) if d["kind"] == "no_show_warning"]
    assert {d["channel"] for d in warnings} == {"email", "chat"}
    email = next(d for d in warnings if d["channel"] == "email")
    assert email["message"]["subject"] == "Enregistrez-vous avant 09:30 : Bureau 12 (Hôtel de ville)"
    assert email["expires_at"] == at(10, 9, 30)

    other = event()
    handle(store, other, at(1, 10), release_after=30)
    handle(store, event("booking.checked_in", other["booking"]["id"], other["person"]["id"],
                        status="checked_in"), at(10, 9, 5))
    usecases.run_scheduled(store, at(10, 9, 25), SENDER, True)
    assert "no_show_warning" not in [d["kind"] for d in deliveries(store, other["booking"]["id"])]


def test_no_warning_where_the_site_never_releases(store):
    ev = event()
    handle(store, ev, at(1, 10), release_after=0)
    usecases.run_scheduled(store, at(10, 12), SENDER, True)
    assert "no_show_warning" not in [d["kind"] for d in deliveries(store, ev["booking"]["id"])]


def test_quiet_hours_hold_messages_until_they_end(store):
    ev = event()
    person = {"person_id": ev["person"]["id"], "role": "agent"}
    usecases.set_preferences(store, person, {"quiet_hours": {"start": "22:00", "end": "07:00"}})
    handle(store, ev, at(1, 23, 15))
    (confirmation,) = deliveries(store, ev["booking"]["id"])
    assert confirmation["next_attempt_at"] == at(2, 7, 0)


def test_due_work_fires_once_with_several_processes(store):
    settle(store)
    events = [event() for _ in range(20)]
    for ev in events:
        handle(store, ev, at(1, 10))
    results = []
    barrier = threading.Barrier(4)

    def replica():
        barrier.wait()
        results.append(usecases.run_scheduled(store, at(9, 17), SENDER, True, limit=100))

    threads = [threading.Thread(target=replica) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 20
    for ev in events:
        assert [d["kind"] for d in deliveries(store, ev["booking"]["id"])].count("reminder") == 1


class Transport:
    """Fails as told, then sends."""

    platform = "matrix"
    enabled = True

    def __init__(self, failures=(), skip=None):
        self.failures = list(failures)
        self.skip = skip
        self.sent = []

    def send(self, *args):
        if self.skip:
            raise Skip(self.skip)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append(args)


def _only(store, booking_id, channel="email"):
    with store.pool.connection() as conn:
        return conn.execute("SELECT id::text, status, attempts, next_attempt_at, last_error "
                            "FROM delivery WHERE booking_id = %s AND channel = %s",
                            (booking_id, channel)).fetchone()


def test_retries_back_off_then_dead_letter_then_replay(store):
    settle(store)
    ev = event(start=datetime.now(PARIS) + timedelta(days=3))
    now = datetime.now(timezone.utc)
    handle(store, ev, now)
    mail = Transport([DeliveryFailed("SMTP 451"), DeliveryFailed("SMTP 451"),
                      DeliveryFailed("SMTP 451")])
    chat = Transport(skip="no_chat_identity")
    usecases.deliver_due(store, now, mail, chat, POLICY)
    row = _only(store, ev["booking"]["id"])
    assert row["status"] == "pending" and row["attempts"] == 1
    assert row["next_attempt_at"] == now + timedelta(seconds=10)
    usecases.deliver_due(store, now + timedelta(seconds=5), mail, chat, POLICY)
    assert _only(store, ev["booking"]["id"])["attempts"] == 1   # not due yet
    usecases.deliver_due(store, now + timedelta(seconds=10), mail, chat, POLICY)
    row = _only(store, ev["booking"]["id"])
    assert row["attempts"] == 2 and row["next_attempt_at"] == now + timedelta(seconds=30)
    usecases.deliver_due(store, now + timedelta(seconds=30), mail, chat, POLICY)
    row = _only(store, ev["booking"]["id"])
    assert row["status"] == "dead" and row["attempts"] == 3 and row["last_error"] == "SMTP 451"
    admin = {"role": "admin", "person_id": None}
    assert usecases.replay_dead_letters(store, now, admin, [row["id"]]) == {"replayed": 1}
    usecases.deliver_due(store, now + timedelta(seconds=31), mail, chat, POLICY)
    assert _only(store, ev["booking"]["id"])["status"] == "sent"
    assert len(mail.sent) == 1


def test_a_permanent_refusal_is_dead_lettered_at_once(store):
    settle(store)
    ev = event(start=datetime.now(PARIS) + timedelta(days=3))
    now = datetime.now(timezone.utc)
    handle(store, ev, now)
    mail = Transport([DeliveryFailed("SMTP 550", permanent=True)])
    usecases.deliver_due(store, now, mail, Transport(), POLICY)
    row = _only(store, ev["booking"]["id"])
    assert row["status"] == "dead" and row["attempts"] == 1


def test_a_warning_that_can_no_longer_help_is_not_sent(store):
    settle(store)
    ev = event(start=datetime.now(PARIS) - timedelta(minutes=25))
    now = datetime.now(timezone.utc) - timedelta(days=1)
    handle(store, ev, now, release_after=30)
    usecases.run_scheduled(store, datetime.now(timezone.utc), SENDER, True)
    mail = Transport()
    # The sender was away until after the release time.
    usecases.deliver_due(store, datetime.now(timezone.utc) + timedelta(minutes=6), mail,
                         Transport(), POLICY)
    assert not [m for m, _ in mail.sent if m["subject"].startswith("Enregistrez")]
    with store.pool.connection() as conn:
        rows = conn.execute("SELECT status, last_error FROM delivery WHERE booking_id = %s "
                            "AND kind = 'no_show_warning' AND channel = 'email'",
                            (ev["booking"]["id"],)).fetchall()
    assert rows == [{"status": "skipped", "last_error": "expired"}]
