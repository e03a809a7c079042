"""Tokens and sessions, for admins: who holds a credential, and revoking one at once.

API tokens (scripts, bots, door tablets) and browser sessions are rows of one
store (``adapters/tokens.py``); a revocation reaches every gateway replica
within milliseconds (PostgreSQL NOTIFY). Creating tokens stays with the
operator's ``escale token create``: a token is shown once, to whoever
creates it, and never travels through the API.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Literal
from uuid import UUID

from pydantic import Field

from ..errors import ApiError
from ..keys import TOKENS_KEY
from ..openapi import Call
from ..policy import Action
from ..schemas import Out, Query
from . import api
from .common import ok

TAG = "administration"


class TokenQuery(Query):
    kind: Literal["api", "session"] | None = Field(None, description="api tokens or browser sessions")
    email: str | None = Field(None, min_length=3, max_length=320, description="one holder's")
    active: bool | None = Field(None, description="only usable ones (true) or only ended ones (false)")


class Credential(Out):
    id: UUID
    kind: Literal["api", "session"]
    role: Literal["agent", "site_admin", "admin", "device", "bot"]
    email: str
    person_id: UUID | None = None
    site_ids: list[UUID]
    room_id: UUID | None = None
    label: str
    created_at: datetime | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    active: bool = Field(description="neither revoked nor expired")


def _shown(record, now: datetime) -> dict:
    return {**record.as_dict(), "active": record.usable_at(now)}


@api.get("/tokens", summary="API tokens and browser sessions, newest first (admin)", tag=TAG,
         action=Action.MANAGE_TOKENS, query=TokenQuery, response=list[Credential],
         description="At most 500. Never a token's value nor its hash.")
async def list_credentials(call: Call):
    q: TokenQuery = call.query
    now = datetime.now(timezone.utc)
    records = await call.request.app[TOKENS_KEY].records(kind=q.kind, email=q.email)
    shown = [_shown(r, now) for r in records]
    if q.active is not None:
        shown = [r for r in shown if r["active"] is q.active]
    return ok(shown)


@api.delete("/tokens/{id}", summary="Revoke a token or end a session, at once (admin)", tag=TAG,
            action=Action.MANAGE_TOKENS, response=Credential, errors=(404,))
async def revoke_credential(call: Call):
    record = await call.request.app[TOKENS_KEY].revoke(call.path["id"])
    if record is None:
        raise ApiError("not_found", "entity_not_found")
    return ok(_shown(record, datetime.now(timezone.utc)))
