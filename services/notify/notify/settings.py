"""Notify service configuration, read once from the environment at start-up.

Safe local defaults: a development process sends mail to a local SMTP sink
(127.0.0.1:1025, no TLS) and no chat. ``ESCALE_ENV=production`` refuses to
start without its database URL, and without the credentials of the chosen
chat backend. Nothing else in the package reads ``os.environ``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

SMTP_SECURITY = ("none", "starttls", "tls")
CHAT_BACKENDS = ("none", "matrix", "webhook", "teams")
WEBHOOK_FLAVOURS = ("slack", "mattermost", "rocketchat")
MATRIX_MAPPINGS = ("table", "tchap")


class SettingsError(SystemExit):
    """The environment does not describe a runnable notify service."""


def _int(env, name, default, low=1, high=1_000_000) -> int:
    raw = (env.get(name) or str(default)).strip()
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _float(env, name, default, low, high) -> float:
    raw = (env.get(name) or str(default)).strip()
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"{name} must be between {low} and {high}, got {value}")
    return value


def _flag(env, name) -> bool:
    raw = (env.get(name) or "0").strip().lower()
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be 0 or 1, got {raw!r}")


def _choice(env, name, default, allowed) -> str:
    value = (env.get(name) or default).strip().lower()
    if value not in allowed:
        raise SettingsError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


@dataclass(frozen=True)
class Smtp:
    host: str = "127.0.0.1"
    port: int = 1025
    security: str = "none"          # none | starttls | tls
    username: str = ""
    password: str = field(default="", repr=False)
    sender: str = "Escale <no-reply@escale.invalid>"
    timeout: float = 10.0
    dry_run: bool = False           # log the message (ids only) instead of sending
    ca_file: str = ""               # a CA bundle to trust (an internal relay's CA)


@dataclass(frozen=True)
class Chat:
    backend: str = "none"           # none | matrix | webhook | teams
    dry_run: bool = False
    timeout: float = 10.0
    matrix_homeserver: str = ""
    matrix_user_id: str = ""
    matrix_access_token: str = field(default="", repr=False)
    matrix_password: str = field(default="", repr=False)
    matrix_mapping: str = "table"   # how a Matrix id becomes a person (bot)
    webhook_url: str = field(default="", repr=False)
    webhook_flavour: str = "mattermost"
    teams_url: str = field(default="", repr=False)


@dataclass(frozen=True)
class Settings:
    database_url: str
    amqp_uri: str
    db_pool_size: int = 10
    smtp: Smtp = Smtp()
    chat: Chat = Chat()
    max_attempts: int = 6           # then the message is dead-lettered
    retry_base: float = 30.0        # seconds; doubles at each attempt
    retry_cap: float = 3600.0
    tick: float = 1.0               # how often due messages are looked for
    batch: int = 50
    no_show_warning_minutes: int = 10
    public_url: str = ""            # Escale's public address; empty: messages carry no link
    production: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if env is None else env
        production = (env.get("ESCALE_ENV") or "development").strip().lower() == "production"
        if production and not env.get("ESCALE_NOTIFY_DATABASE_URL"):
            raise SettingsError("ESCALE_NOTIFY_DATABASE_URL is required in production")
        smtp = Smtp(
            host=(env.get("ESCALE_SMTP_HOST") or "127.0.0.1").strip(),
            port=_int(env, "ESCALE_SMTP_PORT", 1025, 1, 65535),
            security=_choice(env, "ESCALE_SMTP_SECURITY", "none", SMTP_SECURITY),
            username=env.get("ESCALE_SMTP_USERNAME") or "",
            password=env.get("ESCALE_SMTP_PASSWORD") or "",
            sender=(env.get("ESCALE_SMTP_FROM") or Smtp.sender).strip(),
            timeout=_float(env, "ESCALE_SMTP_TIMEOUT", 10, 0.1, 300),
            dry_run=_flag(env, "ESCALE_SMTP_DRY_RUN"),
            ca_file=(env.get("ESCALE_SMTP_CA_FILE") or "").strip(),
        )
        if smtp.ca_file and not os.path.isfile(smtp.ca_file):
            raise SettingsError(f"ESCALE_SMTP_CA_FILE {smtp.ca_file!r} is not a file")
        if smtp.username and not smtp.password:
            raise SettingsError("ESCALE_SMTP_USERNAME is set but ESCALE_SMTP_PASSWORD is not")
        if production and smtp.username and smtp.security == "none":
            raise SettingsError("ESCALE_SMTP_SECURITY must be starttls or tls when sending a password")
        chat = Chat(
            backend=_choice(env, "ESCALE_CHAT_BACKEND", "none", CHAT_BACKENDS),
            dry_run=_flag(env, "ESCALE_CHAT_DRY_RUN"),
            timeout=_float(env, "ESCALE_CHAT_TIMEOUT", 10, 0.1, 120),
            matrix_homeserver=(env.get("ESCALE_MATRIX_HOMESERVER") or "").rstrip("/"),
            matrix_user_id=env.get("ESCALE_MATRIX_USER_ID") or "",
            matrix_access_token=env.get("ESCALE_MATRIX_ACCESS_TOKEN") or "",
            matrix_password=env.get("ESCALE_MATRIX_PASSWORD") or "",
            matrix_mapping=_choice(env, "ESCALE_MATRIX_MAPPING", "table", MATRIX_MAPPINGS),
            webhook_url=env.get("ESCALE_CHAT_WEBHOOK_URL") or "",
            webhook_flavour=_choice(env, "ESCALE_CHAT_WEBHOOK_FLAVOUR", "mattermost",
                                    WEBHOOK_FLAVOURS),
            teams_url=env.get("ESCALE_CHAT_TEAMS_URL") or "",
        )
        if not chat.dry_run:
            missing = {
                "matrix": [n for n in ("ESCALE_MATRIX_HOMESERVER", "ESCALE_MATRIX_USER_ID")
                           if not env.get(n)]
                + ([] if env.get("ESCALE_MATRIX_ACCESS_TOKEN") or env.get("ESCALE_MATRIX_PASSWORD")
                   else ["ESCALE_MATRIX_ACCESS_TOKEN (or ESCALE_MATRIX_PASSWORD)"]),
                "webhook": [] if chat.webhook_url else ["ESCALE_CHAT_WEBHOOK_URL"],
                "teams": [] if chat.teams_url else ["ESCALE_CHAT_TEAMS_URL"],
                "none": [],
            }[chat.backend]
            if missing:
                raise SettingsError(
                    f"ESCALE_CHAT_BACKEND={chat.backend} needs: {', '.join(missing)} "
                    "(or ESCALE_CHAT_DRY_RUN=1)"
                )
        public_url = (env.get("ESCALE_PUBLIC_URL") or "").strip().rstrip("/")
        if public_url and not public_url.startswith(("https://", "http://")):
            raise SettingsError(f"ESCALE_PUBLIC_URL must be an http(s) address, got {public_url!r}")
        amqp = env.get("ESCALE_AMQP_URI") or "amqp://guest:guest@127.0.0.1:5672/"
        return cls(
            database_url=env.get("ESCALE_NOTIFY_DATABASE_URL")
            or "postgresql://postgres@127.0.0.1:5432/escale_notify",
            amqp_uri=amqp,
            db_pool_size=_int(env, "ESCALE_NOTIFY_DB_POOL", 10, 1, 200),
            smtp=smtp,
            chat=chat,
            max_attempts=_int(env, "ESCALE_NOTIFY_MAX_ATTEMPTS", 6, 1, 50),
            retry_base=_float(env, "ESCALE_NOTIFY_RETRY_BASE", 30, 0.05, 86400),
            tick=_float(env, "ESCALE_NOTIFY_TICK", 1.0, 0.05, 600),
            no_show_warning_minutes=_int(env, "ESCALE_NOTIFY_NO_SHOW_WARNING_MINUTES", 10, 1, 240),
            public_url=public_url,
            production=production,
        )
