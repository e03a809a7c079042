"""Checking the chat platforms' webhooks before anything reads them.

Every inbound chat request is verified on its raw bytes before it is
parsed, with constant-time comparisons:

* Slack slash commands: ``X-Slack-Signature: v0=HMAC-SHA256(signing secret,
  "v0:{X-Slack-Request-Timestamp}:{body}")``, the timestamp within the
  window (5 minutes by default), and the signature not seen before within
  the window (Redis ``SET NX``);
* Mattermost (and Rocket.Chat-style) slash commands: the command's token,
  sent as ``Authorization: Token <token>``; Mattermost sends no timestamp,
  so replays are refused by the request's ``trigger_id`` (unique per
  invocation) within the window;
* Teams outgoing webhooks: ``Authorization: HMAC base64(HMAC-SHA256(
  base64-decoded security token, body))``, then the activity's
  ``timestamp`` within the window and its ``id`` not seen before.

Configuration (``BotSettings.from_env``): ``ESCALE_BOT_SLACK_SIGNING_SECRET``,
``ESCALE_BOT_MATTERMOST_TOKENS`` (comma-separated), ``ESCALE_BOT_TEAMS_SECRET``,
``ESCALE_BOT_REPLAY_WINDOW`` (seconds), ``ESCALE_GATEWAY_REDIS_PREFIX``.
A platform without its secret is not served (404).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import html
import os
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Mapping


class Refused(Exception):
    """The request is not accepted; ``code`` is an error code of errors.STATUS."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class BotSettings:
    slack_signing_secret: str = field(default="", repr=False)
    mattermost_tokens: tuple[str, ...] = field(default=(), repr=False)
    teams_secret: bytes = field(default=b"", repr=False)
    replay_window: int = 300
    redis_prefix: str = "escale:gateway:"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "BotSettings":
        env = os.environ if environ is None else environ
        teams = env.get("ESCALE_BOT_TEAMS_SECRET", "").strip()
        try:
            teams_key = base64.b64decode(teams, validate=True) if teams else b""
        except (binascii.Error, ValueError):
            raise ValueError("ESCALE_BOT_TEAMS_SECRET must be the base64 security token "
                             "Teams gave for the outgoing webhook") from None
        raw_window = env.get("ESCALE_BOT_REPLAY_WINDOW", "300").strip() or "300"
        try:
            window = int(raw_window)
            if not 10 <= window <= 3600:
                raise ValueError
        except ValueError:
            raise ValueError("ESCALE_BOT_REPLAY_WINDOW must be 10 to 3600 seconds") from None
        tokens = tuple(t.strip() for t in env.get("ESCALE_BOT_MATTERMOST_TOKENS", "").split(",")
                       if t.strip())
        return cls(
            slack_signing_secret=env.get("ESCALE_BOT_SLACK_SIGNING_SECRET", "").strip(),
            mattermost_tokens=tokens,
            teams_secret=teams_key,
            replay_window=window,
            redis_prefix=env.get("ESCALE_GATEWAY_REDIS_PREFIX", "").strip() or "escale:gateway:",
        )


# --- Slack ------------------------------------------------------------------------------


def slack_signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def verify_slack(secret: str, headers: Mapping[str, str], body: bytes, now: float,
                 window: int) -> str:
    """The request's signature (the replay key) if it is Slack's and fresh."""
    if not secret:
        raise Refused("bot_not_configured")
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp.isdigit() or not signature:
        raise Refused("bad_signature")
    expected = slack_signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise Refused("bad_signature")
    if abs(now - int(timestamp)) > window:
        raise Refused("stale_request")
    return signature


# --- Mattermost -----------------------------------------------------------------------------


def verify_token(tokens: tuple[str, ...], headers: Mapping[str, str]) -> None:
    if not tokens:
        raise Refused("bot_not_configured")
    scheme, _, value = headers.get("Authorization", "").strip().partition(" ")
    value = value.strip()
    if scheme.lower() != "token" or not value:
        raise Refused("bad_signature")
    # Compare with every token (no early exit), in constant time each.
    ok = False
    for token in tokens:
        ok |= hmac.compare_digest(token.encode(), value.encode())
    if not ok:
        raise Refused("bad_signature")


# --- Teams ------------------------------------------------------------------------------------


def teams_signature(key: bytes, body: bytes) -> str:
    return "HMAC " + base64.b64encode(hmac.new(key, body, hashlib.sha256).digest()).decode()


def verify_teams(key: bytes, headers: Mapping[str, str], body: bytes) -> None:
    if not key:
        raise Refused("bot_not_configured")
    given = headers.get("Authorization", "").strip()
    if not given.startswith("HMAC "):
        raise Refused("bad_signature")
    if not hmac.compare_digest(teams_signature(key, body).encode(), given.encode()):
        raise Refused("bad_signature")


def check_fresh(timestamp: str | None, now: float, window: int) -> None:
    """An ISO 8601 timestamp (Teams' activity ``timestamp``) within the window."""
    try:
        when = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    except ValueError:
        raise Refused("stale_request") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    if abs(now - when.timestamp()) > window:
        raise Refused("stale_request")


_AT = re.compile(r"<at>.*?</at>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


def teams_text(text: str) -> str:
    """The question without the bot's mention and the HTML Teams wraps it in."""
    text = _AT.sub(" ", text or "")
    text = _TAG.sub(" ", text)
    return " ".join(html.unescape(text).split())
