"""Presence service configuration, read once from the environment at start-up."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def _int(env, name, default, low, high) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SystemExit(f"{name} must be between {low} and {high}, got {value}")
    return value


@dataclass(frozen=True)
class Settings:
    database_url: str
    redis_url: str
    redis_prefix: str
    amqp_uri: str
    outbox_amqp_uri: str
    db_pool_size: int
    timezone: str
    midday: time
    horizon_days: int
    directory_sync_seconds: int

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @classmethod
    def from_env(cls, env=os.environ) -> "Settings":
        amqp = env.get("ESCALE_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
        if env.get("ESCALE_ENV", "development") == "production":
            missing = [n for n in ("ESCALE_PRESENCE_DATABASE_URL", "ESCALE_REDIS_URL") if n not in env]
            if missing:
                raise SystemExit(", ".join(missing) + " required in production")
        timezone = env.get("ESCALE_PRESENCE_TIMEZONE", "Europe/Paris")
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SystemExit(f"ESCALE_PRESENCE_TIMEZONE: unknown time zone {timezone!r}") from None
        midday_raw = env.get("ESCALE_PRESENCE_MIDDAY", "13:00")
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", midday_raw) or midday_raw == "00:00":
            raise SystemExit(f"ESCALE_PRESENCE_MIDDAY must be HH:MM after 00:00, got {midday_raw!r}")
        prefix = env.get("ESCALE_PRESENCE_REDIS_PREFIX", "escale:presence:")
        if not prefix or any(c.isspace() for c in prefix):
            raise SystemExit("ESCALE_PRESENCE_REDIS_PREFIX must be a non-empty word")
        return cls(
            database_url=env.get("ESCALE_PRESENCE_DATABASE_URL",
                                 "postgresql://postgres@127.0.0.1:5432/escale_presence"),
            redis_url=env.get("ESCALE_REDIS_URL", "redis://127.0.0.1:6379/0"),
            redis_prefix=prefix,
            amqp_uri=amqp,
            outbox_amqp_uri=env.get("ESCALE_PRESENCE_OUTBOX_AMQP_URI", amqp),
            db_pool_size=_int(env, "ESCALE_PRESENCE_DB_POOL", 10, 1, 200),
            timezone=timezone,
            midday=time.fromisoformat(midday_raw),
            horizon_days=_int(env, "ESCALE_PRESENCE_HORIZON_DAYS", 7, 1, 31),
            directory_sync_seconds=_int(env, "ESCALE_PRESENCE_DIRECTORY_SYNC", 30, 1, 3600),
        )
