"""Database rows as JSON-ready values, the same way in every service.

RPC answers, events and personal-data exports all leave a service as JSON:
ids become strings and times ISO 8601 text (with their offset), so the
reader never needs to know which driver produced them.
"""

from __future__ import annotations

from datetime import date, datetime, time


def plain(value):
    """JSON-ready value: ids as strings, times as ISO 8601."""
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)
