"""Exchange Web Services backend, for on-premises Exchange Server, over exchangelib.

Exchange Online turns EWS off (see STACK-NOTES): Microsoft 365 sites use the
``graph`` backend; this one is for Exchange Server 2016/2019/SE on site.

Operations, and why these:

- ``SyncFolderItems`` on the mailbox's calendar with the stored SyncState:
  the only incremental listing EWS has. It is asked for a short list of
  properties (``AdditionalProperties``), never the default shape, because
  SyncFolderItems answers only what FindItem could, and Escale needs no body
  or attendees. A recurring master is read again with ``GetItem`` for its
  ``MimeContent`` (the whole series as iCalendar, exceptions included), which
  the engine expands itself, the same way it reads CalDAV.
- ``ErrorInvalidSyncStateData`` becomes :class:`SyncTokenInvalid`; the engine
  then calls ``changes(ref, None)`` (a full listing).
- ``CreateItem`` / ``UpdateItem`` / ``DeleteItem`` for Escale's bookings,
  with no meeting requests sent (the room's calendar is written directly).
  Each item carries the UID ``booking-<id>@escale`` and the named property
  ``X-ESCALE-BOOKING-ID`` in the ``PublicStrings`` set, so Escale's own items
  are recognised when they come back in a sync. Updates overwrite (Escale
  owns these items), so no ChangeKey has to be stored.
- ``GetUserAvailability`` in the ``FreeBusy`` view for an agent's busy
  times: the server sends no subjects at all in that view.

Access to room mailboxes: **impersonation** by default, one service account
holding the ``ApplicationImpersonation`` role restricted by a management
scope to the rooms and agents Escale serves; every request carries the
target mailbox in ``ExchangeImpersonation`` and is throttled against that
mailbox's budget rather than the service account's. ``access_type=delegate``
is accepted for sites that prefer Full Access grants on each room.

Throttling: exchangelib runs with its ``FailFast`` policy, so an
``ErrorServerBusy`` reaches us at once and becomes
:class:`BackendUnavailable` with the server's ``BackOffMilliseconds`` as
``retry_after``; the sync timer decides when to come back, and no green
thread sleeps inside exchangelib. HTTP 401 becomes :class:`BackendAuthError`.

Under eventlet exchangelib serialises on a shared lock the first time an
account's folders are touched (STACK-NOTES): accounts are built once per
mailbox and kept, and the connection pool is sized by ``max_connections``.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from exchangelib import (
    DELEGATE,
    IMPERSONATION,
    NTLM,
    Account,
    Build,
    CalendarItem,
    Configuration,
    Credentials,
    EWSDateTime,
    EWSTimeZone,
    ExtendedProperty,
    FailFast,
    Version,
)
from exchangelib import errors as ews_errors
from exchangelib.folders import Calendar
from exchangelib.items import ALWAYS_OVERWRITE, ID_ONLY, MOVE_TO_DELETED_ITEMS, SEND_TO_NONE
from exchangelib.properties import (
    DaylightTime,
    FreeBusyViewOptions,
    ItemId,
    MailboxData,
    StandardTime,
    TimeWindow,
    TimeZone,
)
from exchangelib.services import GetItem, GetUserAvailability, SyncFolderItems
from exchangelib.transport import BASIC, NOAUTH

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

EWS_UTC = EWSTimeZone("UTC")

#: What a sync round asks for: enough to place a meeting, nothing personal beyond its title.
SYNC_FIELDS = (
    "subject",
    "start",
    "end",
    "is_all_day",
    "uid",
    "organizer",
    "is_cancelled",
    "type",
    "legacy_free_busy_status",
    "datetime_created",
    "size",
    "escale_booking_id",
    # The zones the organiser wrote the times in: an all-day item's dates only mean something
    # there (EWS sends midnight in that zone, as UTC).
    "_start_timezone",
    "_end_timezone",
)
#: EWS answers that mean "later": the server or its store is overloaded or away for a while.
TRANSIENT = (
    ews_errors.ErrorTimeoutExpired,
    ews_errors.ErrorInternalServerTransientError,
    ews_errors.ErrorInternalServerError,
    ews_errors.ErrorMailboxStoreUnavailable,
    ews_errors.ErrorMailboxMoveInProgress,
    ews_errors.ErrorTooManyObjectsOpened,
    ews_errors.ErrorConnectionFailed,
    ews_errors.ErrorExceededConnectionCount,
)
#: Free/busy states that do not block a slot.
NOT_BUSY = {"Free", "WorkingElsewhere", "NoData"}


class EscaleBookingId(ExtendedProperty):
    """The named MAPI property Escale writes on its own items (PS_PUBLIC_STRINGS).

    Graph sees the same property as
    ``String {00020329-0000-0000-C000-000000000046} Name X-ESCALE-BOOKING-ID``.
    """

    distinguished_property_set_id = "PublicStrings"
    property_name = MARKER_PROPERTY
    property_type = "String"


_register_lock = threading.Lock()


def _register_marker() -> None:
    # Registration changes the CalendarItem class for the whole process: once only.
    with _register_lock:
        if "escale_booking_id" not in {f.name for f in CalendarItem.FIELDS}:
            CalendarItem.register("escale_booking_id", EscaleBookingId)


class _TolerantSyncFolderItems(SyncFolderItems):
    """SyncFolderItems that turns an unreadable change into a value instead of an exception.

    exchangelib parses changes lazily inside one generator: an item it cannot
    build would end the whole round. Here it is returned as ``("broken", id,
    error)`` so the rest of the page still syncs.
    """

    def _elem_to_obj(self, elem):
        try:
            return super()._elem_to_obj(elem)
        except Exception as exc:  # noqa: BLE001 (any parse failure of one item)
            ref = elem.find(".//{http://schemas.microsoft.com/exchange/services/2006/types}ItemId")
            return "broken", (ref.get("Id") if ref is not None else "?"), exc


def _plain(value) -> datetime | None:
    """An exchangelib date or datetime as a stdlib aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, datetime):
        value = value.astimezone(EWS_UTC)
        return datetime(
            value.year, value.month, value.day, value.hour, value.minute, value.second, tzinfo=UTC
        )
    if isinstance(value, date):  # all-day items may carry dates
        return datetime.combine(value, time(0), tzinfo=UTC)
    return None


