"""Private iCalendar subscription feeds: the URLs, and the feed itself.

An agent creates a feed of their own bookings (``POST /me/feeds``), an
admin or a site admin one of a room of their site (``POST
/admin/rooms/{room_id}/feeds``); the answer carries the secret URL (and its
``webcal://`` form, which calendar apps open as a subscription) once. The
calendar client then polls ``GET /ical/<secret>.ics`` without any other
credential. The secret is looked up on every fetch, so revoking a feed
stops it at once.

Polling is made cheap: the body depends only on the bookings and the
feed's settings (see ``ical_feed``), so a hash of those is a strong ETag,
computed without building the calendar; an ``If-None-Match`` that matches
gets a bodiless 304, and an unchanged feed asked without it is served from
memory. A calendar is built (icalendar: about a millisecond per event) in a
worker thread, off the event loop. Clients are told to poll every 15
minutes, and a feed polled more often than ``MAX_FETCHES`` times a minute on
one gateway gets 429 with ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timezone
from email.utils import format_datetime
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiohttp import web
from pydantic import Field

from .. import i18n
from ..adapters.feed_tokens import MAX_LIVE_FEEDS, Feed, FeedTokenStore, TooManyFeeds
from ..errors import STATUS, ApiError, error_response, language_of as request_language
from ..ical_feed import (DEFAULT_TIMEZONE, FeedSpec, Window, build_feed, fingerprint, language_of,
                         last_modified, room_privacy, window)
from ..keys import CATALOG_KEY, SETTINGS_KEY
from ..openapi import Call
from ..policy import Action
from ..schemas import Body, Out
from . import api
from .common import ok, service_rpc

TAG = "feeds"
FEEDS_KEY = web.AppKey("feeds", FeedTokenStore)
FEED_PATH = "/ical/{secret}.ics"
MAX_FETCHES = 30          # per feed, per minute, per gateway process
CACHE_CONTROL = "private, max-age=300"


async def feed_store(app: web.Application):
    """cleanup_ctx: the feed secrets table of the gateway database."""
    store = FeedTokenStore(app[SETTINGS_KEY].database_url)
    app[FEEDS_KEY] = store
    await store.open()
    yield
    await store.close()


class FeedCreate(Body):
    label: str = Field(default="", max_length=200,
                       description="A reminder of where it is used (e.g. « Outlook bureau »)")


class FeedInfo(Out):
    id: UUID
    kind: str = Field(description="person (one's own bookings) or room")
    person_id: UUID | None = None
    room_id: UUID | None = None
    label: str
    created_at: datetime
    last_fetched_at: datetime | None = None


class FeedCreated(FeedInfo):
    url: str = Field(description="The secret feed address (shown once)")
    webcal_url: str = Field(description="The same as webcal://, to open in a calendar app")


def _created(request: web.Request, feed: Feed, secret: str) -> web.Response:
    url = f"{request.url.origin()}{FEED_PATH.format(secret=secret)}"
    return ok({**feed.as_dict(), "url": url, "webcal_url": "webcal://" + url.split("://", 1)[1]}, 201)


def _person(call: Call) -> UUID:
    if call.actor.person_id is None:
        raise ApiError("forbidden", "feed_no_person")
    return call.actor.person_id


async def _room(call: Call) -> dict:
    """The room of the path, if the caller administers its site."""
    room_id = call.path["room_id"]
    room = await call.catalog("get_resource", resource_id=str(room_id))
    if not isinstance(room, dict) or room.get("kind") != "room":
        raise ApiError("invalid", "not_a_room", details={"field": "room_id"})
    call.check(Action.ROOM_FEEDS, site_id=room.get("site_id"))
    return room


# --- one's own feeds -------------------------------------------------------------------


@api.post("/me/feeds", summary="Create a private calendar feed of my bookings (its URL is shown once)",
          tag=TAG, action=Action.OWN_FEEDS, body=FeedCreate, response=FeedCreated, status=201,
          errors=(409,))
async def create_my_feed(call: Call):
    person_id = _person(call)
    try:
        feed, secret = await call.request.app[FEEDS_KEY].create(
            person_id=person_id, label=call.body.label, created_by=person_id)
    except TooManyFeeds:
        raise ApiError("conflict", "feed_limit", limit=MAX_LIVE_FEEDS) from None
    return _created(call.request, feed, secret)


@api.get("/me/feeds", summary="My live calendar feeds (without their secret URLs)", tag=TAG,
         action=Action.OWN_FEEDS, response=list[FeedInfo])
async def list_my_feeds(call: Call):
    feeds = await call.request.app[FEEDS_KEY].live(person_id=_person(call))
    return ok([f.as_dict() for f in feeds])


@api.delete("/me/feeds/{id}", summary="Revoke one of my calendar feeds (its URL stops at once)",
            tag=TAG, action=Action.OWN_FEEDS, status=204, errors=(404,))
async def revoke_my_feed(call: Call):
    if not await call.request.app[FEEDS_KEY].revoke(call.path["id"], person_id=_person(call)):
        raise ApiError("not_found", "feed_not_found")
    return web.Response(status=204)


# --- room feeds (admins, site admins of the room's site) ---------------------------------


@api.post("/admin/rooms/{room_id}/feeds",
          summary="Create a private calendar feed of a room (its URL is shown once)", tag=TAG,
          action=Action.ROOM_FEEDS, body=FeedCreate, response=FeedCreated, status=201,
          errors=(409,))
async def create_room_feed(call: Call):
    room = await _room(call)
    try:
        feed, secret = await call.request.app[FEEDS_KEY].create(
            room_id=call.path["room_id"], site_id=UUID(str(room["site_id"])),
            label=call.body.label, created_by=call.actor.person_id)
    except TooManyFeeds:
        raise ApiError("conflict", "feed_limit", limit=MAX_LIVE_FEEDS) from None
    return _created(call.request, feed, secret)


@api.get("/admin/rooms/{room_id}/feeds", summary="A room's live calendar feeds (without secrets)",
         tag=TAG, action=Action.ROOM_FEEDS, response=list[FeedInfo])
async def list_room_feeds(call: Call):
    await _room(call)
    feeds = await call.request.app[FEEDS_KEY].live(room_id=call.path["room_id"])
    return ok([f.as_dict() for f in feeds])


@api.delete("/admin/rooms/{room_id}/feeds/{id}",
            summary="Revoke a room's calendar feed (its URL stops at once)", tag=TAG,
            action=Action.ROOM_FEEDS, status=204, errors=(404,))
async def revoke_room_feed(call: Call):
    await _room(call)
    if not await call.request.app[FEEDS_KEY].revoke(call.path["id"], room_id=call.path["room_id"]):
        raise ApiError("not_found", "feed_not_found")
    return web.Response(status=204)


# --- the feed itself (no token: the secret is the credential) ---------------------------


def install_public(app: web.Application) -> None:
    """``GET /ical/<secret>.ics``, outside the API (calendar clients, no bearer token)."""
    fetches: dict[UUID, tuple[float, int]] = {}
    bodies = BodyCache()

    async def serve_feed(request: web.Request) -> web.StreamResponse:
        feed = await request.app[FEEDS_KEY].find(request.match_info["secret"])
        if feed is None:
            raise ApiError("not_found", "feed_not_found")
        if not _within_rate(fetches, feed.id):
            return error_response(STATUS["too_many_requests"], "too_many_requests",
                                  i18n.message("feed_too_often", request_language(request)),
                                  headers={"Retry-After": "60"})
        spec, items, span = await _inputs(request, feed)
        etag = f'"{fingerprint(spec, items, span)}"'
        headers = {"ETag": etag, "Cache-Control": CACHE_CONTROL}
        changed = last_modified(items)
        if changed is not None:
            headers["Last-Modified"] = format_datetime(changed.astimezone(timezone.utc), usegmt=True)
        if _matches(request.headers.get("If-None-Match"), etag):
            return web.Response(status=304, headers=headers)
        body = bodies.get(feed.id, etag)
        if body is None:
            # icalendar costs about a millisecond per event: off the event loop.
            body = await asyncio.get_running_loop().run_in_executor(None, build_feed, spec, items, span)
            bodies.put(feed.id, etag, body)
        return web.Response(body=body, content_type="text/calendar", charset="utf-8",
                            headers={**headers,
                                     "Content-Disposition": f'inline; filename="escale-{feed.kind}.ics"'})

    app.router.add_get("/ical/{secret:[A-Za-z0-9_-]{1,200}}.ics", serve_feed, name="ical_feed")


class BodyCache:
    """The last body served per feed, by ETag, within a memory budget: a
    client without If-None-Match polling an unchanged feed costs no rebuild."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024):
        self.max_bytes = max_bytes
        self.size = 0
        self.entries: dict[UUID, tuple[str, bytes]] = {}

    def get(self, feed_id: UUID, etag: str) -> bytes | None:
        entry = self.entries.get(feed_id)
        return entry[1] if entry is not None and entry[0] == etag else None

    def put(self, feed_id: UUID, etag: str, body: bytes) -> None:
        old = self.entries.pop(feed_id, None)
        if old is not None:
            self.size -= len(old[1])
        if len(body) > self.max_bytes // 4:
            return
        while self.entries and self.size + len(body) > self.max_bytes:
            _, (_, dropped) = self.entries.popitem()  # dicts pop the newest; any will do
            self.size -= len(dropped)
        self.entries[feed_id] = (etag, body)
        self.size += len(body)


