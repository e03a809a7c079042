"""Personal data held by the presence service: export and erasure.

Presence keeps a person's declared plans (today and ahead: past days are
purged every night, so there is no location history), weekly pattern,
temporary status, privacy choice, the booking facts of the current days,
and in Redis the read model built from them plus the directory entry
copied from booking.

``erase_person`` deletes all of it in PostgreSQL (person_state and what
cascades from it, booking facts, the person's events in the outbox) and in
Redis (directory entry and team index, day documents and the roster
entries they point to, any roster entry left naming them, the scheduled
status change), then publishes ``presence.changed`` (cause ``directory``,
nobody may see it, status ``unknown``) so that readers keeping the person
in memory (the gateway) drop them. It runs for the gateway's RPC and again
on booking's ``person.erased`` event: idempotent, and a booking event
applied in between cannot bring the name back, because booking erased the
person first.
"""

from __future__ import annotations

from datetime import date, datetime

from escale_common.jsonable import plain

from .domain import errors, events
from .domain.access import Actor
from .domain.model import parse_uuid
from .domain.projection import unknown_presence
from .usecases import frame


def check_access(actor: Actor, person_id) -> str:
    pid = parse_uuid(person_id, "person_id")
    if actor.role == "admin" or (actor.role in ("agent", "site_admin") and actor.person_id == pid):
        return pid
    raise errors.Forbidden("only_yourself")


def export_person(ports, person_id: str) -> dict:
    pid = parse_uuid(person_id, "person_id")
    with ports.store.unit() as unit:
        q = lambda sql: unit.conn.execute(sql, (pid,)).fetchall()  # noqa: E731
        state = q("SELECT visibility, updated_at FROM person_state WHERE person_id = %s")
        return plain({
            "privacy": {"visibility": state[0]["visibility"] if state else "everyone"},
            "day_plans": q("SELECT day, slot, status, site_id, updated_at FROM plan_day "
                           "WHERE person_id = %s ORDER BY day, slot"),
            "weekly_pattern": q("SELECT weekday, slot, status, site_id FROM plan_pattern "
                                "WHERE person_id = %s ORDER BY weekday, slot"),
            "temporary_status": q("SELECT kind, label, since, until FROM temporary_status "
                                  "WHERE person_id = %s"),
            "booking_facts": q("SELECT booking_id, status, kind, lower(during) AS start, "
                               "upper(during) AS end, place FROM booking_fact WHERE person_id = %s "
                               "ORDER BY lower(during)"),
        })


def erase_person(ports, now: datetime, person_id: str) -> dict:
    pid = parse_uuid(person_id, "person_id")
    model = ports.model
    with ports.store.unit() as unit:
        conn = unit.conn
        unit.lock_person(pid)  # serialised with any event being applied to them
        counts = {
            "booking_facts": conn.execute("DELETE FROM booking_fact WHERE person_id = %s", (pid,)).rowcount,
            "outbox": conn.execute("DELETE FROM outbox WHERE payload->>'person_id' = %s", (pid,)).rowcount,
        }
        conn.execute("DELETE FROM person_state WHERE person_id = %s", (pid,))  # plans, pattern, status
        counts["read_model_keys"] = _erase_read_model(model, pid, lambda day: frame(ports.config, day).end)
        today = now.astimezone(ports.config.tz).date().isoformat()
        unit.enqueue(events.presence_changed(now, pid, "nobody", [], today, unknown_presence({}),
                                             "directory"))
    return {"person_id": pid, **counts}


def _erase_read_model(model, pid: str, day_end) -> int:
    r, prefix = model.r, model.p
    old: dict = {}
    for key in r.scan_iter(match=f"{prefix}day:*:{pid}", count=500):
        day = key[len(prefix) + 4:].split(":", 1)[0]
        doc = model.day_doc(date.fromisoformat(day), pid)
        if doc is not None:
            old[(date.fromisoformat(day), pid)] = doc
    if old:
        model.write_days([(day, p, None, [], day_end(day)) for day, p in old], old)
    removed = len(old)
    # Roster entries not reached through a day document (a rebuild under way).
    for key in r.scan_iter(match=f"{prefix}roster:*", count=500):
        fields = [f for f, _ in r.hscan_iter(key, match=f"*|{pid}|*")]
        if fields:
            r.hdel(key, *fields)
            removed += len(fields)
    entry = model.directory_entries([pid]).get(pid)
    if entry is not None or r.hexists(model.k_directory(), pid):
        model.write_directory({}, [pid], old={pid: entry or {}})
        removed += 1
    r.zrem(model.k_transitions(), pid)
    return removed
