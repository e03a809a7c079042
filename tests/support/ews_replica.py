"""A protocol replica of Exchange Web Services, for tests. Not a server.

Exchange cannot run here, so the EWS backend is tested against this small
HTTP endpoint on loopback that answers the SOAP messages Microsoft documents
for exactly the operations the backend sends (EWS reference, "SyncFolderItems
operation", "GetItem operation", ... and their error examples):

- ``GetFolder`` (the distinguished ``calendar`` folder, which exchangelib
  resolves once per mailbox before anything else),
- ``SyncFolderItems`` with a SyncState, paged by ``MaxChangesReturned``
  (``IncludesLastItemInRange``), answering only the properties asked for in
  ``AdditionalProperties``,
- ``GetItem`` (``MimeContent`` of recurring series),
- ``CreateItem`` / ``UpdateItem`` (``SetItemField`` / ``DeleteItemField``) /
  ``DeleteItem`` on calendar items, extended properties included,
- ``GetUserAvailability`` (``FreeBusyView`` with a ``CalendarEventArray``),
- and the error answers: ``ErrorInvalidSyncStateData`` (a response message),
  ``ErrorServerBusy`` with ``BackOffMilliseconds`` (a SOAP fault, HTTP 500),
  ``ErrorItemNotFound``, and HTTP 401.

It keeps one in-memory calendar per mailbox, so creating, moving and
cancelling on either side round-trips for real; it checks nothing else of
Exchange's behaviour (no recurrence expansion, no permissions, no schema
validation), and tests must not read more into it. Tests drive the "Outlook
side" through its methods (``add_meeting``, ``move_meeting``...) and read
what Escale wrote with ``items``.
"""

from __future__ import annotations

import base64
import copy
import itertools
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

import pytest
from lxml import etree

S = "http://schemas.xmlsoap.org/soap/envelope/"
M = "http://schemas.microsoft.com/exchange/services/2006/messages"
T = "http://schemas.microsoft.com/exchange/services/2006/types"
E = "http://schemas.microsoft.com/exchange/services/2006/errors"
NSMAP = {"s": S, "m": M, "t": T}


def _t(name: str) -> str:
    return f"{{{T}}}{name}"


def _m(name: str) -> str:
    return f"{{{M}}}{name}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class StoredItem:
    id: str
    mailbox: str
    elem: etree._Element  # a t:CalendarItem without its ItemId
    changekey: int = 1
    created_seq: int = 0
    touched_seq: int = 0
    deleted: bool = False
    mime: str | None = None  # iCalendar text of a recurring series

    def text(self, name: str) -> str | None:
        child = self.elem.find(_t(name))
        return None if child is None else child.text

    def extended(self) -> dict[str, str]:
        out = {}
        for prop in self.elem.findall(_t("ExtendedProperty")):
            uri = prop.find(_t("ExtendedFieldURI"))
            value = prop.find(_t("Value"))
            if uri is not None and value is not None:
                out[uri.get("PropertyName") or uri.get("PropertyTag") or ""] = value.text
        return out


@dataclass
class Fault:
    kind: str  # "busy" or "unauthorized"
    back_off_ms: int = 0
    times: int = 1


@dataclass
class Call:
    operation: str
    impersonated: str | None
    anchor: str | None
    body: bytes = field(repr=False, default=b"")


