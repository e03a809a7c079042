"""Booking service configuration, read once from the environment at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _int(env, name, default, low=1, high=10_000) -> int:
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
    amqp_uri: str
    outbox_amqp_uri: str
    db_pool_size: int
    relay_batch: int

    @classmethod
    def from_env(cls, env=os.environ) -> "Settings":
        amqp = env.get("ESCALE_AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
        production = env.get("ESCALE_ENV", "development") == "production"
        if production and "ESCALE_BOOKING_DATABASE_URL" not in env:
            raise SystemExit("ESCALE_BOOKING_DATABASE_URL is required in production")
        return cls(
            database_url=env.get(
                "ESCALE_BOOKING_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/escale_booking"
            ),
            amqp_uri=amqp,
            outbox_amqp_uri=env.get("ESCALE_BOOKING_OUTBOX_AMQP_URI", amqp),
            db_pool_size=_int(env, "ESCALE_BOOKING_DB_POOL", 20, 1, 200),
            relay_batch=_int(env, "ESCALE_BOOKING_RELAY_BATCH", 500, 1, 10_000),
        )
