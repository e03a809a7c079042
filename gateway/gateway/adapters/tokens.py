"""API bearer tokens, stored in the gateway database as their SHA-256 only.

A token looks like ``esc_<43 url-safe characters>``. It is shown once, when
issued, and never stored: the table holds ``sha256(token)``. The gateway
looks the hash up on every request (:class:`TokenStore`), so a revoked or
expired token is refused at once, on every replica.

Browser sessions live in the same table (``kind = 'session'``, values
``ess_...``, see ``gateway/sessions.py``): one lookup path, one revocation
path, one listing for admins.

The synchronous functions (``issue_token``, ``revoke_token``, ``list_tokens``)
are for the operator's ``escale`` command; :class:`TokenStore` is the
asyncio lookup used by the gateway process.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import secrets
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable

import psycopg
from psycopg.rows import dict_row

TOKEN_PREFIX = "esc_"
SESSION_PREFIX = "ess_"
ENDED_SESSION_DAYS = 30  # an ended session's row is kept this long, then deleted
KINDS = ("api", "session")
ROLES = ("agent", "site_admin", "admin", "device", "bot")
# last_used_at is informative: refresh it at most once a minute per token so
# that reads do not turn into a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

log = logging.getLogger(__name__)

_COLUMNS = (
    "id, email, person_id, role, site_ids, room_id, label, "
    "created_at, expires_at, revoked_at, last_used_at, kind"
)


def hash_token(token: str) -> bytes:
    """The stored form of a token: its SHA-256 digest (32 bytes)."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def new_token(prefix: str = TOKEN_PREFIX) -> str:
    """A fresh token: ``esc_`` (``ess_`` for a session) + 32 random bytes,
    url-safe base64 (43 chars)."""
    return prefix + secrets.token_urlsafe(32)


def _uuid_or_none(value, name: str) -> uuid.UUID | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise ValueError(f"{name} is not a UUID: {value!r}") from None


@dataclass(frozen=True)
class TokenRecord:
    """One row of ``api_token`` (never the token nor its hash)."""

    id: uuid.UUID
    email: str
    person_id: uuid.UUID | None
    role: str
    site_ids: tuple[uuid.UUID, ...] = ()
    room_id: uuid.UUID | None = None
    label: str = ""
    created_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = field(default=None, compare=False)
    kind: str = "api"

    @property
    def is_session(self) -> bool:
        return self.kind == "session"

    @classmethod
    def from_row(cls, row: dict) -> "TokenRecord":
        return cls(
            id=row["id"],
            email=row["email"],
            person_id=row["person_id"],
            role=row["role"],
            site_ids=tuple(row["site_ids"] or ()),
            room_id=row["room_id"],
            label=row["label"],
            created_at=row["created_at"],
            expires_at=row["expires_at"],
            revoked_at=row["revoked_at"],
            last_used_at=row["last_used_at"],
            kind=row.get("kind", "api"),
        )

    def usable_at(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now`` (an aware datetime)."""
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or self.expires_at > now

    def as_dict(self) -> dict:
        return {
            "id": str(self.id),
            "email": self.email,
            "person_id": str(self.person_id) if self.person_id else None,
            "role": self.role,
            "site_ids": [str(s) for s in self.site_ids],
            "room_id": str(self.room_id) if self.room_id else None,
            "label": self.label,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "revoked_at": self.revoked_at.isoformat() if self.revoked_at else None,
            "last_used_at": self.last_used_at.isoformat() if self.last_used_at else None,
            "kind": self.kind,
        }


# --- synchronous operator functions (the `escale` command) -----------------


def issue_token(
    database_url: str,
    *,
    email: str,
    role: str,
    person_id: str | uuid.UUID | None = None,
    site_ids: Iterable[str | uuid.UUID] = (),
    room_id: str | uuid.UUID | None = None,
    label: str = "",
    expires_at: datetime | None = None,
) -> str:
    """Create a token and return it; only its SHA-256 is stored.

    Raises ``ValueError`` on a bad role, email or id.
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}; got {role!r}")
    email = (email or "").strip()
    if not email or "@" not in email:
        raise ValueError("email must be an email address")
    person = _uuid_or_none(person_id, "person_id")
    room = _uuid_or_none(room_id, "room_id")
    sites = [_uuid_or_none(s, "site_ids") for s in site_ids]
    if expires_at is not None and expires_at.tzinfo is None:
        raise ValueError("expires_at must carry a time zone")
    token = new_token()
    with psycopg.connect(database_url) as conn:
        conn.execute(
            "INSERT INTO api_token (token_hash, email, person_id, role, site_ids, room_id, "
            "label, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            (hash_token(token), email, person, role, sites, room, label or "", expires_at),
        )
    return token


