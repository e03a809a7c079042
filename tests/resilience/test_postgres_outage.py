"""PostgreSQL stops under a steady booking load, then comes back.

The booking database lives in a PostgreSQL cluster of this test's own
(``initdb`` on a free port, a few seconds), so stopping it disturbs no one
else. Clients must get 503 with a clear message while it is away (never a
500, never a hang), then succeed again without any process restarted.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest

from tests.support.data import make_place
from tests.support.processes import booking_process, gateway_process
from tests.support.servers import REDIS_URL, _rabbitmqctl, create_database, drop_database, free_port

from .system import Load, new_vhost, wait_until

pytestmark = pytest.mark.integration


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if not found:
        pytest.fail("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin")
    return Path(found[-1]).parent


class PrivatePostgres:
    """A throw-away PostgreSQL cluster on 127.0.0.1:<free port>, trust auth."""

    def __init__(self, root: Path):
        self.bin = _pg_bin()
        self.data = root / "data"
        self.port = free_port()
        self.as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
        self.log = root / "postgres.log"

    def _run(self, *argv: str, timeout: float = 60):
        subprocess.run([*self.as_postgres, *argv], check=True, capture_output=True, timeout=timeout,
                       cwd="/tmp")

    def init(self):
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")
        return self

    def start(self):
        options = (f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.log),
                  "-w", "-t", "60", "start")

    def stop(self):
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create(self, database: str) -> str:
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{database}"')
        return self.url(database)


@pytest.fixture(scope="module")
def outage_system():
    from booking.adapters.migrate import upgrade as booking_upgrade
    from gateway.adapters.migrate import upgrade as gateway_upgrade

    # Not under pytest's own temporary folder: the postgres user must reach it.
    root = Path(tempfile.mkdtemp(prefix="escale-pg-"))
    pg = PrivatePostgres(root).init()
    pg.start()
    vhost, amqp_uri = new_vhost(f"pg-{pg.port}")
    gateway_db = f"escale_res_pg{pg.port}_gateway"
    processes = []
    try:
        booking_url = pg.create("escale_booking")
        booking_upgrade(booking_url)
        gateway_url = create_database(gateway_db)
        gateway_upgrade(gateway_url)
        processes = [booking_process(amqp_uri, booking_url), booking_process(amqp_uri, booking_url),
                     gateway_process(amqp_uri, gateway_url, ESCALE_REDIS_URL=REDIS_URL)]
        with ThreadPoolExecutor(len(processes)) as pool:
            list(pool.map(lambda process: process.start(90), processes))
        yield pg, booking_url, gateway_url, processes[-1]
    finally:
        with ThreadPoolExecutor(len(processes) or 1) as pool:
            list(pool.map(lambda process: process.stop(), processes))
        try:
            pg.stop()
        except subprocess.CalledProcessError:
            pass
        drop_database(gateway_db)
        _rabbitmqctl("delete_vhost", vhost)
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.timeout(240)
def test_postgresql_outage_gives_clear_503s_then_bookings_succeed_again(outage_system):
    from gateway.adapters.tokens import issue_token

    pg, booking_url, gateway_url, gateway = outage_system
    place = make_place(booking_url, desks=8, rooms=0, people=8)
    tokens = [issue_token(gateway_url, email=e, role="agent", person_id=p)
              for p, e in zip(place.people, place.emails)]
    load = Load([gateway.url], place, tokens, pause=0.05).start()
    try:
        load.wait_for(5, timeout=30)
        pg.stop()
        down_from = len(load.outcomes)
        try:
            wait_until(lambda: len([o for o in load.outcomes[down_from:] if o.status == 503]) >= 3, 40,
                       what="503 answers while PostgreSQL is down")
            time.sleep(1)
        finally:
            down_to = len(load.outcomes)
            pg.start()
        load.wait_for(5, timeout=60)
    finally:
        outcomes = load.stop()

    during = outcomes[down_from + 1:down_to]  # the first may have been answered before the stop
    assert during, "no request was made while PostgreSQL was down"
    assert {o.status for o in during} == {503}, f"answers while down: {[o.status for o in during]}"
    for o in during:
        assert o.body["error"] == "service_unavailable" and o.body["message"]
        assert o.seconds < 9, f"a request hung {o.seconds:.1f}s instead of failing fast"
    statuses = {o.status for o in outcomes}
    assert statuses <= {201, 503}, f"unexpected answers (never 500): {statuses}"
    assert any(o.status == 201 for o in outcomes[down_to:]), "no booking succeeded after the restart"
    acknowledged = [o.booking_id for o in outcomes if o.status == 201]
    with psycopg.connect(booking_url) as conn:
        stored = conn.execute("SELECT count(*) FROM booking WHERE id = ANY(%s::uuid[])",
                              (acknowledged,)).fetchone()[0]
    assert stored == len(acknowledged), "an acknowledged booking is missing after the outage"
