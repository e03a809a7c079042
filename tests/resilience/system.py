"""A small Escale install for fault injection: two processes of each kind,
a steady booking load from a client thread, and what the stores say after.

The install has its own RabbitMQ node (a second ``rabbitmq-server`` on free
ports, started in seconds) and its own databases, its queues declared the
way an operator does it (``escale broker setup``), so a test may kill and
restart its processes, and its broker, without disturbing anyone else's
tests on this machine.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import httpx
import psycopg
from kombu import Connection

from tests.support.data import Place, make_place
from tests.support.presence import presence_process
from tests.support.processes import BIN, ROOT, Process, booking_process, gateway_process
from tests.support.servers import AMQP_BASE, REDIS_URL, _rabbitmqctl, create_database, drop_database, free_port
from tests.support.clock import paris_today

# Lower than the default (100), so a message that keeps failing reaches the
# dead-letter queue in seconds, yet above the redeliveries a crash and a few
# transient failures cause; the same value for `broker setup` and the
# services (a queue's arguments must match wherever it is declared).
DELIVERY_LIMIT = "10"
# The day a day booking covers: its middle, whatever the site's time zone.
LOCAL_DAY = "(lower(during) + (upper(during) - lower(during)) / 2)::date::text"


def wait_until(predicate, timeout: float, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def new_vhost(tag: str) -> tuple[str, str]:
    vhost = f"escale-resilience-{tag}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    return vhost, f"{AMQP_BASE}/{quote(vhost, safe='')}"


def broker_setup(amqp_uri: str) -> str:
    """Declare every consumer queue as the operator does, before any service runs."""
    proc = subprocess.run(
        [str(BIN / "escale"), "broker", "setup"], cwd=ROOT, capture_output=True, text=True, timeout=120,
        env={**os.environ, "ESCALE_AMQP_URI": amqp_uri, "ESCALE_AMQP_DELIVERY_LIMIT": DELIVERY_LIMIT},
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def queue_depth(amqp_uri: str, queue: str) -> int:
    with Connection(amqp_uri, connect_timeout=5) as conn:
        return conn.channel().queue_declare(queue, passive=True).message_count


def restarted(process: Process, timeout: float = 90) -> Process:
    """A new run of the same command (a Process starts once)."""
    again = Process(process.name, process.argv, process.env, process.health_url)
    again.url = getattr(process, "url", None)
    return again.start(timeout)


class PrivateRabbit:
    """A RabbitMQ node of the test's own, with no plugins, on free ports.

    Run as the ``rabbitmq`` user when we are root (the Debian package's
    layout: its Erlang cookie, which ``rabbitmqctl`` needs, is in that
    user's home)."""

    def __init__(self):
        server = Path("/usr/lib/rabbitmq/bin/rabbitmq-server")
        self.server = str(server) if server.exists() else shutil.which("rabbitmq-server")
        ctl = Path("/usr/lib/rabbitmq/bin/rabbitmqctl")
        self.ctl_path = str(ctl) if ctl.exists() else shutil.which("rabbitmqctl")
        if not self.server or not self.ctl_path:
            raise RuntimeError("rabbitmq-server not found (Debian package rabbitmq-server)")
        self.port, self.dist_port = free_port(), free_port()
        self.node = f"escale{self.port}@localhost"
        self.dir = Path(tempfile.mkdtemp(prefix="escale-rmq-"))
        (self.dir / "enabled_plugins").write_text("[].\n")
        self.as_user: list[str] = []
        self.home = os.environ.get("HOME", "/root")
        if os.geteuid() == 0:
            try:
                user = pwd.getpwnam("rabbitmq")
            except KeyError:
                user = None
            if user is not None:
                self.as_user = ["runuser", "-u", "rabbitmq", "--"]
                self.home = user.pw_dir
                for path in (self.dir, self.dir / "enabled_plugins"):
                    shutil.chown(path, "rabbitmq", "rabbitmq")
        self.amqp_uri = f"amqp://guest:guest@127.0.0.1:{self.port}/"
        self.proc: subprocess.Popen | None = None

    def _env(self) -> list[str]:
        return ["env", f"HOME={self.home}", f"RABBITMQ_NODENAME={self.node}",
                "RABBITMQ_NODE_IP_ADDRESS=127.0.0.1", f"RABBITMQ_NODE_PORT={self.port}",
                f"RABBITMQ_DIST_PORT={self.dist_port}", f"RABBITMQ_MNESIA_BASE={self.dir}/mnesia",
                f"RABBITMQ_LOG_BASE={self.dir}/log", f"RABBITMQ_ENABLED_PLUGINS_FILE={self.dir}/enabled_plugins",
                f"RABBITMQ_PID_FILE={self.dir}/pid", f"RABBITMQ_CONFIG_FILE={self.dir}/rabbitmq"]

    def ctl(self, *args: str, timeout: float = 120) -> None:
        subprocess.run([*self.as_user, *self._env(), self.ctl_path, "-n", self.node, *args],
                       check=True, capture_output=True, timeout=timeout, cwd="/tmp")

    def start(self) -> "PrivateRabbit":
        self.proc = subprocess.Popen([*self.as_user, *self._env(), self.server], cwd="/tmp",
                                     stdout=open(self.dir / "stdout.log", "ab"), stderr=subprocess.STDOUT,
                                     start_new_session=True)
        try:
            self.ctl("wait", str(self.dir / "pid"), "--timeout", "90")
        except subprocess.CalledProcessError as exc:
            log = (self.dir / "stdout.log").read_text(errors="replace")[-2000:]
            self.stop()
            raise RuntimeError(f"private RabbitMQ did not start: {exc.stderr!r}\n{log}") from exc
        return self

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")

    def stop(self) -> None:
        try:
            self.ctl("stop", timeout=60)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired):
            pass
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class Outcome:
    status: int  # 0: no answer (connection error or client timeout)
    seconds: float
    booking_id: str | None
    person: str
    desk: str
    day: str
    body: dict | None = None


