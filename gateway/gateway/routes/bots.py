"""Chat bots' webhooks: Slack and Mattermost slash commands, Teams outgoing
webhooks.

Each request is verified on its raw body before it is parsed
(``gateway.webhooks``), then the question goes to the notify service
(``notify.bot_answer``), which maps the chat account to a person, parses
the question with the one bot parser, and asks presence and booking with
the asker as the actor: the reply shows only what that person may see.
The bot itself has no token and no rights beyond asking these questions.

Replays are refused for the replay window: the gateway remembers each
request's signature (Slack), trigger id (Mattermost) or activity id
(Teams) in Redis with ``SET NX EX``; without Redis the requests are
refused (503) rather than accepted unchecked.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from urllib.parse import parse_qs

import redis.asyncio as aioredis
from aiohttp import web

from ..errors import ApiError
from ..keys import RPC_KEY, SETTINGS_KEY
from ..openapi import Call
from ..rpc import RpcError
from ..schemas import Out
from ..webhooks import BotSettings, Refused, check_fresh, teams_text, verify_slack, verify_teams, \
    verify_token
from . import api

log = logging.getLogger(__name__)

TAG = "chat bots"
BOT_SETTINGS_KEY = web.AppKey("bot_settings", BotSettings)
REPLAY_KEY = web.AppKey("bot_replays", aioredis.Redis)
ANSWER_TIMEOUT = 2.5   # Slack wants an answer within 3 s
MAX_TEXT = 500


class SlashReply(Out):
    """Slack/Mattermost reply: ``{"response_type": "ephemeral", "text"}``."""

    response_type: str
    text: str


class TeamsReply(Out):
    """Teams outgoing-webhook reply: ``{"type": "message", "text"}``."""

    type: str
    text: str


async def webhook_guard(app: web.Application):
    """cleanup_ctx: the bots' settings and the Redis client remembering requests."""
    settings = BotSettings.from_env()
    app[BOT_SETTINGS_KEY] = settings
    client = aioredis.from_url(app[SETTINGS_KEY].redis_url, socket_timeout=2,
                               socket_connect_timeout=2)
    app[REPLAY_KEY] = client
    yield
    await client.aclose()


def _refuse(exc: Refused) -> ApiError:
    return ApiError(exc.code, exc.code)


async def _first_time(request: web.Request, platform: str, key: str) -> None:
    """Refuse a request whose key was already seen within the window."""
    settings = request.app[BOT_SETTINGS_KEY]
    name = f"{settings.redis_prefix}bots:{platform}:{key}"
    try:
        fresh = await request.app[REPLAY_KEY].set(name, "1", nx=True,
                                                  ex=2 * settings.replay_window)
    except Exception as exc:  # noqa: BLE001 - Redis down: refuse, never accept unchecked
        log.warning("replay store unavailable", extra={"error": type(exc).__name__})
        raise ApiError("service_unavailable", "service_unavailable", service="redis") from None
    if not fresh:
        log.warning("replayed bot request refused", extra={"platform": platform})
        raise ApiError("replayed_request", "replayed_request")


async def _answer(request: web.Request, platform: str, user_id: str, text: str) -> str:
    rpc = request.app[RPC_KEY]
    timeout = min(ANSWER_TIMEOUT, request.app[SETTINGS_KEY].rpc_timeout)
    try:
        reply = await rpc.call("notify", "bot_answer", timeout=timeout,
                               asker={"platform": platform, "external_id": user_id},
                               text=text[:MAX_TEXT])
        return str(reply.get("text") or "")
    except RpcError as exc:
        log.warning("bot answer unavailable", extra={"platform": platform,
                                                     "error": type(exc).__name__})
        return ("Escale ne peut pas répondre pour le moment ; réessayez dans un instant. / "
                "Escale cannot answer right now; try again in a moment.")


def _form(body: bytes) -> dict[str, str]:
    try:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise ApiError("bad_request", "bad_bot_request") from None
    return {k: v[0] for k, v in fields.items()}


@api.post("/bots/slack", summary="Slack slash command", tag=TAG, auth=False,
          response=SlashReply, errors=(400, 401, 404, 409, 503),
          description="Form-encoded Slack slash command, verified with the app's signing secret "
                      "(`X-Slack-Signature`, `X-Slack-Request-Timestamp` within 5 minutes); a "
                      "replayed request is refused (409). The answer is ephemeral.")
async def slack_command(call: Call):
    request = call.request
    settings = request.app[BOT_SETTINGS_KEY]
    body = await request.read()
    try:
        signature = verify_slack(settings.slack_signing_secret, request.headers, body,
                                 time.time(), settings.replay_window)
    except Refused as exc:
        raise _refuse(exc) from None
    await _first_time(request, "slack", signature)
    form = _form(body)
    user_id = form.get("user_id", "")
    text = await _answer(request, "slack", user_id, form.get("text", ""))
    return web.json_response({"response_type": "ephemeral", "text": text},
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


@api.post("/bots/mattermost", summary="Mattermost slash command", tag=TAG, auth=False,
          response=SlashReply, errors=(400, 401, 404, 409, 503),
          description="Form-encoded Mattermost (or Rocket.Chat-style) slash command carrying "
                      "its token in `Authorization: Token <token>`; each `trigger_id` is "
                      "accepted once.")
async def mattermost_command(call: Call):
    request = call.request
    settings = request.app[BOT_SETTINGS_KEY]
    try:
        verify_token(settings.mattermost_tokens, request.headers)
    except Refused as exc:
        raise _refuse(exc) from None
    body = await request.read()
    form = _form(body)
    trigger = form.get("trigger_id") or hashlib.sha256(body).hexdigest()
    await _first_time(request, "mattermost", trigger[:200])
    text = await _answer(request, "mattermost", form.get("user_id", ""), form.get("text", ""))
    return web.json_response({"response_type": "ephemeral", "text": text},
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))


@api.post("/bots/teams", summary="Microsoft Teams outgoing webhook", tag=TAG, auth=False,
          response=TeamsReply, errors=(400, 401, 404, 409, 503),
          description="A Teams outgoing-webhook activity, verified with its HMAC "
                      "(`Authorization: HMAC <base64>`); the activity's `timestamp` must be "
                      "within 5 minutes and its `id` new.")
async def teams_message(call: Call):
    request = call.request
    settings = request.app[BOT_SETTINGS_KEY]
    body = await request.read()
    try:
        verify_teams(settings.teams_secret, request.headers, body)
        activity = json.loads(body)
        if not isinstance(activity, dict):
            raise ValueError
        check_fresh(activity.get("timestamp"), time.time(), settings.replay_window)
    except Refused as exc:
        raise _refuse(exc) from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError("bad_request", "bad_bot_request") from None
    await _first_time(request, "teams", str(activity.get("id") or "")[:200] or
                      request.headers.get("Authorization", ""))
    sender = activity.get("from") or {}
    user_id = str(sender.get("aadObjectId") or sender.get("id") or "")
    text = await _answer(request, "teams", user_id, teams_text(str(activity.get("text") or "")))
    return web.json_response({"type": "message", "text": text},
                             dumps=lambda o: json.dumps(o, ensure_ascii=False))