async def _inputs(request: web.Request, feed: Feed) -> tuple[FeedSpec, list[dict], Window]:
    """What the feed shows, from booking's RPCs (the catalogue from the cache)."""
    catalog = request.app[CATALOG_KEY]
    span = window(datetime.now(timezone.utc))
    if feed.kind == "person":
        person = await service_rpc(request, "booking", "get_person", person_id=str(feed.person_id))
        owner = {"person_id": str(feed.person_id)}
        language = language_of(person.get("language"))
        spec = FeedSpec(str(feed.id), "person", person.get("display_name") or "", language)
    else:
        room = await catalog.call("get_resource", resource_id=str(feed.room_id))
        sites = await catalog.call("list_sites")
        site = next((s for s in sites if str(s.get("id")) == str(room.get("site_id"))), {})
        attributes = room.get("attributes") or {}
        show_titles, show_organiser = room_privacy(attributes)
        owner = {"resource_id": str(feed.room_id)}
        spec = FeedSpec(str(feed.id), "room", room.get("name") or "",
                        language_of(attributes.get("language")),
                        _zone(site.get("timezone")), show_titles, show_organiser)
    result = await service_rpc(request, "booking", "feed_bookings", start=span.start.isoformat(),
                               end=span.end.isoformat(),
                               cancelled_since=span.cancelled_since.isoformat(), **owner)
    items = result.get("items") or []
    if feed.kind == "person" and items:
        # A person has no site of their own: the calendar's zone is where they book.
        spec = FeedSpec(spec.feed_id, spec.kind, spec.name, spec.language,
                        _zone((items[0].get("place") or {}).get("timezone")))
    return spec, items, span


def _zone(name) -> str:
    try:
        ZoneInfo(str(name))
        return str(name)
    except (ZoneInfoNotFoundError, ValueError):
        return DEFAULT_TIMEZONE


def _within_rate(fetches: dict, feed_id: UUID) -> bool:
    """At most ``MAX_FETCHES`` fetches of one feed per minute (fixed window)."""
    now = time.monotonic()
    started, count = fetches.get(feed_id, (now, 0))
    if now - started >= 60:
        started, count = now, 0
    if count >= MAX_FETCHES:
        return False
    if len(fetches) > 50_000:
        fetches.clear()
    fetches[feed_id] = (started, count + 1)
    return True


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
    return "*" in candidates or etag in candidates
