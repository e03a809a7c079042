"""Personal data held by the notify service: export, erasure, retention.

Notify keeps a person's notification preferences, the chat accounts linked
to them and the direct-message rooms opened with them, the ledger of
messages sent to them (with the message itself until it is purged) and the
reminders waiting for their bookings (with the booking event).

``erase_person`` deletes all of it; it runs for the gateway's RPC and again
on booking's ``person.erased`` event (idempotent). ``run_retention`` deletes
finished messages and reminders older than the notification-log period
(``booking.retention_cutoffs``), once a day across replicas.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from escale_common.jsonable import plain
from escale_common.transactions import retry_aborted

from .domain import errors


def _pid(person_id) -> str:
    try:
        return str(uuid.UUID(str(person_id)))
    except ValueError:
        raise errors.Invalid("person_id_must_be_an_id", field="person_id") from None


def check_access(actor, person_id) -> str:
    pid = _pid(person_id)
    if not isinstance(actor, dict):
        raise errors.Forbidden("unknown_caller")
    if actor.get("role") == "admin" or (actor.get("role") in ("agent", "site_admin")
                                        and actor.get("person_id") == pid):
        return pid
    raise errors.Forbidden("you_may_only_export_or_erase")


def export_person(store, person_id: str) -> dict:
    pid = _pid(person_id)
    with store.unit() as unit:
        q = lambda sql, *p: unit.conn.execute(sql, (pid, *p)).fetchall()  # noqa: E731
        return plain({
            "preferences": q("SELECT channels, reminder, quiet_start, quiet_end, timezone, updated_at "
                             "FROM preference WHERE person_id = %s"),
            "chat_identities": q("SELECT platform, external_id, handle, created_at FROM chat_identity "
                                 "WHERE person_id = %s ORDER BY platform, external_id"),
            "chat_rooms": q("SELECT platform, room_id, created_at FROM chat_room WHERE person_id = %s"),
            "messages": q("SELECT id, event_id, channel, kind, booking_id, status, attempts, created_at, "
                          "sent_at, dead_at, message->>'subject' AS subject FROM delivery "
                          "WHERE person_id = %s ORDER BY created_at", ),
            "scheduled": q("SELECT booking_id, kind, due_at, status, created_at FROM scheduled "
                           "WHERE event->'event'->'person'->>'id' = %s ORDER BY created_at"),
        })


@retry_aborted
def erase_person(store, person_id: str) -> dict:
    """Runs for the gateway's RPC while booking's cancellations of the person's
    bookings are being handled and reminders fire: their locks are taken in
    other orders, and the deadlock PostgreSQL may pick this transaction for is
    answered by running it again."""
    pid = _pid(person_id)
    with store.unit() as unit:
        run = lambda sql: unit.conn.execute(sql, (pid,)).rowcount  # noqa: E731
        return {
            "person_id": pid,
            "preferences": run("DELETE FROM preference WHERE person_id = %s"),
            "chat_identities": run("DELETE FROM chat_identity WHERE person_id = %s"),
            "chat_rooms": run("DELETE FROM chat_room WHERE person_id = %s"),
            "messages": run("DELETE FROM delivery WHERE person_id = %s"),
            "scheduled": run("DELETE FROM scheduled WHERE event->'event'->'person'->>'id' = %s"),
        }


def run_retention(store, now: datetime, cutoff: datetime | None, force: bool = False,
                  hour: int = 3) -> dict:
    """Delete finished messages and reminders created before ``cutoff``."""
    now = now.astimezone(timezone.utc)
    if cutoff is None or (not force and now.hour < hour):
        return {"ran": False}
    with store.unit() as unit:
        if not force:
            claimed = unit.conn.execute(
                "INSERT INTO retention_run (job, last_day) VALUES ('notify', %s) ON CONFLICT (job) "
                "DO UPDATE SET last_day = EXCLUDED.last_day, ran_at = now() "
                "WHERE retention_run.last_day < EXCLUDED.last_day RETURNING job", (now.date(),)).fetchone()
            if claimed is None:
                return {"ran": False}
        messages = unit.conn.execute(
            "DELETE FROM delivery WHERE status IN ('sent', 'skipped', 'dead') AND created_at < %s",
            (cutoff,)).rowcount
        scheduled = unit.conn.execute(
            "DELETE FROM scheduled WHERE status <> 'waiting' AND created_at < %s", (cutoff,)).rowcount
    return {"ran": True, "messages": messages, "scheduled": scheduled}
