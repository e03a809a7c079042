"""Versioned SQL migrations of the notify database (the shared yoyo migrator)."""

from __future__ import annotations

from pathlib import Path

from escale_common import migrate

DIRECTORY = Path(__file__).parent / "migrations"


def upgrade(database_url: str, directory: Path = DIRECTORY) -> int:
    return migrate.upgrade(database_url, directory)
