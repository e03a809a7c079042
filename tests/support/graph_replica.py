"""A protocol replica of Microsoft Graph's calendar API, for tests. Not a server.

Microsoft 365 cannot be reached from here, so the Graph backend is tested
against this loopback HTTP endpoint, which answers the JSON documented by
Microsoft for exactly the requests the backend makes:

- the identity platform's token endpoint,
  ``POST /{tenant}/oauth2/v2.0/token`` (client credentials grant), with its
  ``invalid_client`` answer;
- ``GET /v1.0/users/{id}/calendar/calendarView/delta?startDateTime=&endDateTime=``
  (and ``/calendars/{id}/calendarView/delta``), paged by ``Prefer:
  odata.maxpagesize``, ``@odata.nextLink`` then ``@odata.deltaLink``, removed
  events as ``{"id", "@removed": {"reason": "deleted"}}``, occurrences of a
  series as their own events with ``seriesMasterId``;
- ``POST .../calendar/events``, ``PATCH`` / ``DELETE /users/{id}/events/{id}``
  (``transactionId`` de-duplicates creations, as Graph does);
- ``POST /v1.0/users/{id}/calendar/getSchedule`` (``scheduleItems`` do carry
  subjects, as Graph's do: the backend must drop them);
- the error answers: ``410 Gone`` with ``SyncStateNotFound`` for an expired
  delta token, ``429``/``503`` with ``Retry-After``, ``401
  InvalidAuthenticationToken``, ``404 ErrorItemNotFound``.

One in-memory calendar per mailbox makes create/move/cancel round-trips
real. Nothing else of Graph is modelled (no permissions, no recurrence
patterns, no $select, no time-zone conversion beyond UTC); tests must not
read more into it.
"""

from __future__ import annotations

import base64
import itertools
import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo

import pytest

TENANT = "contoso-tenant-id"
CLIENT_ID = "escale-app-id"
CLIENT_SECRET = "replica-secret"


def _graph_time(value: datetime) -> dict:
    return {
        "dateTime": value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000"),
        "timeZone": "UTC",
    }


def _from_graph(value: dict | None) -> datetime | None:
    if not value:
        return None
    try:
        text = value["dateTime"][:19]
        naive = datetime.fromisoformat(text)
        zone = value.get("timeZone") or "UTC"
        return naive.replace(tzinfo=UTC if zone == "UTC" else ZoneInfo(zone))
    except (KeyError, ValueError, TypeError):
        return None


