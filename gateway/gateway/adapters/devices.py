"""Door tablets: pairing codes, device tokens and heartbeats (gateway database).

Pairing, as the display and the admin see it:

1. the display asks for a code (:meth:`DeviceStore.start_pairing`): a short
   code to show on screen (6 characters of an alphabet without look-alikes,
   valid ``PAIRING_TTL``) and a claim secret that the display keeps to
   itself (only its SHA-256 is stored);
2. an admin enters the code against a room (:meth:`DeviceStore.pair`): a
   device token bound to that room is issued (an ``api_token`` row, role
   ``device``) and parked on the pairing row;
3. the display collects it with its claim secret (:meth:`DeviceStore.claim`);
   the row is deleted, so the token is handed out once and stored nowhere
   but as its hash in ``api_token``.

Seeing the code on the screen is not enough to obtain the token: that also
needs the claim secret, which never leaves the display. Revoking a device is
revoking its token, which every gateway refuses at once (the token store
listens to the change notifications).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from psycopg.rows import dict_row

from .tokens import hash_token, new_token

PAIRING_TTL = timedelta(minutes=10)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, no 1/I
CODE_LENGTH = 6
MAX_PENDING = 1000          # open pairings at once; beyond, new ones are refused
ONLINE_WITHIN = timedelta(seconds=90)  # displays beat every 30 s


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    """What a person types, as stored: upper case, spaces and dashes dropped."""
    return "".join(ch for ch in code.upper() if ch not in " -")


def device_email(room_id: uuid.UUID) -> str:
    """The (non-deliverable) email of a device token: api_token needs one."""
    return f"device-{room_id}@devices.escale.invalid"


@dataclass(frozen=True)
class Pairing:
    code: str
    claim: str
    expires_at: datetime


@dataclass(frozen=True)
class Device:
    id: uuid.UUID
    room_id: uuid.UUID | None
    label: str
    created_at: datetime
    last_heartbeat_at: datetime | None
    online: bool

    def as_dict(self) -> dict:
        return {
            "id": str(self.id),
            "room_id": str(self.room_id) if self.room_id else None,
            "label": self.label,
            "created_at": self.created_at.isoformat(),
            "last_heartbeat_at": self.last_heartbeat_at.isoformat() if self.last_heartbeat_at else None,
            "online": self.online,
        }


class PairingUnavailable(Exception):
    """Too many pairings are open at once."""


class DeviceStore:
    """The gateway's narrow view of its device tables."""

    def __init__(self, database_url: str, *, max_size: int = 4, timeout: float = 3.0):
        from psycopg_pool import AsyncConnectionPool

        self._pool = AsyncConnectionPool(
            database_url, min_size=1, max_size=max_size, timeout=timeout, open=False,
            kwargs={"autocommit": True, "row_factory": dict_row}, name="gateway-devices",
        )

    async def open(self) -> None:
        await self._pool.open(wait=False)

    async def close(self) -> None:
        await self._pool.close()

    async def start_pairing(self) -> Pairing:
        claim = secrets.token_urlsafe(32)
        async with self._pool.connection() as conn:
            async with conn.transaction():
                await conn.execute("DELETE FROM device_pairing WHERE expires_at < now()")
                cur = await conn.execute("SELECT count(*) AS n FROM device_pairing")
                if (await cur.fetchone())["n"] >= MAX_PENDING:
                    raise PairingUnavailable()
                for _ in range(5):  # a clash among < 1000 of 32^6 codes is rare
                    cur = await conn.execute(
                        "INSERT INTO device_pairing (code, claim_hash, expires_at) "
                        "VALUES (%s, %s, now() + %s) ON CONFLICT DO NOTHING RETURNING code, expires_at",
                        (new_code(), _digest(claim), PAIRING_TTL))
                    row = await cur.fetchone()
                    if row is not None:
                        return Pairing(row["code"], claim, row["expires_at"])
        raise PairingUnavailable()

    async def pair(self, code: str, room_id: uuid.UUID, site_id: uuid.UUID | None,
                   label: str) -> Device | None:
        """Issue the device token of an open pairing; None if no such open code."""
        token = new_token()
        async with self._pool.connection() as conn:
            async with conn.transaction():
                cur = await conn.execute(
                    "SELECT code FROM device_pairing WHERE code = %s AND expires_at > now() "
                    "AND token_id IS NULL FOR UPDATE", (normalise_code(code),))
                if await cur.fetchone() is None:
                    return None
                cur = await conn.execute(
                    "INSERT INTO api_token (token_hash, email, role, site_ids, room_id, label) "
                    "VALUES (%s, %s, 'device', %s, %s, %s) RETURNING id, room_id, label, created_at",
                    (hash_token(token), device_email(room_id), [site_id] if site_id else [],
                     room_id, label))
                row = await cur.fetchone()
                await conn.execute(
                    "UPDATE device_pairing SET token_id = %s, token = %s WHERE code = %s",
                    (row["id"], token, normalise_code(code)))
        return Device(row["id"], row["room_id"], row["label"], row["created_at"], None, False)

    async def claim(self, code: str, claim: str) -> str | None | bool:
        """The token once paired (then forgotten); False while waiting; None if
        the code is unknown, expired or the claim secret is wrong."""
        async with self._pool.connection() as conn:
            async with conn.transaction():
                cur = await conn.execute(
                    "SELECT claim_hash, token FROM device_pairing WHERE code = %s "
                    "AND expires_at > now() FOR UPDATE", (normalise_code(code),))
                row = await cur.fetchone()
                if row is None or not hmac.compare_digest(bytes(row["claim_hash"]), _digest(claim)):
                    return None
                if row["token"] is None:
                    return False
                await conn.execute("DELETE FROM device_pairing WHERE code = %s",
                                   (normalise_code(code),))
                return row["token"]

    async def heartbeat(self, token_id: uuid.UUID) -> None:
        async with self._pool.connection() as conn:
            await conn.execute(
                "INSERT INTO device_heartbeat (token_id) VALUES (%s) ON CONFLICT (token_id) "
                "DO UPDATE SET last_seen_at = now()", (token_id,))

    async def devices(self) -> list[Device]:
        """Every device not revoked, newest first, with its last heartbeat."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "SELECT t.id, t.room_id, t.label, t.created_at, h.last_seen_at, "
                "coalesce(h.last_seen_at > now() - %s, false) AS online "
                "FROM api_token t LEFT JOIN device_heartbeat h ON h.token_id = t.id "
                "WHERE t.role = 'device' AND t.revoked_at IS NULL "
                "AND (t.expires_at IS NULL OR t.expires_at > now()) "
                "ORDER BY t.created_at DESC", (ONLINE_WITHIN,))
            rows = await cur.fetchall()
        return [Device(r["id"], r["room_id"], r["label"], r["created_at"], r["last_seen_at"],
                       r["online"]) for r in rows]

    async def revoke(self, device_id: uuid.UUID) -> bool:
        """Revoke a device's token; True if a live device token was revoked now."""
        async with self._pool.connection() as conn:
            cur = await conn.execute(
                "UPDATE api_token SET revoked_at = now() WHERE id = %s AND role = 'device' "
                "AND revoked_at IS NULL", (device_id,))
            return cur.rowcount == 1


def _digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode("utf-8")).digest()
