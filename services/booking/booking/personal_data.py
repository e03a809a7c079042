"""Personal data held by the booking service: export, erasure, retention.

* ``export_person``: the person's directory entry (with contacts and
  teams), all their bookings with statuses, and their recurring series.
  Only their own rows: a booking carries no co-attendees, and nothing of
  the room's other bookings is read.
* ``erase_person``: active bookings not yet over are cancelled (the
  cancellation events carry the person's id but no name or email, so
  presence and the tablets free the place and nobody is mailed); past
  bookings are kept for occupancy statistics but detached from the person
  (``person_id`` NULL, title cleared, ``anonymised_at`` set); series,
  idempotency keys, team memberships, the calendar that tells their busy
  times and the person row are deleted, their address as a calendar
  meeting's organiser is forgotten; the outbox keeps no copy of their name
  or email. ``person.erased`` is
  published so other services and caches drop the person. Idempotent.
* ``run_retention``: bookings that ended before their organisation's
  cut-off are deleted, old published events and idempotency keys too;
  once a day across replicas (a claim on ``retention_run``).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone

from psycopg.types.json import Jsonb

from .adapters.directory import export as export_entries
from .adapters.store import BOOKING_SELECT, BookingStore, booking_dict, plain
from .domain import errors, events, retention
from .domain.access import Actor

PERSON_ERASED = "person.erased"


def _pid(person_id) -> str:
    try:
        return str(uuid.UUID(str(person_id)))
    except ValueError:
        raise errors.Invalid("person_id_must_be_an_id", field="person_id") from None


def check_access(actor: Actor, person_id) -> str:
    """One's own data, or anyone's for an administrator."""
    pid = _pid(person_id)
    if actor.role == "admin" or (actor.role in ("agent", "site_admin") and actor.person_id == pid):
        return pid
    raise errors.Forbidden("you_may_only_export_or_erase")


# --- export ---------------------------------------------------------------------------------


def export_person(store: BookingStore, person_id: str) -> dict:
    pid = _pid(person_id)
    with store.unit(transaction=False) as unit:
        conn = unit.conn
        entries = export_entries(conn, None, 1, None, [pid])
        bookings = [booking_dict(r) for r in conn.execute(
            BOOKING_SELECT + " WHERE b.person_id = %s ORDER BY lower(b.during)", (pid,)).fetchall()]
        series = conn.execute(
            "SELECT id, resource_id, rrule, created_at FROM booking_series WHERE person_id = %s "
            "ORDER BY created_at", (pid,)).fetchall()
        keys = conn.execute(
            "SELECT key, created_at FROM idempotency_key WHERE person_id = %s ORDER BY created_at",
            (pid,)).fetchall()
        calendars = []
        if _has_table(conn, "calendar_person"):
            calendars = conn.execute(
                "SELECT site_id, calendar_ref, busy_at FROM calendar_person WHERE person_id = %s",
                (pid,)).fetchall()
    return {
        "directory_entry": entries[0] if entries else None,
        "bookings": bookings,
        "series": plain(series),
        "idempotency_keys": plain(keys),
        "busy_calendars": plain(calendars),
    }


def _has_table(conn, name: str) -> bool:
    return conn.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (name,)).fetchone()["present"]


# --- erasure --------------------------------------------------------------------------------


def _anonymous_person(person_id: str, language: str) -> dict:
    return {"id": person_id, "email": "", "display_name": "", "language": language}


def erase_person(store: BookingStore, now: datetime, person_id: str) -> dict:
    pid = _pid(person_id)
    with store.unit() as unit:
        conn = unit.conn
        person = conn.execute("SELECT id, email, display_name, language FROM person WHERE id = %s "
                              "FOR UPDATE", (pid,)).fetchone()
        cancelled = 0
        language = person["language"] if person else "fr"
        for row in conn.execute(
                BOOKING_SELECT + " WHERE b.person_id = %s AND b.status IN ('confirmed', 'checked_in') "
                "AND upper(b.during) > %s ORDER BY lower(b.during) FOR UPDATE OF b", (pid, now)).fetchall():
            updated = unit.set_status(str(row["id"]), "cancelled", now)
            resource = unit.resource_row(updated["resource_id"], active_only=False)
            site = unit.site_row(resource["site_id"])
            unit.enqueue(events.booking_event(
                events.BOOKING_CANCELLED, now, {**updated, "title": ""},
                _anonymous_person(pid, language),
                {k: str(v) if k.endswith("id") else v for k, v in resource.items()},
                {"id": str(site["id"]), "name": site["name"], "timezone": site["timezone"]}))
            cancelled += 1
        anonymised = conn.execute(
            "UPDATE booking SET person_id = NULL, title = '', anonymised_at = %s, updated_at = %s "
            "WHERE person_id = %s", (now, now, pid)).rowcount
        conn.execute("UPDATE booking SET created_by = NULL WHERE created_by = %s", (pid,))
        conn.execute("UPDATE booking_series SET person_id = NULL WHERE person_id = %s", (pid,))
        conn.execute("DELETE FROM idempotency_key WHERE person_id = %s", (pid,))
        scrubbed = _scrub_outbox(conn, pid, person, language)
        if person is not None:
            if _has_table(conn, "calendar_link"):
                # calendar_person goes with the person row (ON DELETE CASCADE)
                conn.execute("UPDATE calendar_connection SET fallback_person_id = NULL "
                             "WHERE fallback_person_id = %s", (pid,))
                conn.execute("UPDATE calendar_link SET organiser_email = NULL "
                             "WHERE lower(organiser_email) = lower(%s)", (person["email"],))
            conn.execute("DELETE FROM team_member WHERE person_id = %s", (pid,))
            conn.execute("DELETE FROM person WHERE id = %s", (pid,))
            unit.enqueue({"v": events.VERSION, "event_id": str(uuid.uuid4()), "type": PERSON_ERASED,
                          "occurred_at": now.isoformat(), "person_id": pid})
    return {"person_id": pid, "found": person is not None, "cancelled": cancelled,
            "anonymised": anonymised, "events_scrubbed": scrubbed}


def _scrub_outbox(conn, pid: str, person: dict | None, language: str) -> int:
    """Published events naming the person are dropped (they are history);
    events still waiting keep going out, without name, email or title."""
    needles = [pid] + ([person["email"]] if person else [])
    match = " OR ".join(["payload::text ILIKE %s"] * len(needles))
    params = [f"%{n}%" for n in needles]
    dropped = conn.execute(f"DELETE FROM outbox WHERE published_at IS NOT NULL AND ({match})",
                           params).rowcount
    rewritten = conn.execute(
        f"UPDATE outbox SET payload = jsonb_set(jsonb_set(payload, '{{person}}', %s), "
        "'{booking,title}', '\"\"') "
        f"WHERE published_at IS NULL AND payload->'person'->>'id' = %s",
        [Jsonb(_anonymous_person(pid, language)), pid]).rowcount
    return dropped + rewritten


# --- retention ------------------------------------------------------------------------------


def _policies(conn) -> list[dict]:
    rows = conn.execute(
        "SELECT o.id AS organisation_id, o.code, o.name, p.bookings_months, p.notification_log_days, "
        "p.audit_log_months, p.event_log_days, p.updated_at FROM organisation o "
        "LEFT JOIN retention_policy p ON p.organisation_id = o.id ORDER BY o.name, o.id").fetchall()
    out = []
    for r in rows:
        policy = retention.DEFAULT if r["bookings_months"] is None else retention.Retention(
            r["bookings_months"], r["notification_log_days"], r["audit_log_months"], r["event_log_days"])
        out.append({"organisation_id": str(r["organisation_id"]), "code": r["code"], "name": r["name"],
                    **policy.to_dict(), "updated_at": plain(r["updated_at"])})
    return out


def _policy_of(item: dict) -> retention.Retention:
    return retention.Retention(**{k: item[k] for k in retention.LIMITS})


def get_retention(store: BookingStore) -> list[dict]:
    with store.unit(transaction=False) as unit:
        return _policies(unit.conn)


def set_retention(store: BookingStore, actor: Actor, organisation_id, data) -> dict:
    if actor.role != "admin":
        raise errors.Forbidden("only_an_administrator_may_set_retention")
    try:
        oid = str(uuid.UUID(str(organisation_id)))
    except ValueError:
        raise errors.NotFound("no_such_organisation", field="organisation_id") from None
    with store.unit() as unit:
        current = {p["organisation_id"]: p for p in _policies(unit.conn)}
        if oid not in current:
            raise errors.NotFound("no_such_organisation", field="organisation_id")
        policy = _policy_of(current[oid]).changed(data)
        unit.conn.execute(
            "INSERT INTO retention_policy (organisation_id, bookings_months, notification_log_days, "
            "audit_log_months, event_log_days) VALUES (%(oid)s, %(bookings_months)s, "
            "%(notification_log_days)s, %(audit_log_months)s, %(event_log_days)s) "
            "ON CONFLICT (organisation_id) DO UPDATE SET bookings_months = EXCLUDED.bookings_months, "
            "notification_log_days = EXCLUDED.notification_log_days, "
            "audit_log_months = EXCLUDED.audit_log_months, event_log_days = EXCLUDED.event_log_days, "
            "updated_at = now()", {"oid": oid, **policy.to_dict()})
        return next(p for p in _policies(unit.conn) if p["organisation_id"] == oid)


def retention_cutoffs(store: BookingStore, now: datetime) -> dict:
    """Cut-offs for data not partitioned by organisation (the shortest periods)."""
    policies = [_policy_of(p) for p in get_retention(store)]
    return {k: v.isoformat() for k, v in retention.cutoffs(retention.strictest(policies), now).items()}


def claim_run(conn, job: str, today) -> bool:
    """True for the one replica that runs ``job`` today."""
    row = conn.execute(
        "INSERT INTO retention_run (job, last_day) VALUES (%s, %s) ON CONFLICT (job) DO UPDATE "
        "SET last_day = EXCLUDED.last_day, ran_at = now() WHERE retention_run.last_day < EXCLUDED.last_day "
        "RETURNING job", (job, today)).fetchone()
    return row is not None


def run_retention(store: BookingStore, now: datetime, force: bool = False, hour: int = 3) -> dict:
    """Delete what is past its time; without ``force`` only once a day, after ``hour`` (UTC)."""
    now = now.astimezone(timezone.utc)
    if not force and now.hour < hour:
        return {"ran": False}
    with store.unit() as unit:
        if not force and not claim_run(unit.conn, "booking", now.date()):
            return {"ran": False}
        policies = _policies(unit.conn)
        deleted = 0
        for item in policies:
            cut = retention.cutoffs(_policy_of(item), now)["bookings"]
            deleted += unit.conn.execute(
                "DELETE FROM booking b USING resource r, site s WHERE r.id = b.resource_id "
                "AND s.id = r.site_id AND s.organisation_id = %s AND upper(b.during) < %s",
                (item["organisation_id"], cut)).rowcount
        series = unit.conn.execute(
            "DELETE FROM booking_series s WHERE NOT EXISTS "
            "(SELECT 1 FROM booking b WHERE b.series_id = s.id)").rowcount
        events_cut = retention.cutoffs(retention.strictest([_policy_of(p) for p in policies]), now)["event_log"]
        outbox = unit.conn.execute("DELETE FROM outbox WHERE published_at < %s", (events_cut,)).rowcount
        keys = unit.conn.execute("DELETE FROM idempotency_key WHERE created_at < %s", (events_cut,)).rowcount
    return {"ran": True, "bookings": deleted, "series": series, "outbox": outbox, "idempotency_keys": keys}