@dataclass
class Load:
    """Books desks one request at a time from a thread, alternating gateways.

    Request ``i`` books desk ``i % n`` for person ``i % n`` on day
    ``1 + i // n``: no two requests compete, so every refusal is a fault.
    Each request carries its own Idempotency-Key, as a careful client's does."""

    gateways: list[str]
    place: Place
    tokens: list[str]
    pause: float = 0.02
    timeout: float = 15.0
    outcomes: list[Outcome] = field(default_factory=list)

    def __post_init__(self):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._next = 0

    def start(self) -> "Load":
        self._thread.start()
        return self

    def stop(self) -> list[Outcome]:
        self._stop.set()
        self._thread.join(self.timeout + 5)
        return list(self.outcomes)

    def acknowledged(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 201]

    def _run(self):
        n = len(self.tokens)
        with httpx.Client(timeout=self.timeout) as client:
            while not self._stop.is_set():
                i = self._next
                self._next += 1
                person, desk = self.place.people[i % n], self.place.desks[i % n]
                day = (paris_today() + timedelta(days=1 + i // n)).isoformat()
                started = time.monotonic()
                try:
                    answer = client.post(
                        f"{self.gateways[i % len(self.gateways)]}/api/v1/bookings",
                        json={"resource_id": desk, "date": day, "period": "day"},
                        headers={"Authorization": f"Bearer {self.tokens[i % n]}",
                                 "Idempotency-Key": str(uuid.uuid4())},
                    )
                    status = answer.status_code
                    body = answer.json() if answer.headers.get("content-type", "").startswith(
                        "application/json") else None
                except httpx.HTTPError:
                    status, body = 0, None
                booking_id = body.get("id") if status == 201 and isinstance(body, dict) else None
                self.outcomes.append(Outcome(status, time.monotonic() - started, booking_id,
                                             person, desk, day, body))
                self._stop.wait(self.pause)

    def wait_for(self, count: int, timeout: float, status: int = 201):
        start = len([o for o in self.outcomes if o.status == status])
        wait_until(lambda: len([o for o in self.outcomes if o.status == status]) >= start + count,
                   timeout, what=f"{count} more answers {status}")


class System:
    """Booking, presence and gateway processes (``replicas`` of each) on their
    own RabbitMQ node and databases."""

    def __init__(self, replicas: int = 2):
        self.tag = uuid.uuid4().hex[:8]
        self.replicas = replicas
        try:
            self.rabbit = PrivateRabbit().start()
        except RuntimeError:  # a free port taken in between: once more, on others
            self.rabbit = PrivateRabbit().start()
        self.amqp_uri = self.rabbit.amqp_uri
        self.db_names = {k: f"escale_res_{self.tag}_{k}" for k in ("booking", "presence", "gateway")}
        self.urls: dict[str, str] = {}
        self.redis_prefix = f"escale-res-{self.tag}:presence:"
        self.bookings: list[Process] = []
        self.presences: list[Process] = []
        self.gateways: list[Process] = []

    @property
    def processes(self) -> list[Process]:
        return self.bookings + self.presences + self.gateways

    def start(self) -> "System":
        from booking.adapters.migrate import upgrade as booking_upgrade
        from gateway.adapters.migrate import upgrade as gateway_upgrade
        from presence.adapters.migrate import upgrade as presence_upgrade

        for key, upgrade in (("booking", booking_upgrade), ("presence", presence_upgrade),
                             ("gateway", gateway_upgrade)):
            self.urls[key] = create_database(self.db_names[key])
            upgrade(self.urls[key])
        self.setup_output = broker_setup(self.amqp_uri)
        env = {"ESCALE_AMQP_DELIVERY_LIMIT": DELIVERY_LIMIT}
        self.bookings = [booking_process(self.amqp_uri, self.urls["booking"], **env)
                         for _ in range(self.replicas)]
        self.presences = [presence_process(self.amqp_uri, self.urls["presence"], self.redis_prefix, **env)
                          for _ in range(self.replicas)]
        self.gateways = [gateway_process(self.amqp_uri, self.urls["gateway"], ESCALE_REDIS_URL=REDIS_URL,
                                         ESCALE_PRESENCE_REDIS_PREFIX=self.redis_prefix)
                         for _ in range(self.replicas)]
        # Started side by side: each waits for its own readiness.
        with ThreadPoolExecutor(len(self.processes)) as pool:
            list(pool.map(lambda process: process.start(90), self.processes))
        return self

    def stop(self):
        with ThreadPoolExecutor(len(self.processes) or 1) as pool:
            list(pool.map(lambda process: process.stop(), self.processes))
        for name in self.db_names.values():
            drop_database(name)
        self.rabbit.stop()
        import redis

        from tests.support.presence import delete_prefix

        client = redis.Redis.from_url(REDIS_URL)
        delete_prefix(client, f"escale-res-{self.tag}:")
        client.close()

    def tokens_for(self, place: Place) -> list[str]:
        from gateway.adapters.tokens import issue_token

        return [issue_token(self.urls["gateway"], email=email, role="agent", person_id=pid)
                for pid, email in zip(place.people, place.emails)]

    def place(self, size: int = 12) -> Place:
        return make_place(self.urls["booking"], desks=size, rooms=0, people=size)

    def load(self, place: Place, **kw) -> Load:
        return Load([g.url for g in self.gateways], place, self.tokens_for(place), **kw)

    # -- what the stores say ------------------------------------------------------------
    def bookings_of(self, ids: list[str]) -> dict[str, dict]:
        with psycopg.connect(self.urls["booking"]) as conn:
            rows = conn.execute(
                f"SELECT id::text, resource_id::text, person_id::text, {LOCAL_DAY}, status "
                "FROM booking WHERE id = ANY(%s::uuid[])", (ids,)).fetchall()
        return {r[0]: {"resource_id": r[1], "person_id": r[2], "day": r[3], "status": r[4]} for r in rows}

    def bookings_per_person_day(self, person_ids: list[str]) -> dict[tuple[str, str], int]:
        with psycopg.connect(self.urls["booking"]) as conn:
            rows = conn.execute(
                f"SELECT person_id::text, {LOCAL_DAY}, count(*) FROM booking "
                "WHERE person_id = ANY(%s::uuid[]) AND status <> 'cancelled' GROUP BY 1, 2",
                (person_ids,)).fetchall()
        return {(r[0], r[1]): r[2] for r in rows}

    def created_events(self, booking_ids: list[str]) -> dict[str, list[tuple[str, bool]]]:
        """booking id -> [(event id, published)] of its booking.created events."""
        with psycopg.connect(self.urls["booking"]) as conn:
            rows = conn.execute(
                "SELECT payload->'booking'->>'id', event_id::text, published_at IS NOT NULL FROM outbox "
                "WHERE event_type = 'booking.created' AND payload->'booking'->>'id' = ANY(%s)",
                (booking_ids,)).fetchall()
        out: dict[str, list] = {}
        for booking_id, event_id, published in rows:
            out.setdefault(booking_id, []).append((event_id, published))
        return out

    def outbox_pending(self) -> int:
        with psycopg.connect(self.urls["booking"]) as conn:
            return conn.execute("SELECT count(*) FROM outbox WHERE published_at IS NULL").fetchone()[0]

    def presence_seen(self, event_ids: list[str]) -> set[str]:
        with psycopg.connect(self.urls["presence"]) as conn:
            rows = conn.execute("SELECT event_id::text FROM processed_event WHERE event_id = ANY(%s::uuid[])",
                                (event_ids,)).fetchall()
        return {r[0] for r in rows}

    def presence_facts(self, booking_ids: list[str]) -> dict[str, int]:
        with psycopg.connect(self.urls["presence"]) as conn:
            rows = conn.execute("SELECT booking_id::text, count(*) FROM booking_fact "
                                "WHERE booking_id = ANY(%s::uuid[]) GROUP BY 1", (booking_ids,)).fetchall()
        return dict(rows)

    def assert_every_acknowledged_booking_reached_presence_once(self, acknowledged: list[Outcome],
                                                                timeout: float = 60):
        ids = [o.booking_id for o in acknowledged]
        stored = self.bookings_of(ids)
        assert set(stored) == set(ids), f"{len(set(ids) - set(stored))} acknowledged bookings are missing"
        for o in acknowledged:
            row = stored[o.booking_id]
            assert (row["resource_id"], row["person_id"], row["day"]) == (o.desk, o.person, o.day)
        # Exactly once: no request (redelivered by the broker after a crash) booked twice.
        per_day = self.bookings_per_person_day(sorted({o.person for o in acknowledged}))
        doubles = {k: n for k, n in per_day.items() if n > 1}
        assert not doubles, f"booked twice: {doubles}"

        def delivered():
            events = self.created_events(ids)
            if set(events) != set(ids) or not all(p for evs in events.values() for _, p in evs):
                return False
            event_ids = [e for evs in events.values() for e, _ in evs]
            return len(self.presence_seen(event_ids)) == len(event_ids) and events

        events = wait_until(delivered, timeout, interval=0.5, what="every booking.created event in presence")
        assert all(len(evs) == 1 for evs in events.values()), "a booking has several booking.created events"
        facts = self.presence_facts(ids)
        assert facts == {i: 1 for i in ids}, "presence does not hold each booking exactly once"