def revoke_token(database_url: str, token_id: str | uuid.UUID) -> bool:
    """Revoke a token by id; True if a live token was revoked now."""
    tid = _uuid_or_none(token_id, "token_id")
    with psycopg.connect(database_url) as conn:
        cur = conn.execute(
            "UPDATE api_token SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL",
            (tid,),
        )
        return cur.rowcount == 1


def list_tokens(database_url: str, kind: str | None = None) -> list[TokenRecord]:
    """Every token (or every one of ``kind``: api or session), newest first,
    without hashes."""
    if kind is not None and kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}; got {kind!r}")
    with psycopg.connect(database_url, row_factory=dict_row) as conn:
        rows = conn.execute(
            f"SELECT {_COLUMNS} FROM api_token WHERE %(kind)s::text IS NULL OR kind = %(kind)s "
            "ORDER BY created_at DESC", {"kind": kind},
        ).fetchall()
    return [TokenRecord.from_row(r) for r in rows]


# --- asyncio lookup (the gateway) ------------------------------------------


class TokenStore:
    """The gateway's narrow view of its token table: find a token by value.

    Found tokens are kept in memory for ``cache_seconds`` while this process
    LISTENs to ``escale_token_changed`` (a trigger notifies on revocation or
    any change of rights), so the hot path skips the database and a revoked
    token is still refused as soon as the notification lands, milliseconds
    after the revocation commits. Without a live LISTEN connection nothing is
    cached and every request reads the table.
    """

    CHANNEL = "escale_token_changed"
    MAX_CACHED = 20_000

    def __init__(self, database_url: str, *, min_size: int = 1, max_size: int = 10,
                 timeout: float = 3.0, cache_seconds: float = 60.0,
                 session_idle: timedelta | None = None):
        from psycopg_pool import AsyncConnectionPool

        self._database_url = database_url
        self._cache_seconds = cache_seconds
        # A session idle for this long is not brought back to life by a lookup.
        self._session_idle = session_idle
        self._cache: dict[bytes, tuple[float, TokenRecord]] = {}
        self._generation = 0
        self._listening = False
        self._listener: asyncio.Task | None = None
        # Told the id of each token revoked or changed (the live hub closes its
        # sockets at once rather than at its next periodic check).
        self.change_listeners: list[Callable[[str], None]] = []

        self._pool = AsyncConnectionPool(
            database_url,
            min_size=min_size,
            max_size=max_size,
            # A request waits at most this long for a connection, then fails (503).
            timeout=timeout,
            open=False,
            kwargs={"autocommit": True, "row_factory": dict_row},
            name="gateway-tokens",
        )

    async def open(self, wait: bool = False, timeout: float = 10.0) -> None:
        await self._pool.open(wait=wait, timeout=timeout)
        if self._cache_seconds > 0:
            self._listener = asyncio.create_task(self._listen(), name="token-change-listener")

    async def close(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            try:
                await self._listener
            except asyncio.CancelledError:
                pass
        await self._pool.close()

    @property
    def caching(self) -> bool:
        return self._listening

    async def _listen(self) -> None:
        """Keep a LISTEN connection; drop the cache whenever it is not live."""
        backoff = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self._database_url, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {self.CHANNEL}")
                    self._forget_all()  # anything may have changed while deaf
                    self._listening = True
                    backoff = 0.5
                    async for notice in conn.notifies():
                        self._forget(notice.payload)
                        self._tell(notice.payload)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect whatever went wrong
                log.warning("token change listener lost", extra={"error": repr(exc)})
            finally:
                self._listening = False
                self._forget_all()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 10.0)

    def _forget(self, token_id: str) -> None:
        self._generation += 1
        self._cache = {k: v for k, v in self._cache.items() if str(v[1].id) != token_id}

    def _tell(self, token_id: str) -> None:
        for listener in self.change_listeners:
            try:
                listener(token_id)
            except Exception:  # noqa: BLE001 - a listener must not stop the LISTEN loop
                log.exception("token change listener failed")

    def _forget_all(self) -> None:
        self._generation += 1
        self._cache.clear()

    async def find(self, token: str) -> TokenRecord | None:
        """The record of ``token`` (revoked or expired ones included), or None."""
        if not token.startswith((TOKEN_PREFIX, SESSION_PREFIX)) or len(token) > 200:
            return None
        digest = hash_token(token)
        if self._listening:
            cached = self._cache.get(digest)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
        generation = self._generation
        record = await self._lookup(digest)
        # Cache only if no change notice arrived while we were reading.
        if record is not None and self._listening and generation == self._generation:
            if len(self._cache) >= self.MAX_CACHED:
                self._cache.clear()
            self._cache[digest] = (time.monotonic() + self._cache_seconds, record)
        return record

    async def _lookup(self, digest: bytes) -> TokenRecord | None:
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM api_token WHERE token_hash = %s", (digest,)
            )
            row = await cur.fetchone()
            if row is None:
                return None
            record = TokenRecord.from_row(row)
            if record.is_session and self._session_idle is not None and (
                    (record.last_used_at or record.created_at) + self._session_idle
                    <= _now_like(row["created_at"])):
                return record  # idle too long: the caller refuses it, as it stands
            if record.revoked_at is None and (
                record.last_used_at is None
                or record.last_used_at < _now_like(row["created_at"]) - LAST_USED_RESOLUTION
            ):
                await conn.execute(
                    "UPDATE api_token SET last_used_at = now() WHERE id = %s", (record.id,)
                )
                # What the row says now: a session's idle expiry counts from here.
                record = replace(record, last_used_at=datetime.now(timezone.utc))
            return record

    async def create_session(self, *, email: str, role: str, person_id: uuid.UUID | None,
                             site_ids: Iterable[uuid.UUID] = (), label: str = "",
                             expires_at: datetime, id_token: str | None = None) -> tuple[str, TokenRecord]:
        """Open a browser session; returns its value (for the cookie) and its record."""
        if role not in ROLES or role in ("device", "bot"):
            raise ValueError(f"a session is for a person, not a {role!r}")
        token = new_token(SESSION_PREFIX)
        async with self._pool.connection() as conn:
            await self._forget_ended_sessions(conn)
            cur = await conn.execute(
                "INSERT INTO api_token (token_hash, email, person_id, role, site_ids, label, "
                "expires_at, kind, id_token, last_used_at) "
                f"VALUES (%s, %s, %s, %s, %s, %s, %s, 'session', %s, now()) RETURNING {_COLUMNS}",
                (hash_token(token), email, person_id, role, list(site_ids), label, expires_at,
                 id_token),
            )
            row = await cur.fetchone()
        return token, TokenRecord.from_row(row)

    async def records(self, *, kind: str | None = None, email: str | None = None,
                      limit: int = 500) -> list[TokenRecord]:
        """Tokens and sessions for admins, newest first (never a hash nor an ID token)."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                f"SELECT {_COLUMNS} FROM api_token "
                "WHERE (%(kind)s::text IS NULL OR kind = %(kind)s) "
                "AND (%(email)s::text IS NULL OR lower(email) = lower(%(email)s)) "
                "ORDER BY created_at DESC LIMIT %(limit)s",
                {"kind": kind, "email": email, "limit": limit},
            )
            return [TokenRecord.from_row(r) for r in await cur.fetchall()]

    async def revoke(self, token_id: uuid.UUID) -> TokenRecord | None:
        """Revoke a token or session at once (every replica is told); its record,
        or None if there is none with this id."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE api_token SET revoked_at = coalesce(revoked_at, now()), "
                "id_token = NULL WHERE id = %s "
                f"RETURNING {_COLUMNS}", (token_id,))
            row = await cur.fetchone()
        self._forget(str(token_id))
        return TokenRecord.from_row(row) if row else None

    @staticmethod
    async def _forget_ended_sessions(conn) -> None:
        """Personal data of ended sessions: the provider's ID token goes as soon as
        a session has ended; the row (who was signed in, when) after
        ``ENDED_SESSION_DAYS``. Done at each sign-in: cheap, and needs no job."""
        await conn.execute(
            "UPDATE api_token SET id_token = NULL WHERE kind = 'session' AND id_token IS NOT NULL "
            "AND (revoked_at IS NOT NULL OR expires_at < now())")
        await conn.execute(
            "DELETE FROM api_token WHERE kind = 'session' "
            "AND coalesce(revoked_at, expires_at) < now() - make_interval(days => %s)",
            (ENDED_SESSION_DAYS,))

    async def end_session(self, token_id: uuid.UUID) -> str | None:
        """Revoke a session at once (every replica is notified); returns the
        ID token it kept for the provider's sign-out, if any, and forgets it."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE api_token t SET revoked_at = coalesce(t.revoked_at, now()), id_token = NULL "
                "FROM (SELECT id, id_token FROM api_token WHERE id = %s AND kind = 'session' "
                "FOR UPDATE) old WHERE t.id = old.id RETURNING old.id_token",
                (token_id,),
            )
            row = await cur.fetchone()
        self._forget(str(token_id))
        return row["id_token"] if row else None

    async def ping(self, timeout: float = 2.0) -> bool:
        """True if the database answers within ``timeout`` seconds."""
        try:
            async with self._pool.connection(timeout=timeout) as conn:
                await conn.execute("SELECT 1")
            return True
        except Exception:  # readiness probe: any failure means "not ready"
            return False


def _now_like(reference: datetime) -> datetime:
    """Now, in the same time zone as ``reference`` (psycopg returns aware datetimes)."""
    return datetime.now(reference.tzinfo)