def _encode(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode()


def _decode(token: str) -> dict | None:
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except ValueError:
        return None


@dataclass
class StoredEvent:
    mailbox: str
    body: dict
    created_seq: int
    touched_seq: int
    deleted: bool = False
    extended: dict = field(default_factory=dict)  # singleValueExtendedProperties, kept apart

    @property
    def id(self) -> str:
        return self.body["id"]


@dataclass
class Fault:
    status: int
    retry_after: int | None
    times: int
    code: str = ""
    message: str = ""


@dataclass
class Request:
    method: str
    path: str
    query: dict
    headers: dict
    body: dict | None = field(repr=False, default=None)


class GraphReplica:
    def __init__(self):
        self._lock = threading.RLock()
        self._events: dict[str, StoredEvent] = {}
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._generation = uuid.uuid4().hex[:8]
        self._tokens: set[str] = set()
        self._faults: deque[Fault] = deque()
        self.requests: list[Request] = []
        self.tokens_issued = 0
        self.unknown_users: set[str] = set()
        self.denied_mailboxes: set[str] = set()  # outside the app's application access policy
        self._server: ThreadingHTTPServer | None = None
        self.base = ""

    # --- life cycle -------------------------------------------------------

    def start(self) -> GraphReplica:
        replica = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, headers, payload = replica._handle(
                    self.command, self.path, dict(self.headers), raw
                )
                data = b"" if payload is None else json.dumps(payload).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if payload is not None:
                    self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = _serve

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(
            target=self._server.serve_forever, name="graph-replica", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    @property
    def graph_url(self) -> str:
        return f"{self.base}/v1.0"

    @property
    def login_url(self) -> str:
        return self.base

    # --- the "Outlook side", for tests -----------------------------------

    def add_meeting(
        self,
        mailbox: str,
        subject: str,
        start: datetime,
        end: datetime | None,
        *,
        organizer: str = "someone@example.org",
        show_as: str = "busy",
        series_master_id: str | None = None,
    ) -> str:
        body = {
            "subject": subject,
            "start": _graph_time(start),
            "organizer": {"emailAddress": {"name": organizer.split("@")[0], "address": organizer}},
            "showAs": show_as,
            "isAllDay": False,
            "isCancelled": False,
            "type": "occurrence" if series_master_id else "singleInstance",
            "originalStartTimeZone": "Romance Standard Time",
        }
        if end is not None:
            body["end"] = _graph_time(end)
        if series_master_id:
            body["seriesMasterId"] = series_master_id
        return self._store(mailbox, body).id

    def add_series(
        self, mailbox: str, subject: str, start: datetime, duration: timedelta, count: int
    ) -> list[str]:
        """A daily series, as calendarView lists it: one event per occurrence."""
        master = f"AAMkSeries{uuid.uuid4().hex}"
        return [
            self.add_meeting(
                mailbox,
                subject,
                start + timedelta(days=n),
                start + timedelta(days=n) + duration,
                series_master_id=master,
            )
            for n in range(count)
        ]

    def add_raw_event(self, mailbox: str, body: dict) -> str:
        """An event exactly as given (tests use it for items no client should produce)."""
        return self._store(mailbox, dict(body)).id

    def move_meeting(self, event_id: str, start: datetime, end: datetime) -> None:
        with self._lock:
            event = self._events[event_id]
            event.body.update(start=_graph_time(start), end=_graph_time(end))
            self._touch(event)

    def cancel_meeting(self, event_id: str) -> None:
        with self._lock:
            event = self._events[event_id]
            event.deleted = True
            self._touch(event)

    def events(self, mailbox: str) -> list[dict]:
        with self._lock:
            return [
                dict(e.body)
                for e in self._events.values()
                if e.mailbox == mailbox.lower() and not e.deleted
            ]

    def expire_delta_tokens(self) -> None:
        with self._lock:
            self._generation = uuid.uuid4().hex[:8]

    def revoke_tokens(self) -> None:
        """Every access token handed out so far is refused (as after its expiry)."""
        with self._lock:
            self._tokens.clear()

    def throttle(self, status: int = 429, retry_after: int | None = 7, times: int = 1) -> None:
        if status == 429:
            code, message = "TooManyRequests", "Application is over its MailboxConcurrency limit."
        else:
            code, message = "ServiceUnavailable", "Service unavailable."
        self._faults.append(Fault(status, retry_after, times, code, message))

    def fail(self, status: int, code: str, message: str, times: int = 1) -> None:
        """The next Graph requests (not the token endpoint's) get this error answer."""
        self._faults.append(Fault(status, None, times, code, message))

    def graph_requests(self) -> list[str]:
        return [f"{r.method} {r.path}" for r in self.requests if r.path.startswith("/v1.0")]

    # --- storage ----------------------------------------------------------

    def _store(self, mailbox: str, body: dict) -> StoredEvent:
        with self._lock:
            seq = next(self._seq)
            self._last_seq = seq
            now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
            body.setdefault("id", f"AAMkAGI2{uuid.uuid4().hex}")
            body.setdefault(
                "iCalUId", "040000008200E00074C5B7101A82E008" + uuid.uuid4().hex.upper()
            )
            body.setdefault("createdDateTime", now)
            body["lastModifiedDateTime"] = now
            event = StoredEvent(mailbox.lower(), body, seq, seq)
            self._set_version(event)
            self._events[event.id] = event
            return event

    def _set_version(self, event: StoredEvent) -> None:
        key = base64.b64encode(f"{event.id}:{event.touched_seq}".encode()).decode()[-16:]
        event.body["changeKey"] = key
        event.body["@odata.etag"] = f'W/"{key}"'

    def _touch(self, event: StoredEvent) -> None:
        seq = next(self._seq)
        self._last_seq = seq
        event.touched_seq = seq
        event.body["lastModifiedDateTime"] = datetime.now(UTC).strftime(
            "%Y-%m-%dT%H:%M:%S.0000000Z"
        )
        self._set_version(event)

    # --- HTTP -------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str, headers: dict | None = None):
        return (
            status,
            headers or {},
            {
                "error": {
                    "code": code,
                    "message": message,
                    "innerError": {"request-id": str(uuid.uuid4())},
                }
            },
        )

    def _handle(self, method: str, target: str, headers: dict, raw: bytes):
        parts = urlsplit(target)
        path = unquote(parts.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        body = None
        if raw:
            ctype = headers.get("Content-Type", "")
            body = (
                {k: v[0] for k, v in parse_qs(raw.decode()).items()}
                if "form" in ctype
                else json.loads(raw)
            )
        self.requests.append(Request(method, path, query, headers, body))
        with self._lock:
            if path.endswith("/oauth2/v2.0/token"):
                return self._token(path, body or {})
            if self._faults:
                fault = self._faults[0]
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.popleft()
                extra = (
                    {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
                )
                return self._error(fault.status, fault.code, fault.message, extra)
            auth = headers.get("Authorization", "")
            if not auth.startswith("Bearer ") or auth[7:] not in self._tokens:
                return self._error(
                    401,
                    "InvalidAuthenticationToken",
                    "Access token has expired or is not yet valid.",
                    {"WWW-Authenticate": 'Bearer realm=""'},
                )
            segments = path.split("/")
            if segments[:3] != ["", "v1.0", "users"] or len(segments) < 5:
                return self._error(
                    400, "BadRequest", f"Resource not found for the segment '{path}'."
                )
            mailbox = segments[3].lower()
            rest = "/".join(segments[4:])
            if mailbox in self.unknown_users:
                return self._error(
                    404, "ErrorInvalidUser", f"The requested user '{mailbox}' is invalid."
                )
            if mailbox in self.denied_mailboxes:
                return self._error(
                    403,
                    "ErrorAccessDenied",
                    "Access to OData is disabled: [RAOP] : Blocked by tenant configured AppOnly "
                    "AccessPolicy settings.",
                )
            if method == "GET" and rest.endswith("calendarView/delta"):
                return self._delta(mailbox, rest, query, headers)
            if method == "POST" and rest.endswith("getSchedule"):
                return self._schedule(body or {})
            if method == "POST" and (
                rest == "calendar/events"
                or (rest.startswith("calendars/") and rest.endswith("/events"))
            ):
                return self._create(mailbox, body or {})
            if rest.startswith("events/") and method in ("PATCH", "DELETE"):
                return self._change(mailbox, rest.split("/", 1)[1], method, body or {})
            return self._error(400, "BadRequest", f"Unsupported request {method} {path}")

    def _token(self, path: str, form: dict):
        tenant = path.split("/")[1]
        if (
            tenant != TENANT
            or form.get("client_id") != CLIENT_ID
            or form.get("client_secret") != CLIENT_SECRET
            or form.get("grant_type") != "client_credentials"
        ):
            return (
                401,
                {},
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
                    "sent in the request is the client secret value, not the client secret ID.",
                    "error_codes": [7000215],
                },
            )
        if form.get("scope") != "https://graph.microsoft.com/.default":
            return (
                400,
                {},
                {
                    "error": "invalid_scope",
                    "error_description": "AADSTS1002012: The provided value "
                    "for scope is not valid.",
                },
            )
        token = "eyJ0eXAi." + uuid.uuid4().hex
        self._tokens.add(token)
        self.tokens_issued += 1
        return (
            200,
            {},
            {
                "token_type": "Bearer",
                "expires_in": 3599,
                "ext_expires_in": 3599,
                "access_token": token,
            },
        )

    def _delta(self, mailbox: str, rest: str, query: dict, headers: dict):
        page_size = 100
        for part in headers.get("Prefer", "").split(","):
            if "odata.maxpagesize=" in part:
                page_size = int(part.split("=", 1)[1])
        if "$skiptoken" in query or "$deltatoken" in query:
            state = _decode(query.get("$skiptoken") or query.get("$deltatoken"))
            if not state or state.get("g") != self._generation or state.get("m") != mailbox:
                return self._error(
                    410,
                    "SyncStateNotFound",
                    "The sync state generation is not found. The delta token is expired and "
                    "data must be synchronized again.",
                )
        else:
            try:
                lo = datetime.fromisoformat(query["startDateTime"].replace("Z", "+00:00"))
                hi = datetime.fromisoformat(query["endDateTime"].replace("Z", "+00:00"))
            except (KeyError, ValueError):
                return self._error(
                    400,
                    "ErrorInvalidParameter",
                    "This request requires a time window specified by the query string "
                    "parameters StartDateTime and EndDateTime.",
                )
            state = {
                "g": self._generation,
                "m": mailbox,
                "lo": lo.isoformat(),
                "hi": hi.isoformat(),
                "since": 0,
                "upto": self._last_seq,
                "skip": 0,
            }
        lo, hi = datetime.fromisoformat(state["lo"]), datetime.fromisoformat(state["hi"])
        if "$deltatoken" in query:  # a new round: everything touched since the last one
            state = {**state, "since": state["upto"], "upto": self._last_seq, "skip": 0}

        def in_window(event: StoredEvent) -> bool:
            start, end = _from_graph(event.body.get("start")), _from_graph(event.body.get("end"))
            if start is None:
                return True  # unreadable times are listed: the client decides
            return start < hi and (end or start) >= lo

        rows = []
        for event in sorted(self._events.values(), key=lambda e: e.touched_seq):
            if event.mailbox != mailbox or not (
                state["since"] < event.touched_seq <= state["upto"]
            ):
                continue
            if event.deleted or not in_window(event):
                if event.created_seq <= state["since"]:
                    rows.append(
                        {
                            "@odata.type": "#microsoft.graph.event",
                            "id": event.id,
                            "@removed": {"reason": "deleted"},
                        }
                    )
                continue
            rows.append({"@odata.type": "#microsoft.graph.event", **event.body})
        page = rows[state["skip"] : state["skip"] + page_size]
        base = f"{self.base}/v1.0/users/{mailbox}/calendarView/delta"
        answer = {
            "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection(event)",
            "value": page,
        }
        if state["skip"] + page_size < len(rows):
            answer["@odata.nextLink"] = (
                f"{base}?$skiptoken={_encode({**state, 'skip': state['skip'] + page_size})}"
            )
        else:
            answer["@odata.deltaLink"] = f"{base}?$deltatoken={_encode({**state, 'skip': 0})}"
        return 200, {}, answer

    def _create(self, mailbox: str, body: dict):
        transaction = body.get("transactionId")
        if transaction:
            for event in self._events.values():
                if event.mailbox == mailbox and event.body.get("transactionId") == transaction:
                    return 201, {}, event.body
        for key in ("start", "end"):
            if _from_graph(body.get(key)) is None:
                return self._error(
                    400,
                    "ErrorInvalidRequest",
                    f"Your request can't be completed. {key} is missing.",
                )
        stored = dict(body)
        for key in (
            "start",
            "end",
        ):  # Graph keeps the writer's zone; the replica answers in UTC only
            stored[key] = _graph_time(_from_graph(body[key]))
        stored.setdefault("organizer", {"emailAddress": {"address": mailbox}})
        stored.setdefault("type", "singleInstance")
        stored.setdefault("isCancelled", False)
        stored.setdefault("isAllDay", False)
        stored.setdefault("showAs", "busy")
        stored.pop("singleValueExtendedProperties", None)  # kept apart: delta never returns them
        event = self._store(mailbox, stored)
        event.extended = {
            p["id"]: p["value"] for p in body.get("singleValueExtendedProperties", [])
        }
        return 201, {}, event.body

    def _change(self, mailbox: str, event_id: str, method: str, body: dict):
        event = self._events.get(event_id)
        if event is None or event.deleted or event.mailbox != mailbox:
            return self._error(
                404, "ErrorItemNotFound", "The specified object was not found in the store."
            )
        if method == "DELETE":
            event.deleted = True
            self._touch(event)
            return 204, {}, None
        for key, value in body.items():
            if key in ("start", "end"):
                value = _graph_time(_from_graph(value))
            if key == "singleValueExtendedProperties":
                event.extended.update({p["id"]: p["value"] for p in value})
                continue
            event.body[key] = value
        self._touch(event)
        return 200, {}, event.body

    def extended_properties(self, event_id: str) -> dict:
        return dict(self._events[event_id].extended)

    def _schedule(self, body: dict):
        lo, hi = _from_graph(body.get("startTime")), _from_graph(body.get("endTime"))
        if lo is None or hi is None:
            return self._error(400, "ErrorInvalidParameter", "startTime and endTime are required.")
        answer = []
        for address in body.get("schedules", []):
            items = []
            for event in sorted(self._events.values(), key=lambda e: e.body["start"]["dateTime"]):
                start, end = (
                    _from_graph(event.body.get("start")),
                    _from_graph(event.body.get("end")),
                )
                if event.mailbox != address.lower() or event.deleted or not start or not end:
                    continue
                if start < hi and end > lo:
                    items.append(
                        {
                            "isPrivate": False,
                            "status": event.body.get("showAs", "busy"),
                            "subject": event.body.get("subject"),
                            "location": "",
                            "start": _graph_time(start),
                            "end": _graph_time(end),
                        }
                    )
            answer.append(
                {
                    "scheduleId": address,
                    "availabilityView": "",
                    "scheduleItems": items,
                    "workingHours": {
                        "daysOfWeek": ["monday", "tuesday", "wednesday", "thursday", "friday"],
                        "startTime": "08:00:00.0000000",
                        "endTime": "17:00:00.0000000",
                        "timeZone": {"name": "Romance Standard Time"},
                    },
                }
            )
        return (
            200,
            {},
            {
                "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#Collection("
                "microsoft.graph.scheduleInformation)",
                "value": answer,
            },
        )


@pytest.fixture
def graph_replica():
    """A fresh Graph protocol replica (token endpoint included) on a free loopback port, per test."""
    replica = GraphReplica().start()
    yield replica
    replica.stop()
