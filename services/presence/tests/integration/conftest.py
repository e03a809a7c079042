"""Use cases against the real PostgreSQL and Redis, with a booking port of our own.

The booking port is presence's own interface (``usecases.BookingPort``), so
a fake of it is fair here; the service-level tests use the real booking
service. Each test gets a Redis prefix of its own under the run's prefix.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest
import redis

from presence.adapters.db import open_pool
from presence.adapters.readmodel import ReadModel
from presence.adapters.store import PresenceStore
from presence.usecases import Config, Ports
from tests.support.presence import delete_prefix
from tests.support.servers import REDIS_URL, create_database, drop_database

PARIS = ZoneInfo("Europe/Paris")


class FakeBooking:
    """booking.active_bookings / export_people / list_sites over in-memory data."""

    def __init__(self):
        self.people: dict[str, dict] = {}
        self.sites: dict[str, str] = {}
        self.bookings: dict[str, dict] = {}  # id -> event-shaped item (active only)
        self.calls: list[str] = []

    def add_site(self, name="Hôtel de Ville") -> str:
        sid = str(uuid.uuid4())
        self.sites[sid] = name
        return sid

    def add_person(self, display_name, department="", teams=(), **contacts) -> str:
        pid = str(uuid.uuid4())
        given, _, family = display_name.partition(" ")
        self.people[pid] = {
            "id": pid, "email": f"{pid[:8]}@mairie-test.fr", "display_name": display_name,
            "given_name": given, "family_name": family, "department": department, "job_title": "",
            "phone_extension": contacts.pop("phone_extension", ""), "language": "fr", "active": True,
            "softphone": "", "video_url": "", "chat_handle": "", "preferred_channel": "",
            "teams": [{"id": t, "code": t[:4], "name": f"Team {t[:4]}"} for t in teams], **contacts,
        }
        return pid

    def active_bookings(self, start, end, after=None, limit=2000):
        self.calls.append("active_bookings")
        items = sorted(self.bookings.values(), key=lambda i: i["booking"]["id"])
        items = [i for i in items if after is None or i["booking"]["id"] > after][:limit]
        return {"items": items, "next": items[-1]["booking"]["id"] if len(items) == limit else None}

    def export_people(self, after=None, limit=1000, updated_since=None, person_ids=None):
        self.calls.append("export_people")
        people = sorted(self.people.values(), key=lambda p: p["id"])
        if person_ids is not None:
            people = [p for p in people if p["id"] in person_ids]
        people = [p for p in people if after is None or p["id"] > after][:limit]
        return {"items": people, "next": people[-1]["id"] if len(people) == limit else None}

    def list_sites(self):
        return [{"id": k, "name": v} for k, v in self.sites.items()]


def booking_event(event_type, person_id, site_id, start, end, kind="desk", booking_id=None,
                  event_id=None, status=None):
    booking_id = booking_id or str(uuid.uuid4())
    resource_id = str(uuid.uuid4())
    status = status or {"booking.created": "confirmed", "booking.checked_in": "checked_in",
                        "booking.cancelled": "cancelled", "booking.released": "released",
                        "booking.ended": "ended"}[event_type]
    return {
        "v": 1, "event_id": event_id or str(uuid.uuid4()), "type": event_type,
        "occurred_at": datetime.now(timezone.utc).isoformat(),
        "booking": {"id": booking_id, "status": status, "start": start.isoformat(), "end": end.isoformat(),
                    "resource_id": resource_id, "resource_kind": kind, "resource_name": f"{kind} 1",
                    "site_id": site_id, "floor_id": str(uuid.uuid4()), "zone_id": str(uuid.uuid4()),
                    "person_id": person_id},
        "person": {"id": person_id, "email": "x@y.fr", "display_name": "X", "language": "fr"},
        "resource": {"id": resource_id, "code": "D1", "name": f"{kind} 1", "kind": kind, "site_id": site_id},
        "site": {"id": site_id, "name": "Hôtel de Ville", "timezone": "Europe/Paris"},
    }


@pytest.fixture(scope="session")
def usecase_db_url(run_id):
    """A database of these tests' own: reconciliation with the fake booking
    port must never touch the facts of the real service under test."""
    from presence.adapters.migrate import upgrade

    name = f"escale_test_{run_id}_presence_uc"
    url = create_database(name)
    upgrade(url)
    yield url
    drop_database(name)


@pytest.fixture(scope="session")
def presence_pool(usecase_db_url):
    pool = open_pool(usecase_db_url, 10)
    pool.wait()
    yield pool
    pool.close()


@pytest.fixture
def ports(presence_pool, presence_redis_prefix):
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    prefix = f"{presence_redis_prefix}t{uuid.uuid4().hex[:8]}:"
    model = ReadModel(client, prefix)
    fake = FakeBooking()
    yield Ports(PresenceStore(presence_pool), model, fake, Config(PARIS, "Europe/Paris", time(13), 7))
    delete_prefix(client, prefix)
    client.close()


def local(day, hh, mm=0):
    return datetime.combine(day, time(hh, mm), PARIS)