def _zone_name(tz) -> str | None:
    """The IANA name of an exchangelib time zone (it maps Exchange's Windows names)."""
    return getattr(tz, "key", None) if tz is not None else None


def _all_day_bounds(item: CalendarItem) -> tuple[datetime | None, datetime | None]:
    """Midnight to midnight in the item's zone.

    exchangelib hands all-day items over as dates, the end date inclusive (it
    takes one day off EWS's exclusive end); the day after it is the end here.
    """
    zone_name = _zone_name(item._start_timezone)
    try:
        tz = ZoneInfo(zone_name) if zone_name else UTC
    except (ZoneInfoNotFoundError, ValueError):
        tz = UTC

    def midnight(value, extra_day: bool) -> datetime | None:
        if isinstance(value, datetime):  # not converted: keep the instant
            return _plain(value)
        if isinstance(value, date):
            return datetime.combine(value + timedelta(days=extra_day), time(0), tzinfo=tz)
        return None

    return midnight(item.start, False), midnight(item.end, True)


def _utc_timezone() -> TimeZone:
    # GetUserAvailability needs a time zone definition; a zero-bias one keeps every time in UTC
    # without a GetServerTimeZones round trip.
    transition = dict(bias=0, time=time(0), occurrence=1, weekday=7)
    return TimeZone(
        bias=0,
        standard_time=StandardTime(iso_month=10, **transition),
        daylight_time=DaylightTime(iso_month=3, **transition),
    )


def _parse_build(text: str) -> Build:
    parts = [int(p) for p in str(text).split(".")]
    return Build(*(parts + [0] * (4 - len(parts)))[:4])


