"""What each ``escale`` sub-command does; ``main`` only parses and reports.

Each function takes the settings and its arguments, writes its result to
``out`` and raises :class:`CommandError` (or a domain error) on failure.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import TextIO

import psycopg

from .databases import CommandError, upgrade_all
from .settings import Settings


def db_upgrade(settings: Settings, out: TextIO) -> None:
    for line in upgrade_all(settings.booking_database_url, settings.gateway_database_url,
                            settings.notify_database_url, settings.presence_database_url):
        print(line, file=out)


# The nameko services whose queues `broker setup` declares (module, class).
SERVICES = (
    ("booking.service", "BookingService"),
    ("presence.service", "PresenceService"),
    ("notify.service", "NotifyService"),
)


def broker_setup(settings: Settings, out: TextIO) -> None:
    """Declare what the services consume, read from their entrypoints."""
    import importlib

    from escale_common import broker

    classes = [getattr(importlib.import_module(module), name) for module, name in SERVICES]
    try:
        lines = broker.setup(settings.amqp_uri, broker.topology_of(*classes))
    except (OSError, ConnectionError) as exc:
        raise CommandError(f"RabbitMQ unreachable ({exc}); is ESCALE_AMQP_URI right?") from None
    for line in lines:
        print(f"broker: {line}", file=out)


def broker_replay(settings: Settings, service: str, limit: int, out: TextIO) -> None:
    from escale_common import broker

    try:
        sent = broker.replay_dead_letters(settings.amqp_uri, service, limit)
    except (OSError, ConnectionError) as exc:
        raise CommandError(f"RabbitMQ unreachable ({exc}); is ESCALE_AMQP_URI right?") from None
    except Exception as exc:  # noqa: BLE001 - amqp's channel errors: no such queue...
        if type(exc).__name__ == "NotFound":
            raise CommandError(f"No dead-letter queue dlq-{service}: is {service!r} a service that "
                               "consumes events?") from None
        raise
    for queue, count in sorted(sent.items()):
        print(f"{count} message(s) back to {queue}", file=out)
    print(f"replayed: {sum(sent.values())}", file=out)


def _counts(label: str, result: dict) -> str:
    return f"{label}: {result['created']} created, {result['updated']} updated"


def demo_seed(settings: Settings, out: TextIO) -> None:
    """Import the demo people (and their teams), then the demo site, in one transaction."""
    from booking.adapters.importer import import_people, import_resources
    from booking.demo import ADMIN_EMAIL, AGENT_EMAIL, demo_csvs

    resources_csv, people_csv = demo_csvs()
    with psycopg.connect(settings.booking_database_url) as conn:
        people = import_people(conn, people_csv)
        resources = import_resources(conn, resources_csv)
        conn.commit()
    print(_counts("people and teams", people), file=out)
    print(_counts("sites, buildings, floors, zones and resources", resources), file=out)
    print(f"demo accounts: {AGENT_EMAIL} (agent), {ADMIN_EMAIL} (admin)", file=out)


def _read_file(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise CommandError(f"{path}: no such file.") from None
    except IsADirectoryError:
        raise CommandError(f"{path}: is a directory, not a CSV file.") from None
    except PermissionError:
        raise CommandError(f"{path}: permission denied.") from None


def import_file(settings: Settings, what: str, path: str, organisation: str, out: TextIO) -> None:
    from booking.adapters.importer import import_people, import_resources
    from booking.domain.imports import decode, parse_people, parse_resources

    text = decode(_read_file(path))
    # Check the file before touching the database: its errors come first.
    {"resources": parse_resources, "people": parse_people}[what](text)
    apply = {"resources": import_resources, "people": import_people}[what]
    with psycopg.connect(settings.booking_database_url) as conn:
        result = apply(conn, text, organisation_code=organisation)
        conn.commit()
    print(_counts(what, result), file=out)


# -- tokens -------------------------------------------------------------------


def _find_person(conn, email: str):
    row = conn.execute(
        "SELECT id FROM person WHERE lower(email) = lower(%s) AND active", (email.strip(),)
    ).fetchone()
    return row[0] if row else None


def _as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


def _find_site(conn, value: str) -> uuid.UUID:
    """A site by id or by code."""
    as_id = _as_uuid(value)
    if as_id is not None:
        row = conn.execute("SELECT id FROM site WHERE id = %s", (as_id,)).fetchone()
    else:
        rows = conn.execute("SELECT id FROM site WHERE code = %s", (value,)).fetchall()
        if len(rows) > 1:
            raise CommandError(f"Several sites have the code {value!r}: give the site's id.")
        row = rows[0] if rows else None
    if not row:
        raise CommandError(f"No site {value!r} in the booking database.")
    return row[0]


def _find_room(conn, value: str) -> uuid.UUID:
    """A room by id or by code (codes are unique per site)."""
    as_id = _as_uuid(value)
    if as_id is not None:
        rows = conn.execute(
            "SELECT id, kind FROM resource WHERE id = %s AND active", (as_id,)
        ).fetchall()
    else:
        rows = conn.execute(
            "SELECT id, kind FROM resource WHERE code = %s AND active", (value,)
        ).fetchall()
    if not rows:
        raise CommandError(f"No room {value!r} in the booking database.")
    if len(rows) > 1:
        raise CommandError(f"Several resources have the code {value!r}: give the room's id.")
    room_id, kind = rows[0]
    if kind != "room":
        raise CommandError(f"{value!r} is a {kind}, not a room.")
    return room_id


def token_create(
    settings: Settings,
    email: str,
    role: str,
    sites: list[str],
    room: str | None,
    label: str,
    out: TextIO,
) -> None:
    """Issue a token and print it, alone, on ``out``."""
    from gateway.adapters.tokens import issue_token

    if role == "site_admin" and not sites:
        raise CommandError("A site_admin token needs at least one --site.")
    if role == "device" and not room:
        raise CommandError("A device token is paired to a room: give --room.")
    with psycopg.connect(settings.booking_database_url) as conn:
        person_id = _find_person(conn, email)
        if person_id is None and role == "agent":
            raise CommandError(
                f"No person with the e-mail {email} in the booking database; an agent "
                "token needs one (import the people first: escale import people FILE.csv)."
            )
        site_ids = [_find_site(conn, s) for s in sites]
        room_id = _find_room(conn, room) if room else None
    token = issue_token(
        settings.gateway_database_url,
        email=email,
        role=role,
        person_id=person_id,
        site_ids=site_ids,
        room_id=room_id,
        label=label,
    )
    print(token, file=out)


def token_list(settings: Settings, out: TextIO) -> None:
    from datetime import datetime, timezone

    from gateway.adapters.tokens import list_tokens

    records = list_tokens(settings.gateway_database_url)
    now = datetime.now(timezone.utc)
    # Browser sessions (KIND session) are listed and revoked like tokens.
    rows = [("ID", "KIND", "ROLE", "EMAIL", "STATE", "CREATED", "LABEL")]
    for r in records:
        state = "revoked" if r.revoked_at else ("active" if r.usable_at(now) else "expired")
        created = r.created_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M") if r.created_at else ""
        rows.append((str(r.id), r.kind, r.role, r.email, state, created, r.label))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)] + [row[-1]]
        print("  ".join(cells).rstrip(), file=out)


def token_revoke(settings: Settings, token_id: str, out: TextIO) -> None:
    from gateway.adapters.tokens import revoke_token

    if _as_uuid(token_id) is None:
        raise CommandError(f"{token_id!r} is not a token id (a UUID, see escale token list).")
    if not revoke_token(settings.gateway_database_url, token_id):
        raise CommandError(f"No live token with the id {token_id}.")
    print(f"revoked {token_id}", file=out)
