"""Configuration of the command, read once from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass

DEFAULT_BOOKING_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/escale_booking"
DEFAULT_GATEWAY_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/escale_gateway"
DEFAULT_PRESENCE_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/escale_presence"
DEFAULT_NOTIFY_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/escale_notify"
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


@dataclass(frozen=True)
class Settings:
    booking_database_url: str
    gateway_database_url: str
    presence_database_url: str = DEFAULT_PRESENCE_DATABASE_URL
    notify_database_url: str = DEFAULT_NOTIFY_DATABASE_URL
    amqp_uri: str = DEFAULT_AMQP_URI

    @classmethod
    def from_environ(cls, environ=None) -> "Settings":
        environ = os.environ if environ is None else environ
        return cls(
            booking_database_url=environ.get("ESCALE_BOOKING_DATABASE_URL")
            or DEFAULT_BOOKING_DATABASE_URL,
            gateway_database_url=environ.get("ESCALE_GATEWAY_DATABASE_URL")
            or DEFAULT_GATEWAY_DATABASE_URL,
            presence_database_url=environ.get("ESCALE_PRESENCE_DATABASE_URL")
            or DEFAULT_PRESENCE_DATABASE_URL,
            notify_database_url=environ.get("ESCALE_NOTIFY_DATABASE_URL")
            or DEFAULT_NOTIFY_DATABASE_URL,
            amqp_uri=environ.get("ESCALE_AMQP_URI") or DEFAULT_AMQP_URI,
        )
