"""Notifications: one's own preferences, and for administrators the dead
letters (list, replay) and the chat accounts linked to people.

The notify service owns these (``notify.*`` RPC); the gateway checks the
role first, and notify checks again with the actor.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import Field

from ..openapi import Call
from ..policy import Action
from ..schemas import Body, Out, Query
from . import api
from .common import ok, service_rpc

TAG = "notifications"
Channel = Literal["email", "chat"]
Platform = Literal["matrix", "slack", "mattermost", "rocketchat", "teams"]
HHMM = Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$", description="HH:MM, local time")


class QuietHours(Body):
    start: str = HHMM
    end: str = HHMM


class ChannelChoice(Body):
    confirmation: list[Channel] | None = Field(None, max_length=2)
    cancellation: list[Channel] | None = Field(None, max_length=2)
    reminder: list[Channel] | None = Field(None, max_length=2)
    no_show_warning: list[Channel] | None = Field(None, max_length=2)
    released: list[Channel] | None = Field(None, max_length=2)


class PreferencesBody(Body):
    """Only the fields sent change. An empty channel list means "none"."""

    channels: ChannelChoice | None = None
    reminder: Literal["day_before", "morning_of", "none"] | None = None
    quiet_hours: QuietHours | None = Field(None, description="null: no quiet hours")
    timezone: str | None = Field(None, min_length=1, max_length=64,
                                 description="IANA time zone of the quiet hours")


class Preferences(Out):
    person_id: str
    channels: dict[str, list[str]]
    reminder: str
    quiet_hours: dict | None
    timezone: str


class DeadLetter(Out):
    id: str
    event_id: str
    channel: str
    kind: str
    person_id: str | None
    booking_id: str | None
    attempts: int
    last_error: str | None
    created_at: str
    dead_at: str | None
    replays: int


class DeadLetters(Out):
    items: list[DeadLetter]
    next: str | None


class DeadLettersQuery(Query):
    limit: int = Field(100, ge=1, le=500)
    after: UUID | None = None


class ReplayBody(Body):
    ids: list[UUID] | None = Field(None, min_length=1, max_length=500,
                                   description="the messages to replay; omitted: every one")


class Replayed(Out):
    replayed: int


class ChatIdentityBody(Body):
    platform: Platform
    external_id: str = Field(min_length=1, max_length=255,
                             description="Matrix id (@user:server), Slack/Mattermost user id, "
                                         "Teams AAD object id")
    person_id: UUID
    handle: str | None = Field(None, min_length=1, max_length=255,
                               description="user name for @handle direct messages (Mattermost, "
                                           "Rocket.Chat)")


class ChatIdentity(Out):
    platform: str
    external_id: str
    person_id: str
    handle: str | None


class Deleted(Out):
    deleted: bool


async def notify(call: Call, method: str, **kwargs):
    return await service_rpc(call.request, "notify", method, **kwargs)


@api.get("/me/notification-preferences", summary="My notification preferences", tag=TAG,
         action=Action.NOTIFY_PREFERENCES, response=Preferences)
async def get_my_preferences(call: Call):
    return ok(await notify(call, "get_preferences", actor=call.actor.for_rpc()))


@api.patch("/me/notification-preferences", summary="Change my notification preferences",
           tag=TAG, action=Action.NOTIFY_PREFERENCES, body=PreferencesBody, response=Preferences)
async def set_my_preferences(call: Call):
    data = call.body.model_dump(mode="json", exclude_unset=True)
    if data.get("channels") is None:
        data.pop("channels", None)  # "channels": null changes no channel
    else:
        data["channels"] = {k: v for k, v in data["channels"].items() if v is not None}
    return ok(await notify(call, "set_preferences", actor=call.actor.for_rpc(), preferences=data))


@api.get("/admin/dead-letters", summary="Messages that could not be sent (admin)", tag=TAG,
         action=Action.MANAGE_NOTIFICATIONS, query=DeadLettersQuery, response=DeadLetters,
         description="Ids, kinds and the last error only: no addresses, no content.")
async def list_dead_letters(call: Call):
    q: DeadLettersQuery = call.query
    return ok(await notify(call, "list_dead_letters", actor=call.actor.for_rpc(), limit=q.limit,
                           after=str(q.after) if q.after else None))


@api.post("/admin/dead-letters/replay", summary="Send dead letters again (admin)", tag=TAG,
          action=Action.MANAGE_NOTIFICATIONS, body=ReplayBody, response=Replayed,
          errors=(404, 409))
async def replay_dead_letters(call: Call):
    ids = [str(i) for i in call.body.ids] if call.body.ids is not None else None
    return ok(await notify(call, "replay_dead_letters", actor=call.actor.for_rpc(), ids=ids))


@api.get("/admin/chat-identities", summary="Chat accounts linked to people (admin)", tag=TAG,
         action=Action.MANAGE_NOTIFICATIONS, response=list[ChatIdentity])
async def list_chat_identities(call: Call):
    return ok(await notify(call, "list_chat_identities", actor=call.actor.for_rpc()))


@api.put("/admin/chat-identities", summary="Link a chat account to a person (admin)", tag=TAG,
         action=Action.MANAGE_NOTIFICATIONS, body=ChatIdentityBody, response=ChatIdentity)
async def set_chat_identity(call: Call):
    b: ChatIdentityBody = call.body
    return ok(await notify(call, "set_chat_identity", actor=call.actor.for_rpc(),
                           platform=b.platform, external_id=b.external_id,
                           person_id=str(b.person_id), handle=b.handle))


@api.delete("/admin/chat-identities/{platform}/{external_id}",
            summary="Unlink a chat account (admin)", tag=TAG,
            action=Action.MANAGE_NOTIFICATIONS, response=Deleted,
            path_types={"platform": Platform, "external_id": str})
async def delete_chat_identity(call: Call):
    return ok(await notify(call, "delete_chat_identity", actor=call.actor.for_rpc(),
                           platform=call.path["platform"], external_id=call.path["external_id"]))
