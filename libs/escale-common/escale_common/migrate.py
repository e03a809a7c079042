"""Versioned SQL migrations of a service's own database, applied with yoyo."""

from __future__ import annotations

from pathlib import Path

from yoyo import get_backend, read_migrations


def yoyo_url(database_url: str) -> str:
    """yoyo picks its driver from the URL scheme; we use psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix):]
    return database_url


def upgrade(database_url: str, directory: Path) -> int:
    """Apply every pending migration in ``directory``; returns how many.

    yoyo takes a lock in the database, so several replicas starting at once
    apply each migration exactly once. The folder holds only ``.sql`` files
    (yoyo would read a Python module there as a migration too).
    """
    backend = get_backend(yoyo_url(database_url))
    migrations = read_migrations(str(directory))
    with backend.lock():
        pending = backend.to_apply(migrations)
        backend.apply_migrations(pending)
    return len(pending)
