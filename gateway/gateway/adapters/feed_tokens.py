"""Secrets of the private iCalendar feeds, stored as their SHA-256 only.

A calendar client subscribing to ``webcal://…/ical/<secret>.ics`` cannot
send a bearer token: the secret in the URL is the credential. Like API
tokens (:mod:`gateway.adapters.tokens`), a secret is shown once, when the
feed is created, and the table keeps ``sha256(secret)``. Every fetch reads
the row (one indexed lookup, no cache), so a revoked feed answers 404 at
once on every gateway.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg.rows import dict_row

SECRET_PREFIX = "escf_"
MAX_LIVE_FEEDS = 10                       # per person or per room
LAST_FETCHED_RESOLUTION = timedelta(minutes=1)

_COLUMNS = ("id, kind, person_id, room_id, site_id, label, created_by, created_at, revoked_at, "
            "last_fetched_at")


def new_secret() -> str:
    """``escf_`` + 32 random bytes, url-safe base64: fits a URL path as is."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()


@dataclass(frozen=True)
class Feed:
    """One row of ``feed_token`` (never the secret nor its hash)."""

    id: uuid.UUID
    kind: str                      # person | room
    person_id: uuid.UUID | None
    room_id: uuid.UUID | None
    site_id: uuid.UUID | None
    label: str
    created_by: uuid.UUID | None
    created_at: datetime
    revoked_at: datetime | None
    last_fetched_at: datetime | None

    @classmethod
    def from_row(cls, row: dict) -> "Feed":
        return cls(**{k: row[k] for k in _COLUMNS.split(", ")})

    def as_dict(self) -> dict:
        return {
            "id": str(self.id),
            "kind": self.kind,
            "person_id": str(self.person_id) if self.person_id else None,
            "room_id": str(self.room_id) if self.room_id else None,
            "label": self.label,
            "created_at": self.created_at.isoformat(),
            "last_fetched_at": self.last_fetched_at.isoformat() if self.last_fetched_at else None,
        }


class TooManyFeeds(Exception):
    """The owner already has ``MAX_LIVE_FEEDS`` live feeds."""


class FeedTokenStore:
    """The gateway's narrow view of its ``feed_token`` table."""

    def __init__(self, database_url: str, *, max_size: int = 4, timeout: float = 3.0):
        from psycopg_pool import AsyncConnectionPool

        self._pool = AsyncConnectionPool(
            database_url, min_size=1, max_size=max_size, timeout=timeout, open=False,
            kwargs={"autocommit": True, "row_factory": dict_row}, name="gateway-feeds",
        )

    async def open(self) -> None:
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def create(self, *, person_id: uuid.UUID | None = None, room_id: uuid.UUID | None = None,
                     site_id: uuid.UUID | None = None, label: str = "",
                     created_by: uuid.UUID | None = None) -> tuple[Feed, str]:
        """A new feed of one person or one room, and its secret (returned once)."""
        if (person_id is None) == (room_id is None):
            raise ValueError("a feed is of one person or of one room")
        kind, column, owner = (("person", "person_id", person_id) if person_id is not None
                               else ("room", "room_id", room_id))
        secret = new_secret()
        async with self._pool.connection() as conn:
            async with conn.transaction():
                # Serialise creations for one owner so the limit holds under races.
                await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                                   (f"feed:{owner}",))
                cur = await conn.execute(
                    f"SELECT count(*) AS n FROM feed_token WHERE {column} = %s AND revoked_at IS NULL",
                    (owner,))
                if (await cur.fetchone())["n"] >= MAX_LIVE_FEEDS:
                    raise TooManyFeeds()
                cur = await conn.execute(
                    "INSERT INTO feed_token (token_hash, kind, person_id, room_id, site_id, label, "
                    f"created_by) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                    (hash_secret(secret), kind, person_id, room_id, site_id, label, created_by))
                row = await cur.fetchone()
        return Feed.from_row(row), secret

    async def live(self, *, person_id: uuid.UUID | None = None,
                   room_id: uuid.UUID | None = None) -> list[Feed]:
        """The live feeds of a person or of a room, newest first."""
        column, owner = ("person_id", person_id) if person_id is not None else ("room_id", room_id)
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM feed_token WHERE {column} = %s AND revoked_at IS NULL "
                "ORDER BY created_at DESC", (owner,))
            return [Feed.from_row(r) for r in await cur.fetchall()]

    async def revoke(self, feed_id: uuid.UUID, *, person_id: uuid.UUID | None = None,
                     room_id: uuid.UUID | None = None) -> bool:
        """Revoke a live feed of that person or room; False if there is none."""
        column, owner = ("person_id", person_id) if person_id is not None else ("room_id", room_id)
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"UPDATE feed_token SET revoked_at = now() WHERE id = %s AND {column} = %s "
                "AND revoked_at IS NULL", (feed_id, owner))
            return cur.rowcount == 1

    async def find(self, secret: str) -> Feed | None:
        """The live feed of ``secret``, or None (unknown or revoked)."""
        if not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
            return None
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM feed_token WHERE token_hash = %s AND revoked_at IS NULL",
                (hash_secret(secret),))
            row = await cur.fetchone()
            if row is None:
                return None
            feed = Feed.from_row(row)
            # Informative only: written at most once a minute, not on every poll.
            if feed.last_fetched_at is None or (
                    feed.last_fetched_at < datetime.now(feed.created_at.tzinfo)
                    - LAST_FETCHED_RESOLUTION):
                await conn.execute("UPDATE feed_token SET last_fetched_at = now() WHERE id = %s",
                                   (feed.id,))
            return feed

    async def ping(self, timeout: float = 2.0) -> bool:
        try:
            async with self._pool.connection(timeout=timeout) as conn:
                await conn.execute("SELECT 1")
            return True
        except Exception:  # readiness: any failure means "not ready"
            return False
