"""CalDAV backend (BlueMind, Nextcloud, SOGo, Zimbra, Radicale), with the caldav library.

One round for one calendar is one HTTP request: an RFC 6578
``sync-collection`` REPORT asking for each changed item's ETag *and* its
calendar data, so nothing is fetched item by item. A refused token (RFC 6578
``DAV:valid-sync-token`` precondition, 403 or 409) raises ``SyncTokenInvalid``
and the engine lists everything again with an empty token.

Writes are plain ``PUT``/``DELETE`` of ``<uid>.ics`` below the calendar. The
items Escale writes carry ``UID:booking-<id>@escale`` and
``X-ESCALE-BOOKING-ID`` so the next REPORT recognises them.

``calendar_ref`` is a collection URL, or a path resolved against the
connection's URL (``/rooms/a-101/``).

The caldav library (``DAVClient``) carries the HTTP session, authentication
and timeouts; the XML bodies are written here because the library's
``objects_by_sync_token`` fetches changed items one GET at a time and hides a
refused token behind a silent full listing.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from urllib.parse import quote, unquote, urljoin, urlsplit

from lxml import etree

from .backend import (
    MARKER_PROPERTY,
    BackendAuthError,
    BackendConfig,
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

NS = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:caldav"}

SYNC_BODY = """<?xml version="1.0" encoding="utf-8"?>
<d:sync-collection xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:sync-token>{token}</d:sync-token>
  <d:sync-level>1</d:sync-level>
  <d:prop><d:getetag/><c:calendar-data/></d:prop>
</d:sync-collection>"""

QUERY_BODY = """<?xml version="1.0" encoding="utf-8"?>
<c:calendar-query xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:caldav">
  <d:prop><c:calendar-data/></d:prop>
  <c:filter><c:comp-filter name="VCALENDAR"><c:comp-filter name="VEVENT">
    <c:time-range start="{start}" end="{end}"/>
  </c:comp-filter></c:comp-filter></c:filter>
