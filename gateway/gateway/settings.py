"""Gateway configuration, read once from the environment at start-up.

Safe local defaults for development; in ``ESCALE_ENV=production`` the
connection URLs that carry credentials must be given explicitly, or the
gateway refuses to start (``SettingsError``). Nothing else reads
``os.environ``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Mapping

from .oidc import OidcSettings
from .security import SecuritySettings
from .sessions import SessionSettings

DEFAULTS = {
    "ESCALE_ENV": "development",
    "ESCALE_AMQP_URI": "amqp://guest:guest@127.0.0.1:5672/",
    "ESCALE_GATEWAY_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/escale_gateway",
    "ESCALE_REDIS_URL": "redis://127.0.0.1:6379/0",
    "ESCALE_GATEWAY_HOST": "127.0.0.1",
    "ESCALE_GATEWAY_PORT": "8080",
    "ESCALE_RPC_TIMEOUT": "10",
    "ESCALE_LOG_LEVEL": "INFO",
    "ESCALE_PRESENCE_REDIS_PREFIX": "escale:presence:",
    "ESCALE_GATEWAY_ALLOWED_ORIGINS": "",
}

# Variables carrying credentials: required, explicitly, in production.
SECRETS = ("ESCALE_AMQP_URI", "ESCALE_GATEWAY_DATABASE_URL")


class SettingsError(ValueError):
    """The environment does not describe a runnable gateway."""


@dataclass(frozen=True)
class Settings:
    env: str = DEFAULTS["ESCALE_ENV"]
    amqp_uri: str = DEFAULTS["ESCALE_AMQP_URI"]
    database_url: str = DEFAULTS["ESCALE_GATEWAY_DATABASE_URL"]
    redis_url: str = DEFAULTS["ESCALE_REDIS_URL"]
    host: str = DEFAULTS["ESCALE_GATEWAY_HOST"]
    port: int = 8080
    rpc_timeout: float = 10.0
    log_level: str = DEFAULTS["ESCALE_LOG_LEVEL"]
    # Presence's published read model (docs/architecture.md) and the live WebSocket's
    # allowed browser origins besides the gateway's own.
    presence_redis_prefix: str = DEFAULTS["ESCALE_PRESENCE_REDIS_PREFIX"]
    allowed_origins: tuple[str, ...] = ()
    # Browser sessions and the demo sign-in (gateway/sessions.py, docs/security.md).
    sessions: SessionSettings = field(default_factory=SessionSettings)
    oidc: OidcSettings = field(default_factory=OidcSettings)
    security: SecuritySettings = field(default_factory=SecuritySettings)
    # Not from the environment: limits that are part of the API contract.
    json_max_size: int = 64 * 1024
    csv_max_size: int = 2 * 1024 * 1024

    @property
    def production(self) -> bool:
        return self.env == "production"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            value = env.get(name, "")
            return value if value.strip() else DEFAULTS[name]

        mode = get("ESCALE_ENV").strip().lower()
        if mode == "production":
            missing = [name for name in SECRETS if not env.get(name, "").strip()]
            if missing:
                raise SettingsError(
                    "ESCALE_ENV=production needs these variables set: " + ", ".join(missing)
                )
        try:
            port = int(get("ESCALE_GATEWAY_PORT"))
            if not 0 < port < 65536:
                raise ValueError
        except ValueError:
            raise SettingsError("ESCALE_GATEWAY_PORT must be a port number (1-65535)") from None
        try:
            timeout = float(get("ESCALE_RPC_TIMEOUT"))
            if not 0 < timeout <= 300:
                raise ValueError
        except ValueError:
            raise SettingsError(
                "ESCALE_RPC_TIMEOUT must be a number of seconds in (0, 300]"
            ) from None
        level = get("ESCALE_LOG_LEVEL").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise SettingsError("ESCALE_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL")
        amqp = get("ESCALE_AMQP_URI")
        if not amqp.startswith(("amqp://", "amqps://")):
            raise SettingsError("ESCALE_AMQP_URI must start with amqp:// or amqps://")
        db = get("ESCALE_GATEWAY_DATABASE_URL")
        if not db.startswith(("postgresql://", "postgres://")):
            raise SettingsError("ESCALE_GATEWAY_DATABASE_URL must be a postgresql:// URL")
        prefix = get("ESCALE_PRESENCE_REDIS_PREFIX")
        if any(c.isspace() for c in prefix):
            raise SettingsError("ESCALE_PRESENCE_REDIS_PREFIX must not contain spaces")
        origins = tuple(o.strip().rstrip("/") for o in env.get("ESCALE_GATEWAY_ALLOWED_ORIGINS", "").split(",")
                        if o.strip())
        for origin in origins:
            if not origin.startswith(("http://", "https://")):
                raise SettingsError("ESCALE_GATEWAY_ALLOWED_ORIGINS: each origin starts with http:// or https://")
        return cls(
            sessions=SessionSettings.from_env(env, mode),
            oidc=OidcSettings.from_env(env, mode),
            security=SecuritySettings.from_env(env, mode),
            presence_redis_prefix=prefix,
            allowed_origins=origins,
            env=mode,
            amqp_uri=amqp,
            database_url=db,
            redis_url=get("ESCALE_REDIS_URL"),
            host=get("ESCALE_GATEWAY_HOST"),
            port=port,
            rpc_timeout=timeout,
            log_level=level,
        )
