"""A real Radicale CalDAV server for the calendar sync tests.

``radicale`` (session): Radicale from PyPI started once per test run on a free
loopback port, with storage in a temporary folder and no authentication
(``--auth-type none``: Radicale denies everything by default, STACK-NOTES).
Tests play "Thunderbird" through ``RadicaleServer``'s plain HTTP helpers
(make a calendar, put, move, delete an event) and never through the code
under test, so what the sync engine reads is what a real client wrote.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from tests.support.servers import free_port


def ical_event(uid: str, start: datetime, end: datetime | None, summary: str = "Réunion",
               organiser: str | None = None, created: datetime | None = None, extra: str = "",
               tzid: str | None = None) -> str:
    """A VCALENDAR with one VEVENT, as a calendar client would write it."""

    def stamp(moment):
        if tzid:
            return f";TZID={tzid}:{moment.strftime('%Y%m%dT%H%M%S')}"
        return ":" + moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")

    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Tests//Thunderbird-like//EN", "BEGIN:VEVENT",
             f"UID:{uid}", "DTSTAMP:" + datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ"),
             "DTSTART" + stamp(start)]
    if end is not None:
        lines.append("DTEND" + stamp(end))
    lines.append(f"SUMMARY:{summary}")
    if organiser:
        lines.append(f"ORGANIZER:mailto:{organiser}")
    if created:
        lines.append("CREATED:" + created.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ"))
    if extra:
        lines += extra.strip().splitlines()
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "\r\n".join(lines) + "\r\n"


@dataclass
class RadicaleServer:
    url: str
    storage: Path

    def __post_init__(self):
        self.http = requests.Session()

    def new_calendar(self, owner: str = "rooms") -> str:
        """A new empty calendar collection; returns its path (a calendar_ref)."""
        self.http.request("MKCOL", f"{self.url}/{owner}/")  # 405 once it exists
        path = f"/{owner}/{uuid.uuid4().hex[:12]}/"
        response = self.http.request("MKCALENDAR", self.url + path)
        assert response.status_code == 201, response.text
        return path

    def put(self, calendar: str, name: str, ical: str) -> str:
        response = self.http.put(f"{self.url}{calendar}{name}.ics", data=ical.encode(),
                                 headers={"Content-Type": "text/calendar; charset=utf-8"})
        assert response.status_code in (201, 204), response.text
        return f"{calendar}{name}.ics"

    def delete(self, href: str) -> None:
        response = self.http.delete(self.url + href)
        assert response.status_code in (200, 204), response.text

    def get(self, href: str) -> str | None:
        response = self.http.get(self.url + href)
        return response.text if response.status_code == 200 else None

    def events(self, calendar: str) -> dict[str, str]:
        """href -> iCalendar text of every item in a calendar (a full REPORT)."""
        body = ('<?xml version="1.0"?><c:calendar-query xmlns:d="DAV:" '
                'xmlns:c="urn:ietf:params:xml:ns:caldav"><d:prop><c:calendar-data/></d:prop>'
                '<c:filter><c:comp-filter name="VCALENDAR"/></c:filter></c:calendar-query>')
        response = self.http.request("REPORT", self.url + calendar, data=body,
                                     headers={"Depth": "1", "Content-Type": "application/xml"})
        assert response.status_code == 207, response.text
        from lxml import etree

        tree = etree.fromstring(response.content)
        ns = {"d": "DAV:", "c": "urn:ietf:params:xml:ns:caldav"}
        return {r.findtext("d:href", namespaces=ns): r.findtext(".//c:calendar-data", namespaces=ns)
                for r in tree.findall("d:response", ns) if r.find(".//c:calendar-data", ns) is not None}

    def forget_sync_tokens(self, calendar: str) -> None:
        """Make Radicale refuse every sync token it gave for this calendar, as a
        server does once a token expired (RFC 6578 valid-sync-token)."""
        cache = self.storage / "collection-root" / calendar.strip("/") / ".Radicale.cache" / "sync-token"
        shutil.rmtree(cache, ignore_errors=True)


def start_radicale(folder: Path) -> tuple[subprocess.Popen, RadicaleServer]:
    """Start Radicale on a free loopback port with its storage in ``folder``;
    returns once it answers (the benchmark uses it too)."""
    port = free_port()
    log_file = open(folder / "radicale.log", "wb")  # a file, not a pipe: a full pipe would stall it
    process = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--server-hosts", f"127.0.0.1:{port}",
         "--storage-filesystem-folder", str(folder / "store"), "--auth-type", "none",
         "--logging-level", "warning"],
        stdout=subprocess.DEVNULL, stderr=log_file,
    )
    log_file.close()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.request("OPTIONS", url + "/", timeout=1)
            return process, RadicaleServer(url, folder / "store")
        except requests.ConnectionError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError("Radicale did not start: " + (folder / "radicale.log").read_text()[-2000:])
            time.sleep(0.1)


def stop_radicale(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def radicale():
    folder = Path(tempfile.mkdtemp(prefix="escale-radicale-"))
    process, server = start_radicale(folder)
    try:
        yield server
    finally:
        stop_radicale(process)
        shutil.rmtree(folder, ignore_errors=True)
