"""The bot's view of the other services, over nameko RPC.

Implements ``domain.bot.conversation.Lookups`` on top of the ``booking``
and ``presence`` RPC proxies of a worker, and maps a chat account to a
person (``resolve_asker``). A service that is not running or does not
answer in time becomes ``Unavailable``; a domain ``not_found`` an empty
answer.
"""

from __future__ import annotations

import logging
import time

import eventlet
from nameko.exceptions import RemoteError, UnknownService

from ..domain.bot.conversation import Unavailable

log = logging.getLogger(__name__)

# nameko 2.14's service-side proxies wait for ever for a reply (a stopped
# service leaves its queue behind): bound each call.
CALL_TIMEOUT = 5.0


_CACHE: dict[str, tuple[float, object]] = {}
CACHE_SECONDS = 60.0


def _cached(key: str, load):
    hit = _CACHE.get(key)
    now = time.monotonic()
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    _CACHE[key] = (now + CACHE_SECONDS, value)
    return value


class Directory:
    def __init__(self, booking, presence):
        self.booking = booking
        self.presence = presence

    def _call(self, proxy, method: str, **kwargs):
        try:
            with eventlet.Timeout(CALL_TIMEOUT):
                return getattr(proxy, method)(**kwargs)
        except (UnknownService, eventlet.Timeout):
            log.warning("lookup unavailable", extra={"method": method})
            raise Unavailable() from None
        except RemoteError as exc:
            if exc.exc_type == "NotFound":
                return None
            log.warning("lookup refused", extra={"method": method, "exc_type": exc.exc_type})
            raise Unavailable() from None
        except (OSError, ConnectionError):
            raise Unavailable() from None

    # -- Lookups ------------------------------------------------------------
    def person(self, person_id: str) -> dict | None:
        return self._call(self.booking, "get_person", person_id=person_id)

    def find_people(self, actor: dict, q: str, at: str | None) -> list[dict]:
        kwargs = {"actor": actor, "q": q[:100], "limit": 6}
        if at:
            kwargs["at"] = at
        result = self._call(self.presence, "find_people", **kwargs) or {}
        return result.get("matches") or []

    def on_site(self, actor: dict, day: str) -> list[dict]:
        result = self._call(self.presence, "on_site", actor=actor, date=day) or {}
        return result.get("people") or []

    def rooms(self) -> list[dict]:
        return _cached("rooms", lambda: self._call(self.booking, "list_resources", kind="room")
                       or [])

    def site(self, site_id: str) -> dict | None:
        sites = _cached("sites", lambda: self._call(self.booking, "list_sites") or [])
        return next((s for s in sites if s.get("id") == site_id), None)

    def availability(self, actor: dict, start: str, end: str, site_id: str) -> list[dict]:
        result = self._call(self.booking, "availability", actor=actor, start=start, end=end,
                            site_id=site_id, kind="room") or {}
        return result.get("resources") or []

    # -- who is asking -----------------------------------------------------------
    def person_by_email(self, email: str) -> dict | None:
        return self._call(self.booking, "get_person_by_email", email=email)

    def release_after_minutes(self, site_id: str | None, kind: str | None) -> int | None:
        if not site_id or not kind:
            return None
        try:
            rules = _cached(f"rules:{site_id}",
                            lambda: self._call(self.booking, "get_rules", site_id=site_id))
        except Unavailable:
            log.warning("booking rules unavailable: no no-show warning", extra={"site_id": site_id})
            return None
        return ((rules or {}).get(kind) or {}).get("release_after_minutes")


def tchap_emails(matrix_id: str) -> list[str]:
    """The emails a Tchap account id may stand for: Tchap writes
    ``@first.last-domain.fr:server`` for first.last@domain.fr (the "@"
    becomes the last "-" before the domain, which may itself hold dashes)."""
    local = matrix_id.lstrip("@").split(":", 1)[0]
    candidates = []
    for i, char in enumerate(local):
        if char == "-" and "." in local[i + 1:] and i > 0:
            candidates.append(local[:i] + "@" + local[i + 1:])
    return candidates


def resolve_asker(store, directory: Directory, asker: dict, matrix_mapping: str) -> str | None:
    """The person behind a chat account, or None."""
    if not isinstance(asker, dict):
        return None
    platform, external_id = asker.get("platform"), asker.get("external_id")
    if not isinstance(platform, str) or not isinstance(external_id, str) or not external_id:
        return None
    person_id = store.person_of(platform, external_id)
    if person_id:
        return person_id
    if platform == "matrix" and matrix_mapping == "tchap":
        for email in tchap_emails(external_id):
            try:
                person = directory.person_by_email(email)
            except Unavailable:
                return None
            if person:
                return person["id"]
    return None
