"""``escale retention run``, as an operator runs it, on this run's databases."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import pytest

from tests.support.data import make_place

from .conftest import insert_booking

pytestmark = pytest.mark.integration


def test_the_command_deletes_what_is_past_its_time(booking_db_url, notify_db_url, gateway_db_url):
    place = make_place(booking_db_url, desks=1, rooms=0, people=1)
    now = datetime.now(timezone.utc)
    old = insert_booking(booking_db_url, place.desks[0], place.people[0], now - timedelta(days=420),
                         now - timedelta(days=420) + timedelta(hours=4))
    kept = insert_booking(booking_db_url, place.desks[0], place.people[0], now - timedelta(days=20),
                          now - timedelta(days=20) + timedelta(hours=4))
    with psycopg.connect(gateway_db_url) as conn:
        audit_id = conn.execute(
            "INSERT INTO audit_log (at, actor_role, action, operation, method, status) "
            "VALUES (%s, 'admin', 'import.people', 'import_people', 'POST', 200) RETURNING id",
            (now - timedelta(days=400),)).fetchone()[0]

    command = Path(sys.executable).with_name("escale")
    done = subprocess.run(
        [str(command), "retention", "run"], capture_output=True, text=True, timeout=120,
        env={**os.environ, "ESCALE_BOOKING_DATABASE_URL": booking_db_url,
             "ESCALE_NOTIFY_DATABASE_URL": notify_db_url, "ESCALE_GATEWAY_DATABASE_URL": gateway_db_url})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["booking", "notify", "gateway"]
    assert "bookings" in lines[0] and "audit_log" in lines[2]

    with psycopg.connect(booking_db_url) as conn:
        left = {str(r[0]) for r in conn.execute("SELECT id FROM booking WHERE id = ANY(%s::uuid[])",
                                                ([old, kept],))}
    assert left == {kept}
    with psycopg.connect(gateway_db_url) as conn:
        assert conn.execute("SELECT count(*) FROM audit_log WHERE id = %s", (audit_id,)).fetchone()[0] == 0
