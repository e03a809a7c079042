"""Calendar sync use cases: configure a site's connection and mappings, run rounds.

Rounds run from the service's timer (``sync_due``: every due site, once
across replicas thanks to a lease claimed with SKIP LOCKED) or when an admin
asks (``sync_now``). Backends are built from a connection's row and cached
per configuration in a ``BackendPool``.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from ..adapters.calendar_store import CalendarState
from ..adapters.store import BookingStore, plain
from ..domain import errors
from ..domain.access import Actor, require_manager
from .backend import BACKENDS, BackendConfig, CalendarBackend, build_backend
from .sync import SiteRound, run_site
from ..domain.messages import msg

LEASE = timedelta(minutes=10)
CONNECTION_FIELDS = {"backend", "url", "credentials_ref", "options", "dry_run", "enabled",
                     "interval_seconds", "fallback_person_id"}
SECRET_WORDS = ("password", "secret", "token", "key")
REF_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_CALENDAR_REF = 1000


class BackendPool:
    """One backend per site configuration, reused across rounds (sessions, pools)."""

    def __init__(self, env=None, factory=build_backend):
        import os

        self.env = os.environ if env is None else env
        self.factory = factory
        self.cache: dict[tuple, CalendarBackend] = {}

    def get(self, connection: dict) -> CalendarBackend:
        key = (connection["site_id"], connection["backend"], connection["url"], connection["credentials_ref"],
               json.dumps(connection["options"] or {}, sort_keys=True), connection["dry_run"])
        backend = self.cache.get(key)
        if backend is None:
            for old in [k for k in self.cache if k[0] == connection["site_id"]]:
                del self.cache[old]
            config = BackendConfig(name=connection["backend"], url=connection["url"],
                                   credentials_ref=connection["credentials_ref"],
                                   options=connection["options"] or {}, dry_run=connection["dry_run"])
            backend = self.cache[key] = self.factory(config, self.env)
        return backend


# -- rounds ------------------------------------------------------------------------


def sync_due(store: BookingStore, backends: BackendPool, now: datetime, limit: int = 20) -> list[dict]:
    """Run every site whose turn has come (at most ``limit``), each once across replicas."""
    runs = []
    for _ in range(limit):
        with store.unit(transaction=False) as unit:
            connection = CalendarState(unit.conn).claim(now, LEASE)
        if connection is None:
            break
        runs.append(_run(store, backends, connection, now, "timer"))
    return runs


def sync_now(store: BookingStore, backends: BackendPool, now: datetime, actor: Actor, site_id: str) -> dict:
    site_id = _uuid(site_id, "site_id")
    require_manager(actor, site_id)
    with store.unit(transaction=False) as unit:
        cal = CalendarState(unit.conn)
        if cal.connection(site_id) is None:
            raise errors.NotFound("this_site_has_no_calendar_connection", field="site_id")
        connection = cal.claim(now, LEASE, site_id=site_id)
    if connection is None:
        raise errors.InvalidState("a_sync_of_this_site_is",
                                  status="running")
    return _run(store, backends, connection, now, "manual")


def push_booking(store: BookingStore, backends: BackendPool, now: datetime, booking_id: str) -> int:
    """Write one booking's change to its room's calendar at once (the service
    calls this on its own booking events), instead of at the site's next
    round; a failure is left to that round. Returns the items written."""
    with store.unit(transaction=False) as unit:
        connection = CalendarState(unit.conn).connection_of_booking(_uuid(booking_id, "booking_id"))
    if connection is None:
        return 0  # not a mirrored room
    round_ = SiteRound(store, backends.get(connection), connection, now)
    round_.push(booking_id)
    return round_.counts.pushed + round_.counts.removed_remote


def _run(store, backends, connection, now, trigger) -> dict:
    try:
        backend = backends.get(connection)
    except Exception as exc:  # noqa: BLE001 - a bad configuration is recorded, not raised
        with store.unit(transaction=False) as unit:
            cal = CalendarState(unit.conn)
            run_id = cal.start_run(connection["site_id"], trigger, now)
            run = cal.finish_run(run_id, "failed", 0, {}, f"{type(exc).__name__}: {exc}"[:500], now)
            cal.release(connection["site_id"])
        return plain(run)
    return plain(run_site(store, backend, connection, now, trigger))


# -- configuration ---------------------------------------------------------------------


def get_settings(store: BookingStore, actor: Actor, site_id: str) -> dict:
    site_id = _uuid(site_id, "site_id")
    require_manager(actor, site_id)
    with store.unit(transaction=False) as unit:
        unit.site_row(site_id)
        cal = CalendarState(unit.conn)
        connection = cal.connection(site_id)
        return plain({
            "site_id": site_id,
            "connection": _connection_view(connection) if connection else None,
            "rooms": [{"resource_id": r["resource_id"], "name": r["resource_name"],
                       "calendar_ref": r["calendar_ref"], "synced_at": r["token_at"],
                       "last_full_at": r["last_full_at"], "last_error": r["last_error"]}
                      for r in cal.rooms(site_id)] if connection else [],
            "people": [{"person_id": p["person_id"], "calendar_ref": p["calendar_ref"]}
                       for p in cal.people(site_id)] if connection else [],
            "runs": cal.runs(site_id, 10) if connection else [],
        })


def set_connection(store: BookingStore, actor: Actor, site_id: str, data) -> dict:
    """Administrators only: the server address and the credentials reference
    together decide where the service sends which secret, so a site admin
    (who may map rooms and sync) cannot point another site's credentials
    at a server of their choosing."""
    site_id = _uuid(site_id, "site_id")
    require_manager(actor, None)
    cleaned = _validate_connection(data)
    with store.unit() as unit:
        unit.site_row(site_id)
        if cleaned["fallback_person_id"]:
            unit.person(cleaned["fallback_person_id"])
        return plain(_connection_view(CalendarState(unit.conn).save_connection(site_id, cleaned)))


def delete_connection(store: BookingStore, actor: Actor, site_id: str) -> dict:
    site_id = _uuid(site_id, "site_id")
    require_manager(actor, None)
    with store.unit() as unit:
        if not CalendarState(unit.conn).delete_connection(site_id):
            raise errors.NotFound("this_site_has_no_calendar_connection", field="site_id")
    return {"site_id": site_id, "deleted": True}


def map_room(store: BookingStore, actor: Actor, resource_id: str, calendar_ref: str | None) -> dict:
    resource_id = _uuid(resource_id, "resource_id")
    with store.unit() as unit:
        resource = unit.resource_row(resource_id)
        site_id = str(resource["site_id"])
        require_manager(actor, site_id)
        if resource["kind"] != "room":
            raise errors.Invalid("only_a_room_is_mirrored_in", field="resource_id")
        cal = CalendarState(unit.conn)
        if calendar_ref is None:
            if not cal.unmap_room(resource_id):
                raise errors.NotFound("this_room_has_no_calendar", field="resource_id")
            return {"resource_id": resource_id, "calendar_ref": None}
        if cal.connection(site_id) is None:
            raise errors.InvalidState("connect_the_site_to_a_calendar", status="no_connection")
        cal.map_room(site_id, resource_id, _calendar_ref(calendar_ref))
        return {"resource_id": resource_id, "site_id": site_id, "calendar_ref": calendar_ref}


def map_person(store: BookingStore, actor: Actor, person_id: str, site_id: str | None,
               calendar_ref: str | None) -> dict:
    person_id = _uuid(person_id, "person_id")
    with store.unit() as unit:
        unit.person(person_id)
        cal = CalendarState(unit.conn)
        if calendar_ref is None:
            require_manager(actor, _uuid(site_id, "site_id") if site_id else None)
            if not cal.unmap_person(person_id):
                raise errors.NotFound("this_person_s_calendar_is_not", field="person_id")
            return {"person_id": person_id, "calendar_ref": None}
        site_id = _uuid(site_id, "site_id")
        require_manager(actor, site_id)
        if cal.connection(site_id) is None:
            raise errors.InvalidState("connect_the_site_to_a_calendar", status="no_connection")
        cal.map_person(site_id, person_id, _calendar_ref(calendar_ref))
        return {"person_id": person_id, "site_id": site_id, "calendar_ref": calendar_ref}


def list_runs(store: BookingStore, actor: Actor, site_id: str, limit: int = 20) -> list[dict]:
    site_id = _uuid(site_id, "site_id")
    require_manager(actor, site_id)
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 200:
        raise errors.Invalid("limit_1_to_200", field="limit")
    with store.unit(transaction=False) as unit:
        return plain(CalendarState(unit.conn).runs(site_id, limit))


# -- validation ------------------------------------------------------------------------


def _validate_connection(data) -> dict:
    if not isinstance(data, dict):
        raise errors.Invalid("the_connection_must_be_an_object", field=None)
    for name in data:
        if name not in CONNECTION_FIELDS:
            if any(word in name.lower() for word in SECRET_WORDS):
                raise errors.Invalid("credentials_are_never_stored_give_credentials",
                                     field=name)
            raise errors.Invalid(msg("unknown_field_name", name=name), field=name)
    backend = data.get("backend")
    if backend not in BACKENDS:
        raise errors.Invalid(msg("backend_must_be_one_of_values",
                                 values=', '.join(sorted(BACKENDS))), field="backend")
    url = data.get("url")
    if backend != "none":
        if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise errors.Invalid("url_must_be_an_http_s", field="url")
        if "@" in urlsplit(url).netloc:
            raise errors.Invalid("put_no_credentials_in_the_url", field="url")
    ref = data.get("credentials_ref")
    if ref is not None and (not isinstance(ref, str) or not REF_RE.match(ref)):
        raise errors.Invalid("credentials_ref_is_1_to_64", field="credentials_ref")
    options = data.get("options") or {}
    if not isinstance(options, dict):
        raise errors.Invalid("options_must_be_an_object", field="options")
    for name in options:
        if any(word in str(name).lower() for word in SECRET_WORDS):
            raise errors.Invalid("credentials_are_never_stored_use_credentials", field="options")
    interval = data.get("interval_seconds", 60)
    if isinstance(interval, bool) or not isinstance(interval, int) or not 5 <= interval <= 86400:
        raise errors.Invalid("interval_seconds_must_be_from_5", field="interval_seconds")
    for name in ("dry_run", "enabled"):
        if name in data and not isinstance(data[name], bool):
            raise errors.Invalid(msg("name_must_be_true_or_false", name=name), field=name)
    fallback = data.get("fallback_person_id")
    return {
        "backend": backend, "url": url if backend != "none" else None, "credentials_ref": ref,
        "options": options, "dry_run": data.get("dry_run", False), "enabled": data.get("enabled", True),
        "interval_seconds": interval,
        "fallback_person_id": _uuid(fallback, "fallback_person_id") if fallback else None,
    }


def _connection_view(row: dict) -> dict:
    return {k: row[k] for k in ("site_id", "backend", "url", "credentials_ref", "options", "dry_run",
                                "enabled", "interval_seconds", "fallback_person_id", "next_run_at")}


def _calendar_ref(value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_CALENDAR_REF:
        raise errors.Invalid("calendar_ref_is_a_non_empty",
                             field="calendar_ref")
    return value.strip()


def _uuid(value, field_name: str) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (ValueError, TypeError, AttributeError):
        raise errors.Invalid(msg("field_name_must_be_an_id", field_name=field_name),
                             field=field_name) from None
