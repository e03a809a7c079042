"""JSON-line logs on standard error.

Log ids (token, person, booking, request), never names, emails or free
text: a log line must not be personal data.
"""

from __future__ import annotations

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

_configured = False


def setup_logging(level: str = "INFO") -> None:
    """Send every record to stderr as one JSON object per line."""
    global _configured
    root = logging.getLogger()
    root.setLevel(level)
    if _configured:
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(levelname)s %(name)s %(message)s",
            rename_fields={"levelname": "level", "name": "logger"},
            timestamp="time",  # ISO 8601, UTC
        )
    )
    root.handlers[:] = [handler]
    # aiormq and aio-pika are chatty about reconnections at INFO.
    logging.getLogger("aiormq").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("aio_pika").setLevel(max(logging.WARNING, root.level))
    _configured = True
