"""``python -m gateway``: run the HTTP gateway with settings from the environment."""

from __future__ import annotations

import logging
import sys

import uvloop
from aiohttp import web

from .app import create_app
from .logs import setup_logging
from .settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        print(f"gateway: configuration error: {exc}", file=sys.stderr)
        return 2
    setup_logging(settings.log_level)
    logging.getLogger(__name__).info(
        "starting", extra={"host": settings.host, "port": settings.port, "env": settings.env}
    )
    # Our access log is the observe middleware's (ids only, no query strings).
    # uvloop: the event loop and its socket I/O in C. Each request then spends
    # less time in the loop itself, which is most of a cached read's cost
    # (bench/presence.py: where-is p99 under load).
    web.run_app(create_app(settings), host=settings.host, port=settings.port,
                access_log=None, print=None, loop=uvloop.new_event_loop())
    return 0


if __name__ == "__main__":
    sys.exit(main())
