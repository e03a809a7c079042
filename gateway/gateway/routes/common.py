"""Small helpers shared by the route modules."""

from __future__ import annotations

import functools
import json
from typing import Any

from aiohttp import web

from ..errors import language_of
from ..keys import RPC_KEY

dumps = functools.partial(json.dumps, ensure_ascii=False)


def ok(data: Any, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.json_response(data, status=status, headers=headers, dumps=dumps)


async def service_rpc(request: web.Request, service: str, method: str, **kwargs: Any) -> Any:
    """``<service>.<method>(**kwargs)`` with the caller's language (``Accept-Language``)
    as nameko context data: the services word their error messages in it."""
    return await request.app[RPC_KEY].call(service, method, context={"language": language_of(request)},
                                           **kwargs)


def without_none(**kwargs: Any) -> dict:
    """Keyword arguments whose value is not None (ids turned into strings)."""
    return {k: (str(v) if hasattr(v, "hex") else v) for k, v in kwargs.items() if v is not None}