class EwsBackend:
    """One site's Exchange server. ``calendar_ref`` is a mailbox's SMTP address."""

    name = "ews"

    def __init__(self, config: BackendConfig):
        if not config.url:
            raise ValueError(
                "The ews calendar backend needs the server's EWS URL (…/EWS/Exchange.asmx)."
            )
        _register_marker()
        options = dict(config.options)
        auth = str(options.get("auth_type", "ntlm")).lower()
        auth_type = {"ntlm": NTLM, "basic": BASIC, "none": NOAUTH}.get(auth)
        if auth_type is None:
            raise ValueError(f"ews auth_type must be ntlm, basic or none, got {auth!r}")
        credentials = None
        if auth_type != NOAUTH:
            creds = config.credentials
            if not creds.username or not creds.password:
                prefix = "ESCALE_CALENDAR_" + re.sub(
                    r"[^A-Z0-9]", "_", (config.credentials_ref or "REF").upper()
                )
                raise ValueError(
                    f"The ews calendar backend needs a username and password "
                    f"({prefix}_USERNAME / {prefix}_PASSWORD)."
                )
            credentials = Credentials(creds.username, creds.password)
        access = str(options.get("access_type", "impersonation")).lower()
        if access not in ("impersonation", "delegate"):
            raise ValueError(f"ews access_type must be impersonation or delegate, got {access!r}")
        self._access_type = IMPERSONATION if access == "impersonation" else DELEGATE
        self._page_size = int(options.get("page_size", 200))
        self._config = Configuration(
            service_endpoint=config.url,
            credentials=credentials,
            auth_type=auth_type,
            version=Version(build=_parse_build(options.get("server_version", "15.1.2507.6"))),
            retry_policy=FailFast(),
            max_connections=int(options.get("max_connections", 8)),
        )
        self._accounts: dict[str, Account] = {}
        self._lock = threading.Lock()
        self.calls = 0

    # --- plumbing ---------------------------------------------------------

    def _account(self, mailbox: str) -> Account:
        key = mailbox.strip().lower()
        with self._lock:
            account = self._accounts.get(key)
            if account is None:
                account = Account(
                    primary_smtp_address=key,
                    config=self._config,
                    autodiscover=False,
                    access_type=self._access_type,
                    default_timezone=EWS_UTC,
                )
                self._accounts[key] = account
        return account

    def _calendar(self, account: Account) -> Calendar:
        # The first touch costs two GetFolder requests (the root, then the calendar); exchangelib
        # keeps the folder on the account afterwards.
        if "calendar" not in account.__dict__:
            self.calls += 2
        return account.calendar

    @contextmanager
    def _translate(self, mailbox: str):
        """exchangelib's errors as the port's errors (messages carry no secrets)."""
        try:
            yield
        except ews_errors.ErrorInvalidSyncStateData as exc:
            raise SyncTokenInvalid(f"Exchange refused the sync state of {mailbox}") from exc
        except ews_errors.ErrorServerBusy as exc:
            raise BackendUnavailable(
                f"Exchange is throttling requests for {mailbox}", retry_after=exc.back_off
            ) from exc
        except (
            ews_errors.UnauthorizedError,
            ews_errors.ErrorAccessDenied,
            ews_errors.ErrorImpersonateUserDenied,
            ews_errors.ErrorImpersonationDenied,
        ) as exc:
            raise BackendAuthError(f"Exchange refused Escale's credentials for {mailbox}") from exc
        except (
            ews_errors.ErrorNonExistentMailbox,
            ews_errors.ErrorFolderNotFound,
            ews_errors.ErrorMailRecipientNotFound,
        ) as exc:
            raise CalendarNotFound(f"No calendar for {mailbox} on the Exchange server") from exc
        except TRANSIENT as exc:
            raise BackendUnavailable(
                f"Exchange did not answer for {mailbox}: {type(exc).__name__}"
            ) from exc
        except ews_errors.ResponseMessageError as exc:
            # Any other EWS response code is Exchange's final word on this request.
            raise BackendError(f"Exchange answered {type(exc).__name__} for {mailbox}") from exc
        except (ews_errors.TransportError, OSError) as exc:  # network, TLS, unreadable answers
            raise BackendUnavailable(
                f"Exchange did not answer for {mailbox}: {type(exc).__name__}"
            ) from exc
        except ews_errors.EWSError as exc:
            raise BackendError(f"Exchange answered {type(exc).__name__} for {mailbox}") from exc

    # --- changes ----------------------------------------------------------

    def changes(self, calendar_ref: str, sync_token: str | None) -> ChangeSet:
        account = self._account(calendar_ref)
        with self._translate(calendar_ref):
            folder = self._calendar(account)
            fields = folder.normalize_fields(fields=list(SYNC_FIELDS))
            additional = {f for f in fields if not f.field.is_attribute}
            items: dict[str, RemoteItem] = {}
            deleted: list[str] = []
            skipped: list[SkippedItem] = []
            masters: list = []
            state = sync_token
            svc = _TolerantSyncFolderItems(account=account)
            while True:
                self.calls += 1
                for change in svc.call(
                    folder=folder,
                    shape=ID_ONLY,
                    additional_fields=additional,
                    sync_state=state,
                    ignore=None,
                    max_changes_returned=self._page_size,
                    sync_scope=None,
                ):
                    self._take(change, items, deleted, skipped, masters)
                if svc.sync_state == state or svc.includes_last_item_in_range:
                    state = svc.sync_state
                    break
                state = svc.sync_state
            for master in masters:
                self._take_series(account, master, items, skipped)
        return ChangeSet(
            items=list(items.values()),
            deleted_ids=deleted,
            next_token=state,
            full=sync_token is None,
            skipped=skipped,
        )

    def _take(self, change, items, deleted, skipped, masters) -> None:
        if isinstance(change, Exception):
            skipped.append(
                SkippedItem(remote_id="?", reason=f"server_error:{type(change).__name__}")
            )
            return
        kind, payload = change[0], change[1]
        if kind == "broken":
            log.warning(
                "ews: unreadable item skipped",
                extra={"remote_id": payload, "error": str(change[2])},
            )
            skipped.append(SkippedItem(remote_id=payload, reason="unreadable_item"))
            return
        if kind == SyncFolderItems.DELETE:
            items.pop(payload.id, None)
            deleted.append(payload.id)
            return
        if kind not in (SyncFolderItems.CREATE, SyncFolderItems.UPDATE):
            return  # read-flag changes mean nothing for a calendar
        if not isinstance(payload, CalendarItem):
            skipped.append(SkippedItem(remote_id=payload.id or "?", reason="not_a_calendar_item"))
            return
        if payload.type == "RecurringMaster":
            masters.append(payload)
            return
        converted = self._remote_item(payload)
        if isinstance(converted, SkippedItem):
            skipped.append(converted)
        else:
            items[converted.remote_id] = converted

    @staticmethod
    def _remote_item(item: CalendarItem, ical: str | None = None) -> RemoteItem | SkippedItem:
        if item.is_all_day:
            start, end = _all_day_bounds(item)
        else:
            start, end = _plain(item.start), _plain(item.end)
        if start is None and ical is None:
            return SkippedItem(remote_id=item.id, reason="unreadable_start")
        organizer = getattr(item.organizer, "email_address", None) if item.organizer else None
        marker = getattr(item, "escale_booking_id", None)
        return RemoteItem(
            remote_id=item.id,
            uid=item.uid,
            etag=item.changekey,
            start=start,
            end=end,
            all_day=bool(item.is_all_day),
            timezone=_zone_name(item._start_timezone),
            title=item.subject,
            organiser_email=organizer,
            created=_plain(item.datetime_created),
            escale_booking_id=(marker.strip().lower() if marker else None)
            or booking_id_from_uid(item.uid),
            cancelled=bool(item.is_cancelled),
            size=int(item.size or 0),
            ical=ical,
        )

    def _take_series(self, account, master: CalendarItem, items, skipped) -> None:
        """A recurring series: its MimeContent (iCalendar) for the engine to expand."""
        self.calls += 1
        fields = account.calendar.normalize_fields(fields=["mime_content"])
        [result] = list(
            GetItem(account=account).call(
                items=[ItemId(master.id, master.changekey)],
                additional_fields=set(fields),
                shape=ID_ONLY,
            )
        )
        if isinstance(result, Exception) or not result.mime_content:
            skipped.append(SkippedItem(remote_id=master.id, reason="series_without_mime_content"))
            return
        mime = result.mime_content
        text = mime.decode("utf-8", "replace") if isinstance(mime, bytes) else str(mime)
        if "BEGIN:VCALENDAR" not in text:
            try:
                text = base64.b64decode(text).decode("utf-8", "replace")
            except ValueError:
                pass
        converted = self._remote_item(master, ical=text)
        if isinstance(converted, SkippedItem):
            skipped.append(converted)
        else:
            items[converted.remote_id] = converted

    # --- writes -----------------------------------------------------------

    def _calendar_item(self, account, item: OutgoingItem, remote_id: str | None) -> CalendarItem:
        try:
            tz = EWSTimeZone(item.time_zone)
        except Exception:  # noqa: BLE001 (a zone Exchange has no name for)
            tz = EWS_UTC
        return CalendarItem(
            account=account,
            folder=self._calendar(account),
            id=remote_id,
            subject=item.title,
            body=item.description or None,
            start=EWSDateTime.from_datetime(item.start.astimezone(UTC)).astimezone(tz),
            end=EWSDateTime.from_datetime(item.end.astimezone(UTC)).astimezone(tz),
            legacy_free_busy_status="Busy",
            escale_booking_id=item.booking_id,
            uid=item.uid,
        )

    def put(self, calendar_ref: str, item: OutgoingItem, remote_id: str | None) -> RemoteRef:
        account = self._account(calendar_ref)
        with self._translate(calendar_ref):
            if remote_id:
                self.calls += 1
                updated = self._calendar_item(account, item, remote_id)
                fields = [
                    "subject",
                    "body",
                    "start",
                    "end",
                    "legacy_free_busy_status",
                    "escale_booking_id",
                ]
                [result] = account.bulk_update(
                    items=[(updated, fields)],
                    conflict_resolution=ALWAYS_OVERWRITE,
                    send_meeting_invitations_or_cancellations=SEND_TO_NONE,
                )
                if not isinstance(result, ews_errors.ErrorItemNotFound):
                    if isinstance(result, Exception):
                        raise result
                    return RemoteRef(remote_id=result[0], etag=result[1], uid=item.uid)
                log.info(
                    "ews: item gone remotely, creating it anew",
                    extra={"booking_id": item.booking_id},
                )
            self.calls += 1
            created = self._calendar_item(account, item, None)
            created.save(send_meeting_invitations=SEND_TO_NONE)
            return RemoteRef(remote_id=created.id, etag=created.changekey, uid=item.uid)

    def delete(self, calendar_ref: str, remote_id: str) -> None:
        account = self._account(calendar_ref)
        with self._translate(calendar_ref):
            self.calls += 1
            [result] = account.bulk_delete(
                ids=[(remote_id, None)],
                delete_type=MOVE_TO_DELETED_ITEMS,
                send_meeting_cancellations=SEND_TO_NONE,
            )
            if isinstance(result, ews_errors.ErrorItemNotFound):
                return
            if isinstance(result, Exception):
                raise result

    # --- busy -------------------------------------------------------------

    def busy(self, calendar_ref: str, start: datetime, end: datetime) -> list[BusyPeriod]:
        account = self._account(calendar_ref)
        with self._translate(calendar_ref):
            self.calls += 1
            options = FreeBusyViewOptions(
                time_window=TimeWindow(
                    start=EWSDateTime.from_datetime(start.astimezone(UTC)),
                    end=EWSDateTime.from_datetime(end.astimezone(UTC)),
                ),
                merged_free_busy_interval=15,
                requested_view="FreeBusy",  # times and states only: no subject ever leaves Exchange
            )
            views = list(
                GetUserAvailability(account.protocol).call(
                    tzinfo=EWS_UTC,
                    mailbox_data=[
                        MailboxData(
                            email=account.primary_smtp_address,
                            attendee_type="Required",
                            exclude_conflicts=False,
                        )
                    ],
                    timezone=_utc_timezone(),
                    free_busy_view_options=options,
                )
            )
        periods = []
        for view in views:
            if isinstance(view, Exception):
                with self._translate(calendar_ref):
                    raise view
            for event in view.calendar_events or []:
                if event.busy_type in NOT_BUSY:
                    continue
                lo, hi = _plain(event.start), _plain(event.end)
                if lo and hi and lo < end and hi > start:
                    periods.append(BusyPeriod(start=lo, end=hi))
        return sorted(periods, key=lambda p: p.start)


def create(config: BackendConfig) -> EwsBackend:
    return EwsBackend(config)
