"""Small helpers shared by the route modules."""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import web

dumps = functools.partial(json.dumps, ensure_ascii=False)


def ok(data: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=dumps)


def without_none(**kwargs: Any) -> dict:
    """Keyword arguments whose value is not None (ids turned into strings)."""
    return {k: (str(v) if hasattr(v, "hex") else v) for k, v in kwargs.items() if v is not None}