</c:calendar-query>"""


def create(config: BackendConfig) -> "CalDAVBackend":
    return CalDAVBackend(config)


class CalDAVBackend:
    name = "caldav"

    def __init__(self, config: BackendConfig):
        import caldav

        if not config.url:
            raise ValueError("A CalDAV connection needs the server's URL.")
        self.base = config.url if config.url.endswith("/") else config.url + "/"
        creds = config.credentials
        timeout = int(config.options.get("timeout", 30)) if config.options else 30
        kwargs = {"url": self.base, "timeout": timeout}
        if creds.username:
            # Basic auth up front: no unauthenticated probe (one request saved per call).
            from requests.auth import HTTPBasicAuth

            kwargs["auth"] = HTTPBasicAuth(creds.username, creds.password or "")
        elif creds.token:
            kwargs["headers"] = {"Authorization": f"Bearer {creds.token}"}
        self.client = caldav.DAVClient(**kwargs)
        self.calls = 0

    # -- transport ------------------------------------------------------------
    def _url(self, calendar_ref: str) -> str:
        url = urljoin(self.base, calendar_ref)
        # Credentials go to the configured server only: a calendar_ref naming
        # another host (a mapping typed by a site admin) is refused.
        if urlsplit(url)[:2] != urlsplit(self.base)[:2]:
            raise CalendarNotFound("The calendar is not on the connection's server.")
        return url if url.endswith("/") else url + "/"

    def _request(self, url: str, method: str, body: str = "", headers: dict | None = None):
        """One HTTP request on the caldav client's session (its authentication,
        timeout and TLS settings). ``DAVClient.request`` is not used: it turns
        every 403 into an exception without the body, and the body is how a
        refused sync token is told from refused credentials."""
        self.calls += 1
        client = self.client
        try:
            response = client.session.request(
                method, url, data=body.encode() if body else None,
                headers={**client.headers, **(headers or {})}, auth=client.auth,
                timeout=client.timeout, verify=client.ssl_verify_cert,
            )
        except Exception as exc:  # noqa: BLE001 - network trouble of any kind
            raise BackendUnavailable(f"CalDAV {method} failed: {type(exc).__name__}") from None
        status = response.status = response.status_code
        if status in (401, 403) and b"valid-sync-token" not in _raw(response):
            raise BackendAuthError(f"CalDAV server refused the credentials ({status}).")
        if status == 429 or status >= 500:
            retry = response.headers.get("Retry-After")
            raise BackendUnavailable(f"CalDAV server answered {status}.",
                                     retry_after=float(retry) if retry and retry.isdigit() else None)
        return response

    # -- the port -------------------------------------------------------------
    def changes(self, calendar_ref: str, sync_token: str | None) -> ChangeSet:
        url = self._url(calendar_ref)
        body = SYNC_BODY.format(token=_xml_text(sync_token or ""))
        response = self._request(url, "REPORT", body, {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"})
        raw = _raw(response)
        if response.status in (403, 409) and b"valid-sync-token" in raw:
            raise SyncTokenInvalid("The CalDAV server refused the sync token.")
        if response.status == 404:
            raise CalendarNotFound(f"No calendar at {calendar_ref}.")
        if response.status != 207:
            raise BackendUnavailable(f"CalDAV sync REPORT answered {response.status}.")
        tree = etree.fromstring(raw, parser=etree.XMLParser(huge_tree=True, resolve_entities=False))
        next_token = tree.findtext("d:sync-token", namespaces=NS)
        items, deleted, skipped = [], [], []
        for node in tree.findall("d:response", NS):
            href = node.findtext("d:href", namespaces=NS)
            href = unquote(_path(href.strip())) if href else href
            if not href or href.rstrip("/") == unquote(_path(url)).rstrip("/"):
                continue
            top_status = node.findtext("d:status", namespaces=NS) or ""
            if " 404" in top_status:
                deleted.append(href)
                continue
            etag = node.findtext(".//d:getetag", namespaces=NS)
            data = node.findtext(".//c:calendar-data", namespaces=NS)
            if data is None:
                skipped.append(SkippedItem(href, "no_calendar_data"))
                continue
            items.append(_summary(href, etag, data))
        return ChangeSet(items=items, deleted_ids=deleted, next_token=next_token,
                         full=sync_token is None, skipped=skipped)

    def put(self, calendar_ref: str, item: OutgoingItem, remote_id: str | None) -> RemoteRef:
        url = self._url(calendar_ref)
        href = remote_id or _path(url) + item.uid + ".ics"
        target = urljoin(url, quote(href, safe="/"))
        response = self._request(target, "PUT", to_ical(item), {"Content-Type": "text/calendar; charset=utf-8"})
        if response.status == 404 or response.status == 409:
            raise CalendarNotFound(f"No calendar at {calendar_ref}.")
        if response.status not in (200, 201, 204):
            raise BackendUnavailable(f"CalDAV PUT answered {response.status}.")
        return RemoteRef(remote_id=href, etag=response.headers.get("ETag"), uid=item.uid)

    def delete(self, calendar_ref: str, remote_id: str) -> None:
        target = urljoin(self._url(calendar_ref), quote(remote_id, safe="/"))
        response = self._request(target, "DELETE")
        if response.status not in (200, 204, 404, 410):
            raise BackendUnavailable(f"CalDAV DELETE answered {response.status}.")

    def busy(self, calendar_ref: str, start: datetime, end: datetime) -> list[BusyPeriod]:
        import icalendar
        import recurring_ical_events

        url = self._url(calendar_ref)
        body = QUERY_BODY.format(start=_utc(start), end=_utc(end))
        response = self._request(url, "REPORT", body, {"Depth": "1", "Content-Type": "application/xml; charset=utf-8"})
        if response.status == 404:
            raise CalendarNotFound(f"No calendar at {calendar_ref}.")
        if response.status != 207:
            raise BackendUnavailable(f"CalDAV calendar-query answered {response.status}.")
        tree = etree.fromstring(_raw(response), parser=etree.XMLParser(huge_tree=True, resolve_entities=False))
        periods = []
        for data in tree.iterfind(".//c:calendar-data", NS):
            try:
                calendar = icalendar.Calendar.from_ical(data.text or "")
                for event in recurring_ical_events.of(calendar, skip_bad_series=True).between(start, end):
                    if str(event.get("TRANSP", "OPAQUE")).upper() == "TRANSPARENT":
                        continue
                    if str(event.get("STATUS", "")).upper() == "CANCELLED":
                        continue
                    s, e = event.decoded("DTSTART"), event.decoded("DTEND") if "DTEND" in event else None
                    if not isinstance(s, datetime) or not isinstance(e, datetime) or s.tzinfo is None:
                        continue  # all-day notes and floating times say nothing about a meeting
                    periods.append(BusyPeriod(max(s, start), min(e, end)))
            except Exception:  # noqa: BLE001 - one unreadable item is left out
                log.info("busy: unreadable item left out", extra={"calendar_ref": calendar_ref})
        return sorted(periods, key=lambda p: (p.start, p.end))


# --- iCalendar ----------------------------------------------------------------


def to_ical(item: OutgoingItem) -> str:
    """The VCALENDAR Escale writes for one booking (no METHOD: a stored item)."""
    lines = [
        "BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Escale//Calendar sync//EN", "BEGIN:VEVENT",
        f"UID:{item.uid}",
        f"DTSTAMP:{_utc(datetime.now(timezone.utc))}",
        f"DTSTART:{_utc(item.start)}",
        f"DTEND:{_utc(item.end)}",
        f"SEQUENCE:{item.sequence}",
        f"SUMMARY:{_escape(item.title)}",
        f"{MARKER_PROPERTY}:{item.booking_id}",
        "STATUS:" + ("CANCELLED" if item.cancelled else "CONFIRMED"),
        "TRANSP:OPAQUE",
    ]
    if item.organiser_email:
        lines.append(f"ORGANIZER:mailto:{item.organiser_email}")
    if item.description:
        lines.append(f"DESCRIPTION:{_escape(item.description)}")
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


def _summary(href: str, etag: str | None, data: str) -> RemoteItem:
    """A cheap summary for logs; the engine parses ``ical`` itself."""
    uid = None
    marker = None
    for line in data.splitlines():
        if uid is None and line.startswith("UID:"):
            uid = line[4:].strip()
        elif marker is None and line.startswith(MARKER_PROPERTY + ":"):
            marker = line.split(":", 1)[1].strip()
    return RemoteItem(remote_id=href, uid=uid, etag=etag, ical=data, size=len(data.encode()),
                      escale_booking_id=marker or booking_id_from_uid(uid))


def _raw(response) -> bytes:
    return response.content or b""


def _path(url: str) -> str:
    return urlsplit(url).path


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _xml_text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _escape(text: str) -> str:
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
            .replace("\r\n", "\\n").replace("\n", "\\n"))


def _fold(line: str) -> str:
    """RFC 5545 lines are at most 75 octets; longer ones continue after CRLF + space."""
    data = line.encode()
    if len(data) <= 75:
        return line
    parts, current = [], b""
    for char in line:
        encoded = char.encode()
        if len(current) + len(encoded) > (75 if not parts else 74):
            parts.append(current.decode())
            current = b""
        current += encoded
    parts.append(current.decode())
    return "\r\n ".join(parts)
