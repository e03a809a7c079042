"""Calendar sync benchmark: one incremental round over many room calendars
against a real Radicale, and the HTTP requests it makes.

Starts Radicale on loopback with its own storage (seeded straight on disk:
N room calendars of E events each), a fresh booking database with a site of
N rooms mapped to them, then times the sync engine's rounds for that site:

* the first round (a full listing of every calendar, every meeting booked);
* idle incremental rounds (nothing changed anywhere);
* busy incremental rounds: a few percent of the calendars changed remotely
  (one meeting moved in each) and as many bookings made in Escale to push.

Calls are the requests the CalDAV backend sent (one sync-collection REPORT
per calendar carries changed items' data; one PUT per pushed booking).
Figures print as JSON; percentiles over the repeated rounds. For scale, the
same run times the idle round's own REPORTs sent alone in a loop (the
floor an engine cannot beat against this server).

    .venv/bin/python bench/calendar_sync.py [--rooms 500] [--events 4] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:] = [str(ROOT)] + [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]

import psycopg  # noqa: E402
import requests  # noqa: E402

from booking import usecases  # noqa: E402
from booking.adapters.db import open_pool  # noqa: E402
from booking.adapters.migrate import upgrade as upgrade_booking  # noqa: E402
from booking.adapters.store import BookingStore  # noqa: E402
from booking.calendars import usecases as calendars  # noqa: E402
from booking.calendars.caldav import SYNC_BODY  # noqa: E402
from booking.domain.access import Actor  # noqa: E402
from tests.support.data import make_place  # noqa: E402
from tests.support.radicale import ical_event, start_radicale, stop_radicale  # noqa: E402
from tests.support.servers import create_database, drop_database  # noqa: E402

ADMIN = Actor(person_id=None, role="admin")


def percentiles(samples: list[float]) -> dict:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"p50": round(pick(0.5), 3), "p95": round(pick(0.95), 3), "max": round(ordered[-1], 3),
            "mean": round(statistics.fmean(ordered), 3)}


def seed_storage(store: Path, rooms: int, events: int, base: datetime) -> list[str]:
    """Write the calendars as Radicale stores them (a folder per collection with
    its .Radicale.props, one .ics per item): seconds instead of minutes of PUTs."""
    refs = []
    for r in range(rooms):
        ref = f"/rooms/r{r:04d}/"
        folder = store / "collection-root" / "rooms" / f"r{r:04d}"
        folder.mkdir(parents=True)
        (folder / ".Radicale.props").write_text(json.dumps({"tag": "VCALENDAR", "D:displayname": f"Salle {r}"}))
        for e in range(events):
            start = base + timedelta(days=e // 4, hours=8 + 2 * (e % 4))
            (folder / f"e{e}.ics").write_text(
                ical_event(f"r{r}-e{e}@bench", start, start + timedelta(minutes=90), f"Réunion {e}"))
        refs.append(ref)
    return refs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rooms", type=int, default=500)
    parser.add_argument("--events", type=int, default=4, help="events per room calendar")
    parser.add_argument("--rounds", type=int, default=5, help="idle and busy rounds each")
    parser.add_argument("--changed", type=float, default=0.05, help="share of calendars changed per busy round")
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="escale-bench-radicale-"))
    base = (datetime.now(timezone.utc) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    refs = seed_storage(folder / "store", args.rooms, args.events, base)
    process, radicale = start_radicale(folder)
    db_name = f"escale_bench_calendar_{uuid.uuid4().hex[:8]}"
    db_url = create_database(db_name)
    try:
        upgrade_booking(db_url)
        place = make_place(db_url, desks=0, rooms=args.rooms, people=3)
        pool = open_pool(db_url, 4)
        store = BookingStore(pool)
        backends = calendars.BackendPool(env={})
        calendars.set_connection(store, ADMIN, place.site_id,
                                 {"backend": "caldav", "url": radicale.url, "interval_seconds": 3600})
        for room, ref in zip(place.rooms, refs):
            calendars.map_room(store, ADMIN, room, ref)

        def sync() -> dict:
            started = time.perf_counter()
            run = calendars.sync_now(store, backends, datetime.now(timezone.utc), ADMIN, place.site_id)
            run["wall"] = time.perf_counter() - started
            assert run["status"] == "ok", run
            return run

        first = sync()
        # Idle rounds, each followed by the floor: the very REPORTs an idle round
        # sends (same bodies, same stored tokens, one HTTP session) with nothing
        # else around them. Interleaved, so both see the same machine load.
        with psycopg.connect(db_url) as conn:
            tokens = dict(conn.execute(
                "SELECT calendar_ref, sync_token FROM calendar_room WHERE site_id = %s", (place.site_id,)).fetchall())
        session = requests.Session()
        idle, floor = [], []
        for _ in range(args.rounds):
            idle.append(sync())
            started = time.perf_counter()
            for ref in refs:
                answer = session.request("REPORT", radicale.url + ref, data=SYNC_BODY.format(token=tokens[ref]).encode(),
                                         headers={"Depth": "1", "Content-Type": "application/xml; charset=utf-8"})
                assert answer.status_code == 207
            floor.append(time.perf_counter() - started)

        changed_count = max(1, int(args.rooms * args.changed))
        busy = []
        for n in range(args.rounds):
            for i in range(changed_count):
                r = (n * changed_count + i) % args.rooms
                start = base + timedelta(days=20 + n, hours=7)  # a free slot, later each round
                radicale.put(refs[r], "e0", ical_event(f"r{r}-e0@bench", start, start + timedelta(minutes=30),
                                                       "Réunion 0 (déplacée)"))
            for i in range(changed_count):
                room = place.rooms[(n * changed_count + i + args.rooms // 2) % args.rooms]
                slot = base + timedelta(days=25 + n, hours=8 + (i % 10), minutes=0)
                usecases.create_booking(store, datetime.now(timezone.utc), ADMIN,
                                        {"resource_id": room, "start": slot.isoformat(),
                                         "end": (slot + timedelta(minutes=30)).isoformat(),
                                         "person_id": place.people[0], "title": "Bench"})
            busy.append(sync())

        with psycopg.connect(db_url) as conn:
            bookings = conn.execute("SELECT count(*) FROM booking WHERE status = 'confirmed'").fetchone()[0]
        idle_wall = [r["wall"] for r in idle]
        busy_wall = [r["wall"] for r in busy]
        report = {
            "machine": {"cpus": os.cpu_count(), "note": "shared 2-core machine; other helpers' tests may run"},
            "rooms": args.rooms, "events_per_room": args.events, "bookings_after": bookings,
            "first_round": {"seconds": round(first["wall"], 3), "calls": first["calls"],
                            "created": first["counts"]["created"]},
            "idle_incremental_round": {"seconds": percentiles(idle_wall),
                                       "calls": sorted({r["calls"] for r in idle}),
                                       "calls_per_room": round(statistics.fmean(r["calls"] for r in idle) / args.rooms, 3),
                                       "ms_per_room_p50": round(1000 * statistics.median(idle_wall) / args.rooms, 2)},
            "busy_incremental_round": {"changed_calendars": changed_count, "escale_bookings_pushed": changed_count,
                                       "seconds": percentiles(busy_wall),
                                       "calls": sorted({r["calls"] for r in busy}),
                                       "moved": sorted({r["counts"]["moved"] for r in busy}),
                                       "pushed": sorted({r["counts"]["pushed"] for r in busy})},
            "floor_same_reports_alone_seconds": percentiles(floor),
            "ratio_idle_round_to_floor_p50": round(statistics.median(idle_wall) / statistics.median(floor), 2),
        }
        print(json.dumps(report, indent=2))
        pool.close()
    finally:
        stop_radicale(process)
        shutil.rmtree(folder, ignore_errors=True)
        drop_database(db_name)


if __name__ == "__main__":
    main()
