"""Creating and migrating the two databases the command looks after."""

from __future__ import annotations

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo


class CommandError(Exception):
    """A failure to report on standard error as is, with exit status 1."""


def database_name(url: str) -> str:
    try:
        name = conninfo_to_dict(url).get("dbname")
    except psycopg.ProgrammingError as exc:
        raise CommandError(f"Not a PostgreSQL URL: {url!r} ({exc}).") from None
    if not name:
        raise CommandError(f"The URL {redact(url)} names no database.")
    return name


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    try:
        params = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "<invalid URL>"
    if "password" in params:
        params["password"] = "***"
    host = params.get("host", "localhost")
    port = params.get("port", "5432")
    return f"{params.get('user', '')}@{host}:{port}/{params.get('dbname', '')}"


def ensure_database(url: str) -> bool:
    """Create the database of ``url`` if missing; True if it was created.

    Connects to the ``postgres`` database of the same server, with the same
    credentials.
    """
    name = database_name(url)
    admin_url = make_conninfo(url, dbname="postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists:
            return False
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        except psycopg.errors.DuplicateDatabase:
            return False  # created meanwhile by another `escale db upgrade`
        return True


def upgrade_all(booking_url: str, gateway_url: str, notify_url: str | None = None,
                presence_url: str | None = None) -> list[str]:
    """Create the databases if needed and apply their migrations; lines to print."""
    from booking.adapters import migrate as booking_migrate
    from gateway.adapters import migrate as gateway_migrate

    databases = [("booking", booking_url, booking_migrate), ("gateway", gateway_url, gateway_migrate)]
    if notify_url:
        from notify.adapters import migrate as notify_migrate

        databases.append(("notify", notify_url, notify_migrate))
    if presence_url:
        from presence.adapters import migrate as presence_migrate

        databases.append(("presence", presence_url, presence_migrate))
    lines = []
    for label, url, migrate in databases:
        created = ensure_database(url)
        applied = migrate.upgrade(url)
        state = "created" if created else "exists"
        lines.append(
            f"{label} database {database_name(url)}: {state}, {applied} migration(s) applied"
        )
    return lines
