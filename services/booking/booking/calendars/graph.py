"""Microsoft Graph backend, for Microsoft 365 (Exchange Online) calendars.

Plain REST over ``requests`` (which cooperates with eventlet; msgraph-sdk is
asyncio-only, see STACK-NOTES), with the OAuth 2.0 client credentials grant:
an app registration with the application permission ``Calendars.ReadWrite``,
which an Exchange Online application access policy should restrict to the
rooms and agents Escale serves.

Requests, and why these:

- ``POST {authority}/{tenant}/oauth2/v2.0/token`` (client credentials, scope
  ``https://graph.microsoft.com/.default``); the token is kept until a minute
  before it expires. A 401 from Graph refreshes it once and retries; a
  second 401 is :class:`BackendAuthError`.
- ``GET /users/{id}/calendar/calendarView/delta?startDateTime=&endDateTime=``:
  Graph's incremental listing, which also expands recurring series into
  occurrences (each with ``seriesMasterId``), so the engine gets plain items.
  ``@odata.nextLink`` pages are followed to the ``@odata.deltaLink``, which is
  the next sync token. The window is fixed when a round starts; the token
  remembers its end, and once less than half the window is left ahead the
  backend starts a new full round by itself, so new bookings far ahead are
  never missed. ``410 Gone`` (or the codes ``syncStateNotFound`` /
  ``resyncRequired``) becomes :class:`SyncTokenInvalid`.
- ``POST .../events``, ``PATCH`` and ``DELETE /users/{id}/events/{id}`` for
  Escale's bookings. Graph does not let a client choose the iCalendar UID,
  so Escale's items are recognised by ``transactionId``
  (``escale:<booking id>:<nonce>``), which delta answers carry, and also
  carry the named property ``X-ESCALE-BOOKING-ID`` (PS_PUBLIC_STRINGS, the
  same one the EWS backend writes) as a ``singleValueExtendedProperty`` for
  tools reading the mailbox directly.
- ``POST /users/{id}/calendar/getSchedule`` for busy times: Graph sends
  subjects in ``scheduleItems``; they are dropped here, only start, end and
  status are read.

429 and 503/504 become :class:`BackendUnavailable` with the ``Retry-After``
seconds; the sync timer decides when to retry.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import requests

from .backend import (
    MARKER_PROPERTY,
    BackendAuthError,
    BackendConfig,
    BackendError,
    BackendUnavailable,
    BusyPeriod,
    CalendarNotFound,
    ChangeSet,
    OutgoingItem,
    RemoteItem,
    RemoteRef,
    SkippedItem,
    SyncTokenInvalid,
    booking_id_from_uid,
)

log = logging.getLogger(__name__)

GRAPH_URL = "https://graph.microsoft.com/v1.0"
AUTHORITY = "https://login.microsoftonline.com"
SCOPE = "https://graph.microsoft.com/.default"
#: The named property in PS_PUBLIC_STRINGS, as Graph spells an extended property id.
MARKER_ID = f"String {{00020329-0000-0000-C000-000000000046}} Name {MARKER_PROPERTY}"
_TRANSACTION_RE = re.compile(r"^escale:([0-9a-fA-F-]{36}):")
_RESYNC_CODES = {
    "syncstatenotfound",
    "syncstateinvalid",
    "resyncrequired",
    "resyncapplicationrequired",
}
NOT_BUSY = {"free", "workingelsewhere", "unknown"}
TOKEN_VERSION = "v1"


def _parse_instant(value: dict | None, field: str) -> datetime | None:
    """A Graph ``dateTimeTimeZone`` as an aware datetime. ValueError when present but unreadable."""
    if value is None:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("dateTime"), str):
        raise ValueError(field)
    text = value["dateTime"]
    try:
        naive = datetime.fromisoformat(text[:26] if "." in text else text)  # 7-digit fractions
    except ValueError:
        raise ValueError(field) from None
    zone = value.get("timeZone") or "UTC"
    if naive.tzinfo is not None:
        return naive.astimezone(UTC)
    try:
        tz = UTC if zone in ("UTC", "Etc/UTC", "tzone://Microsoft/Utc") else ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{field}_time_zone") from None
    return naive.replace(tzinfo=tz).astimezone(UTC)


def _parse_stamp(text) -> datetime | None:
    """``createdDateTime`` and the like: UTC, with up to seven fraction digits."""
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.rstrip("Z").partition(".")[0]).replace(tzinfo=UTC)
    except ValueError:
        return None


def _iso_utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class GraphBackend:
    """One Microsoft 365 tenant. ``calendar_ref`` is ``mailbox`` or ``mailbox/calendarId``."""

    name = "graph"

    def __init__(self, config: BackendConfig, session: requests.Session | None = None):
        creds = config.credentials
        if not (creds.tenant_id and creds.client_id and creds.client_secret):
            prefix = "ESCALE_CALENDAR_" + re.sub(
                r"[^A-Z0-9]", "_", (config.credentials_ref or "REF").upper()
            )
            raise ValueError(
                "The graph calendar backend needs a tenant id, client id and client secret "
                f"({prefix}_TENANT_ID / _CLIENT_ID / _CLIENT_SECRET)."
            )
        options = dict(config.options)
        self._graph = (config.url or GRAPH_URL).rstrip("/")
        self._authority = str(options.get("authority", AUTHORITY)).rstrip("/")
        self._credentials = creds
        self._timeout = float(options.get("timeout", 30))
        self._page_size = int(options.get("page_size", 100))
        self._past = timedelta(days=int(options.get("window_past_days", 1)))
        self._ahead = timedelta(days=int(options.get("window_future_days", 180)))
        self._http = session or requests.Session()
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = threading.Lock()
        self.calls = 0

    # --- plumbing ---------------------------------------------------------

    def _access_token(self, force: bool = False) -> str:
        with self._token_lock:
            if not force and self._token and time.monotonic() < self._token_expires:
                return self._token
            self.calls += 1
            try:
                response = self._http.post(
                    f"{self._authority}/{quote(self._credentials.tenant_id, safe='')}/oauth2/v2.0/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": self._credentials.client_id,
                        "client_secret": self._credentials.client_secret,
                        "scope": SCOPE,
                    },
                    timeout=self._timeout,
                )
            except requests.RequestException as exc:
                raise BackendUnavailable(
                    f"Token endpoint did not answer: {type(exc).__name__}"
                ) from exc
            if response.status_code in (400, 401, 403):
                code = _json(response).get("error", "unknown")
                raise BackendAuthError(
                    f"The identity platform refused Escale's app credentials ({code})"
                )
            self._raise_unavailable(response, "token endpoint")
            body = _json(response)
            if not isinstance(body.get("access_token"), str):
                raise BackendUnavailable("The token endpoint answered without a token")
            self._token = body["access_token"]
            self._token_expires = time.monotonic() + max(0, int(body.get("expires_in", 3599)) - 60)
            return self._token

    @staticmethod
    def _raise_unavailable(response, what: str) -> None:
        if response.status_code == 429 or response.status_code >= 500:
            retry = response.headers.get("Retry-After")
            try:
                retry_after = float(retry) if retry is not None else None
            except ValueError:
                retry_after = None
            raise BackendUnavailable(
                f"Microsoft Graph answered {response.status_code} for {what}",
                retry_after=retry_after,
            )

    def _request(self, method: str, url: str, what: str, **kwargs) -> requests.Response:
        """One Graph request with the token, its one refresh on 401, and the port's errors."""
        headers = {"Prefer": 'outlook.timezone="UTC"', **kwargs.pop("headers", {})}
        for attempt in (1, 2):
            headers["Authorization"] = f"Bearer {self._access_token(force=attempt == 2)}"
            self.calls += 1
            try:
                response = self._http.request(
                    method, url, headers=headers, timeout=self._timeout, **kwargs
                )
            except requests.RequestException as exc:
                raise BackendUnavailable(
                    f"Microsoft Graph did not answer for {what}: {type(exc).__name__}"
                ) from exc
            if response.status_code != 401:
                break
            log.info("graph: access token refused, refreshing once")
        if response.status_code == 401:
            raise BackendAuthError(f"Microsoft Graph refused Escale's token for {what}")
        if response.status_code == 403:
            raise BackendAuthError(
                f"Escale's app may not access {what} (permission or access policy)"
            )
        code = _error_code(response)
        if response.status_code == 410 or code.lower() in _RESYNC_CODES:
            raise SyncTokenInvalid(f"Microsoft Graph refused the delta token of {what}")
        self._raise_unavailable(response, what)
        return response

    @staticmethod
    def _paths(calendar_ref: str) -> tuple[str, str]:
        """(user path, calendar path) of a calendar_ref."""
        mailbox, _, calendar_id = calendar_ref.strip().partition("/")
        user = f"users/{quote(mailbox.lower(), safe='@')}"
        calendar = (
            f"{user}/calendars/{quote(calendar_id, safe='')}" if calendar_id else f"{user}/calendar"
        )
        return user, calendar

    # --- changes ----------------------------------------------------------

    def changes(self, calendar_ref: str, sync_token: str | None) -> ChangeSet:
        _, calendar = self._paths(calendar_ref)
        now = datetime.now(UTC)
        url, window_end, full = None, None, True
        if sync_token:
            version, _, rest = sync_token.partition("|")
            end_text, _, delta_link = rest.partition("|")
            if version != TOKEN_VERSION or not delta_link:
                raise SyncTokenInvalid(f"Unreadable sync token for {calendar_ref}")
            window_end = datetime.fromisoformat(end_text)
            if window_end - now >= self._ahead / 2:
                url, full = delta_link, False
            else:
                log.info(
                    "graph: delta window running out, starting a full round",
                    extra={"calendar_ref": calendar_ref},
                )
        if full:
            window_end = now + self._ahead
            url = (
                f"{self._graph}/{calendar}/calendarView/delta?startDateTime={_iso_utc(now - self._past)}"
                f"&endDateTime={_iso_utc(window_end)}"
            )
        items: dict[str, RemoteItem] = {}
        deleted: list[str] = []
        skipped: list[SkippedItem] = []
        while True:
            response = self._request(
                "GET",
                url,
                calendar_ref,
                headers={"Prefer": f'outlook.timezone="UTC", odata.maxpagesize={self._page_size}'},
            )
            if response.status_code == 404:
                raise CalendarNotFound(f"No calendar {calendar_ref} in the tenant")
            if response.status_code >= 400:
                raise _refused(response, calendar_ref)
            page = _json(response)
            for row in page.get("value", []):
                self._take(row, items, deleted, skipped)
            if page.get("@odata.nextLink"):
                url = page["@odata.nextLink"]
                continue
            delta_link = page.get("@odata.deltaLink")
            break
        token = f"{TOKEN_VERSION}|{window_end.isoformat()}|{delta_link}" if delta_link else None
        return ChangeSet(
            items=list(items.values()),
            deleted_ids=deleted,
            next_token=token,
            full=full,
            skipped=skipped,
        )

    @staticmethod
    def _take(row, items, deleted, skipped) -> None:
        if not isinstance(row, dict) or not isinstance(row.get("id"), str):
            skipped.append(SkippedItem(remote_id="?", reason="no_id"))
            return
        if "@removed" in row:
            items.pop(row["id"], None)
            deleted.append(row["id"])
            return
        converted = _remote_item(row)
        if isinstance(converted, SkippedItem):
            log.warning(
                "graph: event skipped",
                extra={"remote_id": converted.remote_id, "reason": converted.reason},
            )
            skipped.append(converted)
        else:
            items[converted.remote_id] = converted

    # --- writes -----------------------------------------------------------

    @staticmethod
    def _event_body(item: OutgoingItem) -> dict:
        try:
            zone_name, zone = item.time_zone, ZoneInfo(item.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            zone_name, zone = "UTC", UTC

        def wall(value: datetime) -> dict:
            return {
                "dateTime": value.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"),
                "timeZone": zone_name,
            }

        return {
            "subject": item.title,
            "body": {"contentType": "text", "content": item.description or ""},
            "start": wall(item.start),
            "end": wall(item.end),
            "showAs": "busy",
            "isReminderOn": False,
            "singleValueExtendedProperties": [{"id": MARKER_ID, "value": item.booking_id}],
        }

    def put(self, calendar_ref: str, item: OutgoingItem, remote_id: str | None) -> RemoteRef:
        user, calendar = self._paths(calendar_ref)
        body = self._event_body(item)
        if remote_id:
            response = self._request(
                "PATCH",
                f"{self._graph}/{user}/events/{quote(remote_id, safe='')}",
                calendar_ref,
                json=body,
            )
            if response.status_code < 300:
                return _ref(_json(response))
            if response.status_code != 404:
                raise _refused(response, "an update")
            log.info(
                "graph: event gone remotely, creating it anew",
                extra={"booking_id": item.booking_id},
            )
        # A fresh nonce per creation: Graph de-duplicates on transactionId, and a booking may have
        # to be created again after someone deleted its event.
        body["transactionId"] = f"escale:{item.booking_id}:{uuid.uuid4().hex[:12]}"
        response = self._request(
            "POST", f"{self._graph}/{calendar}/events", calendar_ref, json=body
        )
        if response.status_code == 404:
            raise CalendarNotFound(f"No calendar {calendar_ref} in the tenant")
        if response.status_code >= 300:
            raise _refused(response, "a creation")
        return _ref(_json(response))

    def delete(self, calendar_ref: str, remote_id: str) -> None:
        user, _ = self._paths(calendar_ref)
        response = self._request(
            "DELETE", f"{self._graph}/{user}/events/{quote(remote_id, safe='')}", calendar_ref
        )
        if response.status_code >= 300 and response.status_code != 404:
            raise _refused(response, "a deletion")

    # --- busy -------------------------------------------------------------

    def busy(self, calendar_ref: str, start: datetime, end: datetime) -> list[BusyPeriod]:
        user, _ = self._paths(calendar_ref)
        mailbox = calendar_ref.partition("/")[0].strip().lower()
        body = {
            "schedules": [mailbox],
            "startTime": {
                "dateTime": start.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "timeZone": "UTC",
            },
            "endTime": {
                "dateTime": end.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
                "timeZone": "UTC",
            },
            "availabilityViewInterval": 15,
        }
        response = self._request(
            "POST", f"{self._graph}/{user}/calendar/getSchedule", calendar_ref, json=body
        )
        if response.status_code == 404:
            raise CalendarNotFound(f"No mailbox {mailbox} in the tenant")
        if response.status_code >= 300:
            raise _refused(response, "getSchedule")
        periods = []
        for schedule in _json(response).get("value", []):
            if schedule.get("error"):
                raise CalendarNotFound(
                    f"No free/busy for {mailbox}: {schedule['error'].get('responseCode', 'error')}"
                )
            for entry in schedule.get("scheduleItems", []):
                # Only times and status are read; subject and location are dropped here.
                if str(entry.get("status", "busy")).lower() in NOT_BUSY:
                    continue
                try:
                    lo, hi = (
                        _parse_instant(entry.get("start"), "start"),
                        _parse_instant(entry.get("end"), "end"),
                    )
                except ValueError:
                    continue
                if lo and hi and lo < end and hi > start:
                    periods.append(BusyPeriod(start=lo, end=hi))
        return sorted(periods, key=lambda p: p.start)


def _json(response) -> dict:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _error_code(response) -> str:
    error = _json(response).get("error") if response.content else None
    return str(error.get("code", "")) if isinstance(error, dict) else ""


def _refused(response, what: str) -> BackendError:
    """A 4xx Graph gives as its final word (bad request, conflict...): no retry will help."""
    return BackendError(
        f"Microsoft Graph refused {what}: {response.status_code} {_error_code(response)}".strip()
    )


def _ref(event: dict) -> RemoteRef:
    if not isinstance(event.get("id"), str):
        raise BackendError("Microsoft Graph answered a write without the event's id")
    return RemoteRef(
        remote_id=event["id"],
        etag=event.get("@odata.etag") or event.get("changeKey"),
        uid=event.get("iCalUId"),
    )


def _escale_id(event: dict) -> str | None:
    match = _TRANSACTION_RE.match(str(event.get("transactionId") or ""))
    if match:
        return match.group(1).lower()
    for prop in event.get("singleValueExtendedProperties") or []:
        if (
            isinstance(prop, dict)
            and str(prop.get("id", "")).lower() == MARKER_ID.lower()
            and prop.get("value")
        ):
            return str(prop["value"]).strip().lower()
    return booking_id_from_uid(event.get("uid"))


def _remote_item(event: dict) -> RemoteItem | SkippedItem:
    remote_id = event["id"]
    if event.get("type") == "seriesMaster":
        return SkippedItem(remote_id=remote_id, reason="series_master_outside_view")
    try:
        start = _parse_instant(event.get("start"), "start")
        end = _parse_instant(event.get("end"), "end")
    except ValueError as exc:
        return SkippedItem(remote_id=remote_id, reason=f"unreadable_{exc.args[0]}")
    if start is None:
        return SkippedItem(remote_id=remote_id, reason="no_start")
    organizer = ((event.get("organizer") or {}).get("emailAddress") or {}).get("address")
    series = (
        event.get("seriesMasterId") if event.get("type") in ("occurrence", "exception") else None
    )
    return RemoteItem(
        remote_id=remote_id,
        uid=event.get("iCalUId"),
        etag=event.get("@odata.etag") or event.get("changeKey"),
        start=start,
        end=end,
        all_day=bool(event.get("isAllDay")),
        timezone=event.get("originalStartTimeZone"),
        title=event.get("subject"),
        organiser_email=organizer,
        created=_parse_stamp(event.get("createdDateTime")),
        escale_booking_id=_escale_id(event),
        cancelled=bool(event.get("isCancelled")),
        size=len(json.dumps(event)),
        series_remote_id=series,
    )


def create(config: BackendConfig) -> GraphBackend:
    return GraphBackend(config)