class EwsReplica:
    """The replica's state and its HTTP server (``start``/``stop``)."""

    VERSION = dict(
        MajorVersion="15",
        MinorVersion="1",
        MajorBuildNumber="2507",
        MinorBuildNumber="6",
        Version="V2017_07_11",
    )

    def __init__(self):
        self._lock = threading.RLock()
        self._items: dict[str, StoredItem] = {}
        self._seq = itertools.count(1)
        self._last_seq = 0
        self._generation = uuid.uuid4().hex[:8]
        self._faults: deque[Fault] = deque()
        self.calls: list[Call] = []
        self.unknown_mailboxes: set[str] = set()  # addresses with no mailbox behind them
        self.not_impersonable: set[str] = set()  # outside the service account's management scope
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # --- life cycle -------------------------------------------------------

    def start(self) -> EwsReplica:
        replica = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, payload = replica._handle(body, self.headers)
                self.send_response(status)
                self.send_header("Content-Type", "text/xml; charset=utf-8")
                if status == 401:
                    self.send_header("WWW-Authenticate", 'Basic realm="127.0.0.1"')
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{port}/EWS/Exchange.asmx"
        threading.Thread(target=self._server.serve_forever, name="ews-replica", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # --- the "Outlook side", for tests -----------------------------------

    def add_meeting(
        self,
        mailbox: str,
        subject: str,
        start: datetime,
        end: datetime | None,
        *,
        organizer: str = "someone@example.org",
        uid: str | None = None,
        all_day: bool = False,
        free: bool = False,
        recurrence_ical: str | None = None,
        time_zone: str = "UTC",
    ) -> str:
        """A meeting as Outlook would save it in ``mailbox``'s calendar; returns its ItemId.

        ``time_zone`` is the Windows name Outlook writes (``Romance Standard Time``
        for Paris); an all-day item starts and ends at midnight there, sent in UTC.
        """
        elem = etree.Element(_t("CalendarItem"), nsmap={"t": T})
        self._child(elem, "Subject", subject)
        self._child(elem, "DateTimeCreated", _iso(datetime.now(UTC)))
        self._child(elem, "UID", uid or f"{uuid.uuid4().hex.upper()}")
        self._child(elem, "Start", _iso(start))
        if end is not None:
            self._child(elem, "End", _iso(end))
        self._child(elem, "IsAllDayEvent", "true" if all_day else "false")
        self._child(elem, "LegacyFreeBusyStatus", "Free" if free else "Busy")
        self._child(elem, "IsCancelled", "false")
        self._child(elem, "CalendarItemType", "RecurringMaster" if recurrence_ical else "Single")
        org = etree.SubElement(etree.SubElement(elem, _t("Organizer")), _t("Mailbox"))
        self._child(org, "EmailAddress", organizer)
        for name in ("StartTimeZone", "EndTimeZone"):
            etree.SubElement(elem, _t(name), Id=time_zone)
        return self._store(mailbox, elem, mime=recurrence_ical).id

    def add_broken_item(self, mailbox: str, start: str = "not a date") -> str:
        """A calendar item whose Start no parser can read (seen after bad migrations)."""
        elem = etree.Element(_t("CalendarItem"), nsmap={"t": T})
        self._child(elem, "Subject", "Broken")
        self._child(elem, "UID", uuid.uuid4().hex.upper())
        self._child(elem, "Start", start)
        self._child(elem, "End", start)
        self._child(elem, "CalendarItemType", "Single")
        return self._store(mailbox, elem).id

    def move_meeting(self, item_id: str, start: datetime, end: datetime) -> None:
        with self._lock:
            item = self._items[item_id]
            for name, value in (("Start", start), ("End", end)):
                self._replace(item.elem, self._new(name, _iso(value)))
            self._touch(item)

    def cancel_meeting(self, item_id: str) -> None:
        """The organiser deletes the meeting (what a room calendar shows on cancellation)."""
        with self._lock:
            item = self._items[item_id]
            item.deleted = True
            self._touch(item)

    def items(self, mailbox: str) -> list[dict]:
        """What the mailbox's calendar holds now (for assertions)."""
        with self._lock:
            return [
                {
                    "id": i.id,
                    "subject": i.text("Subject"),
                    "uid": i.text("UID"),
                    "start": _parse(i.text("Start")),
                    "end": _parse(i.text("End")),
                    "extended": i.extended(),
                    "changekey": i.changekey,
                }
                for i in self._items.values()
                if i.mailbox == mailbox.lower() and not i.deleted
            ]

    def expire_sync_states(self) -> None:
        """Every SyncState handed out so far becomes invalid (as after a mailbox move)."""
        with self._lock:
            self._generation = uuid.uuid4().hex[:8]

    def throttle(self, back_off_ms: int, times: int = 1) -> None:
        self._faults.append(Fault("busy", back_off_ms, times))

    def deny_credentials(self, times: int = 1) -> None:
        self._faults.append(Fault("unauthorized", times=times))

    def operations(self) -> list[str]:
        return [c.operation for c in self.calls]

    # --- storage ----------------------------------------------------------

    @staticmethod
    def _new(name: str, text: str | None) -> etree._Element:
        child = etree.Element(_t(name), nsmap={"t": T})
        child.text = text
        return child

    def _child(self, parent, name, text):
        parent.append(self._new(name, text))

    @staticmethod
    def _replace(elem, new):
        if new.tag == _t("ExtendedProperty"):
            uri = new.find(_t("ExtendedFieldURI"))
            for old in elem.findall(_t("ExtendedProperty")):
                if dict(old.find(_t("ExtendedFieldURI")).attrib) == dict(uri.attrib):
                    elem.remove(old)
        else:
            for old in elem.findall(new.tag):
                elem.remove(old)
        elem.append(new)

    def _store(self, mailbox: str, elem, mime: str | None = None) -> StoredItem:
        with self._lock:
            seq = next(self._seq)
            self._last_seq = seq
            item_id = base64.b64encode(f"AAMk{uuid.uuid4().hex}".encode()).decode()
            item = StoredItem(
                item_id, mailbox.lower(), elem, created_seq=seq, touched_seq=seq, mime=mime
            )
            self._items[item_id] = item
            return item

    def _touch(self, item: StoredItem) -> None:
        seq = next(self._seq)
        self._last_seq = seq
        item.touched_seq = seq
        item.changekey += 1

    # --- HTTP -------------------------------------------------------------

    def _handle(self, body: bytes, headers) -> tuple[int, bytes]:
        try:
            root = etree.fromstring(body)
            op_elem = root.find(f"{{{S}}}Body")[0]
        except Exception:  # noqa: BLE001 (any unparsable request)
            return 400, b"Bad request"
        operation = _local(op_elem.tag)
        if operation == "GetUserAvailabilityRequest":
            operation = "GetUserAvailability"
        imp = root.find(f"{{{S}}}Header/{_t('ExchangeImpersonation')}")
        impersonated = None
        if imp is not None:
            smtp = imp.find(f".//{_t('PrimarySmtpAddress')}")
            impersonated = smtp.text.lower() if smtp is not None else None
        self.calls.append(Call(operation, impersonated, headers.get("X-AnchorMailbox"), body))
        with self._lock:
            if self._faults:
                fault = self._faults[0]
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.popleft()
                if fault.kind == "unauthorized":
                    return 401, b""
                return 500, self._busy_fault(fault.back_off_ms)
            if impersonated in self.not_impersonable:
                return 500, self._fault(
                    "ErrorImpersonateUserDenied",
                    "The account does not have permission to impersonate the requested user.",
                )
            handler = getattr(self, f"_op_{operation}", None)
            if handler is None:
                return 500, self._envelope(
                    f"<s:Fault><faultcode>a:ErrorInvalidRequest</faultcode>"
                    f"<faultstring>The replica does not answer {escape(operation)}</faultstring></s:Fault>"
                )
            return 200, self._envelope(
                handler(op_elem, impersonated or headers.get("X-AnchorMailbox"))
            )

    def _envelope(self, body: str) -> bytes:
        version = " ".join(f'{k}="{v}"' for k, v in self.VERSION.items())
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<s:Envelope xmlns:s="{S}"><s:Header>'
            f'<h:ServerVersionInfo xmlns:h="{T}" {version}/></s:Header>'
            f'<s:Body xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xmlns:xsd="http://www.w3.org/2001/XMLSchema">{body}</s:Body></s:Envelope>'
        ).encode()

    @staticmethod
    def _fault(code: str, message: str) -> bytes:
        """A SOAP fault as EWS sends for errors found before any operation runs."""
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<s:Envelope xmlns:s="{S}"><s:Body><s:Fault>'
            f'<faultcode xmlns:a="{T}">a:{code}</faultcode>'
            f'<faultstring xml:lang="en-US">{escape(message)}</faultstring><detail>'
            f'<e:ResponseCode xmlns:e="{E}">{code}</e:ResponseCode>'
            f'<e:Message xmlns:e="{E}">{escape(message)}</e:Message>'
            "</detail></s:Fault></s:Body></s:Envelope>"
        ).encode()

    @staticmethod
    def _busy_fault(back_off_ms: int) -> bytes:
        # The shape of EWS throttling: a SOAP fault whose detail carries BackOffMilliseconds.
        return (
            '<?xml version="1.0" encoding="utf-8"?>'
            f'<s:Envelope xmlns:s="{S}"><s:Body><s:Fault>'
            f'<faultcode xmlns:a="{T}">a:ErrorServerBusy</faultcode>'
            '<faultstring xml:lang="en-US">The server cannot service this request right now. '
            "Try again later.</faultstring><detail>"
            f'<e:ResponseCode xmlns:e="{E}">ErrorServerBusy</e:ResponseCode>'
            f'<e:Message xmlns:e="{E}">The server cannot service this request right now. '
            "Try again later.</e:Message>"
            f'<t:MessageXml xmlns:t="{T}"><t:Value Name="BackOffMilliseconds">{back_off_ms}</t:Value>'
            "</t:MessageXml></detail></s:Fault></s:Body></s:Envelope>"
        ).encode()

    @staticmethod
    def _messages(operation: str, parts: list[str]) -> str:
        return (
            f'<m:{operation}Response xmlns:m="{M}" xmlns:t="{T}"><m:ResponseMessages>'
            + "".join(parts)
            + f"</m:ResponseMessages></m:{operation}Response>"
        )

    @staticmethod
    def _error(operation: str, code: str, text: str, extra: str = "") -> str:
        return (
            f'<m:{operation}ResponseMessage ResponseClass="Error"><m:MessageText>{escape(text)}</m:MessageText>'
            f"<m:ResponseCode>{code}</m:ResponseCode><m:DescriptiveLinkKey>0</m:DescriptiveLinkKey>"
            f"{extra}</m:{operation}ResponseMessage>"
        )

    @staticmethod
    def _success(operation: str, inner: str) -> str:
        return (
            f'<m:{operation}ResponseMessage ResponseClass="Success"><m:ResponseCode>NoError</m:ResponseCode>'
            f"{inner}</m:{operation}ResponseMessage>"
        )

    @staticmethod
    def _mailbox_of_folder(op_elem, fallback: str | None) -> str:
        smtp = op_elem.find(
            f".//{_t('DistinguishedFolderId')}/{_t('Mailbox')}/{_t('EmailAddress')}"
        )
        return (smtp.text if smtp is not None else fallback or "").lower()

    def _folder_id(self, mailbox: str) -> str:
        return base64.b64encode(f"calendar:{mailbox}".encode()).decode()

    def _item_xml(self, item: StoredItem, wanted: set | None = None) -> str:
        elem = copy.deepcopy(item.elem)
        if wanted is not None:
            for child in list(elem):
                key = self._field_key(child)
                if key not in wanted:
                    elem.remove(child)
        item_id = etree.Element(_t("ItemId"), Id=item.id, ChangeKey=f"DwAAABYA{item.changekey:04d}")
        elem.insert(0, item_id)
        if wanted is None or "item:Size" in wanted:
            size = self._new("Size", str(len(etree.tostring(item.elem))))
            elem.append(size)
        return etree.tostring(elem).decode()

    @staticmethod
    def _field_key(child) -> str | tuple:
        if child.tag == _t("ExtendedProperty"):
            return tuple(sorted(child.find(_t("ExtendedFieldURI")).attrib.items()))
        name = _local(child.tag)
        prefix = (
            "item"
            if name in ("Subject", "DateTimeCreated", "Size", "Sensitivity", "MimeContent")
            else "calendar"
        )
        return f"{prefix}:{name}"

    @staticmethod
    def _wanted(shape) -> set | None:
        if shape is None:
            return None
        wanted: set = set()
        for uri in shape.iter(_t("FieldURI")):
            wanted.add(uri.get("FieldURI"))
        for uri in shape.iter(_t("ExtendedFieldURI")):
            wanted.add(tuple(sorted(uri.attrib.items())))
        return wanted

    # --- operations -------------------------------------------------------

    def _op_GetFolder(self, op, anchor):
        parts = []
        for folder in op.find(_m("FolderIds")):
            mailbox = folder.find(f"{_t('Mailbox')}/{_t('EmailAddress')}")
            mailbox = (mailbox.text if mailbox is not None else anchor or "").lower()
            if mailbox in self.unknown_mailboxes:
                parts.append(
                    self._error(
                        "GetFolder",
                        "ErrorNonExistentMailbox",
                        "The SMTP address has no mailbox associated with it.",
                        f'<m:MessageXml><t:Value Name="SmtpAddress">{escape(mailbox)}</t:Value>'
                        "</m:MessageXml>",
                    )
                )
                continue
            if folder.get("Id") in ("root", "msgfolderroot"):
                parts.append(
                    self._success(
                        "GetFolder",
                        f'<m:Folders><t:Folder><t:FolderId Id="{self._folder_id("root:" + mailbox)}" '
                        'ChangeKey="AQAAAA=="/><t:DisplayName>Top of Information Store</t:DisplayName>'
                        "<t:TotalCount>0</t:TotalCount><t:ChildFolderCount>1</t:ChildFolderCount>"
                        "</t:Folder></m:Folders>",
                    )
                )
                continue
            parts.append(
                self._success(
                    "GetFolder",
                    f'<m:Folders><t:CalendarFolder><t:FolderId Id="{self._folder_id(mailbox)}" ChangeKey="AgAAAA=="/>'
                    "<t:FolderClass>IPF.Appointment</t:FolderClass><t:DisplayName>Calendar</t:DisplayName>"
                    "<t:TotalCount>0</t:TotalCount><t:ChildFolderCount>0</t:ChildFolderCount>"
                    "</t:CalendarFolder></m:Folders>",
                )
            )
        return self._messages("GetFolder", parts)

    def _op_SyncFolderItems(self, op, anchor):
        folder = op.find(f"{_m('SyncFolderId')}")[0]
        if folder.tag == _t("FolderId"):
            mailbox = base64.b64decode(folder.get("Id")).decode().split(":", 1)[1]
        else:
            mailbox = self._mailbox_of_folder(op, anchor)
        state_elem = op.find(_m("SyncState"))
        since = 0
        if state_elem is not None and state_elem.text:
            try:
                generation, since_text = base64.b64decode(state_elem.text).decode().split(":")
                since = int(since_text)
            except ValueError:
                generation = ""
            if generation != self._generation:
                return self._messages(
                    "SyncFolderItems",
                    [
                        self._error(
                            "SyncFolderItems",
                            "ErrorInvalidSyncStateData",
                            "Synchronization state data is corrupt or otherwise invalid.",
                            "<m:SyncState /><m:IncludesLastItemInRange>true</m:IncludesLastItemInRange>",
                        )
                    ],
                )
        limit = int(op.findtext(_m("MaxChangesReturned")) or 512)
        wanted = self._wanted(op.find(_m("ItemShape")))
        changed = sorted(
            (i for i in self._items.values() if i.mailbox == mailbox and i.touched_seq > since),
            key=lambda i: i.touched_seq,
        )
        changes, last = [], since
        for item in changed:
            if len(changes) >= limit:
                break
            last = item.touched_seq
            if item.deleted:
                if item.created_seq <= since:
                    changes.append(
                        f'<t:Delete><t:ItemId Id="{item.id}" ChangeKey="AAAA"/></t:Delete>'
                    )
                continue
            kind = "Create" if item.created_seq > since else "Update"
            changes.append(f"<t:{kind}>{self._item_xml(item, wanted)}</t:{kind}>")
        done = last >= max((i.touched_seq for i in changed), default=since)
        if done:
            last = max(last, self._last_seq)
        state = base64.b64encode(f"{self._generation}:{last}".encode()).decode()
        return self._messages(
            "SyncFolderItems",
            [
                self._success(
                    "SyncFolderItems",
                    f"<m:SyncState>{state}</m:SyncState>"
                    f"<m:IncludesLastItemInRange>{'true' if done else 'false'}</m:IncludesLastItemInRange>"
                    f"<m:Changes>{''.join(changes)}</m:Changes>",
                )
            ],
        )

    def _op_GetItem(self, op, anchor):
        wanted = self._wanted(op.find(_m("ItemShape")))
        parts = []
        for ref in op.find(_m("ItemIds")):
            item = self._items.get(ref.get("Id"))
            if item is None or item.deleted:
                parts.append(
                    self._error(
                        "GetItem",
                        "ErrorItemNotFound",
                        "The specified object was not found in the store.",
                    )
                )
                continue
            xml = self._item_xml(item, wanted)
            if item.mime and wanted is not None and "item:MimeContent" in wanted:
                mime = base64.b64encode(item.mime.encode()).decode()
                xml = xml.replace(
                    "</t:CalendarItem>",
                    f'<t:MimeContent CharacterSet="UTF-8">{mime}</t:MimeContent></t:CalendarItem>',
                    1,
                )
            parts.append(self._success("GetItem", f"<m:Items>{xml}</m:Items>"))
        return self._messages("GetItem", parts)

    def _op_CreateItem(self, op, anchor):
        mailbox = self._mailbox_of_folder(op, anchor)
        parts = []
        for elem in op.find(_m("Items")):
            elem = copy.deepcopy(elem)
            if elem.find(_t("UID")) is None:
                self._child(elem, "UID", uuid.uuid4().hex.upper())
            if elem.find(_t("CalendarItemType")) is None:
                self._child(elem, "CalendarItemType", "Single")
            if elem.find(_t("Organizer")) is None:
                org = etree.SubElement(etree.SubElement(elem, _t("Organizer")), _t("Mailbox"))
                self._child(org, "EmailAddress", mailbox)
            self._replace(elem, self._new("DateTimeCreated", _iso(datetime.now(UTC))))
            item = self._store(mailbox, elem)
            parts.append(
                self._success(
                    "CreateItem",
                    f'<m:Items><t:CalendarItem><t:ItemId Id="{item.id}" ChangeKey="DwAAABYA{item.changekey:04d}"/>'
                    "</t:CalendarItem></m:Items>",
                )
            )
        return self._messages("CreateItem", parts)

    def _op_UpdateItem(self, op, anchor):
        parts = []
        for change in op.find(_m("ItemChanges")):
            ref = change.find(_t("ItemId"))
            item = self._items.get(ref.get("Id")) if ref is not None else None
            if item is None or item.deleted:
                parts.append(
                    self._error(
                        "UpdateItem",
                        "ErrorItemNotFound",
                        "The specified object was not found in the store.",
                    )
                )
                continue
            for update in change.find(_t("Updates")):
                kind = _local(update.tag)
                if kind in ("SetItemField", "AppendToItemField"):
                    target = update.find(_t("CalendarItem"))
                    for new in target:
                        self._replace(item.elem, copy.deepcopy(new))
                elif kind == "DeleteItemField":
                    uri = update[0]
                    for child in list(item.elem):
                        key = self._field_key(child)
                        if key == uri.get("FieldURI") or key == tuple(sorted(uri.attrib.items())):
                            item.elem.remove(child)
            self._touch(item)
            parts.append(
                self._success(
                    "UpdateItem",
                    f'<m:Items><t:CalendarItem><t:ItemId Id="{item.id}" ChangeKey="DwAAABYA{item.changekey:04d}"/>'
                    "</t:CalendarItem></m:Items><m:ConflictResults><m:Count>0</m:Count></m:ConflictResults>",
                )
            )
        return self._messages("UpdateItem", parts)

    def _op_DeleteItem(self, op, anchor):
        parts = []
        for ref in op.find(_m("ItemIds")):
            item = self._items.get(ref.get("Id"))
            if item is None or item.deleted:
                parts.append(
                    self._error(
                        "DeleteItem",
                        "ErrorItemNotFound",
                        "The specified object was not found in the store.",
                    )
                )
                continue
            item.deleted = True
            self._touch(item)
            parts.append(self._success("DeleteItem", ""))
        return self._messages("DeleteItem", parts)

    def _op_GetUserAvailability(self, op, anchor):
        window = op.find(f".//{_t('TimeWindow')}")
        lo = _parse(window.findtext(_t("StartTime")))
        hi = _parse(window.findtext(_t("EndTime")))
        view = op.findtext(f".//{_t('RequestedView')}") or "FreeBusy"
        responses = []
        for data in op.find(_m("MailboxDataArray")):
            address = data.findtext(f"{_t('Email')}/{_t('Address')}").lower()
            if address in self.unknown_mailboxes:
                responses.append(
                    '<m:FreeBusyResponse><m:ResponseMessage ResponseClass="Error">'
                    "<m:MessageText>No mailbox with such guid.</m:MessageText>"
                    "<m:ResponseCode>ErrorMailRecipientNotFound</m:ResponseCode>"
                    "<m:DescriptiveLinkKey>0</m:DescriptiveLinkKey></m:ResponseMessage>"
                    "</m:FreeBusyResponse>"
                )
                continue
            events = []
            for item in self._items.values():
                start, end = _parse(item.text("Start")), _parse(item.text("End"))
                if item.mailbox != address or item.deleted or not start or not end:
                    continue
                if not (start < hi and end > lo):
                    continue
                details = ""
                if view.startswith("Detailed"):
                    details = (
                        f"<t:CalendarEventDetails><t:Subject>{escape(item.text('Subject') or '')}"
                        "</t:Subject></t:CalendarEventDetails>"
                    )
                # Times in the request's time zone; Escale asks in a zero-bias (UTC) zone.
                start, end = start.astimezone(UTC), end.astimezone(UTC)
                events.append(
                    f"<t:CalendarEvent><t:StartTime>{start.strftime('%Y-%m-%dT%H:%M:%S')}</t:StartTime>"
                    f"<t:EndTime>{end.strftime('%Y-%m-%dT%H:%M:%S')}</t:EndTime>"
                    f"<t:BusyType>{item.text('LegacyFreeBusyStatus') or 'Busy'}</t:BusyType>{details}"
                    "</t:CalendarEvent>"
                )
            responses.append(
                '<m:FreeBusyResponse><m:ResponseMessage ResponseClass="Success">'
                "<m:ResponseCode>NoError</m:ResponseCode></m:ResponseMessage>"
                f"<m:FreeBusyView><t:FreeBusyViewType>{view}</t:FreeBusyViewType>"
                f"<t:CalendarEventArray>{''.join(events)}</t:CalendarEventArray></m:FreeBusyView>"
                "</m:FreeBusyResponse>"
            )
        return (
            f'<m:GetUserAvailabilityResponse xmlns:m="{M}" xmlns:t="{T}"><m:FreeBusyResponseArray>'
            + "".join(responses)
            + "</m:FreeBusyResponseArray></m:GetUserAvailabilityResponse>"
        )


@pytest.fixture
def ews_replica():
    """A fresh EWS protocol replica on a free loopback port, per test."""
    replica = EwsReplica().start()
    yield replica
    replica.stop()
