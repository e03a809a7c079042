"""Per-run isolation on the real local servers.

Each test session gets its own PostgreSQL databases and its own RabbitMQ
vhost, named after a random run id, and drops them at the end, so runs
(a developer's and CI's, or two branches) never see each other's data.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest

PG_ADMIN_URL = os.environ.get("ESCALE_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
AMQP_BASE = os.environ.get("ESCALE_TEST_AMQP_BASE", "amqp://guest:guest@127.0.0.1:5672")
REDIS_URL = os.environ.get("ESCALE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _db_url(name: str) -> str:
    base, _, _ = PG_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


def create_database(name: str) -> str:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return _db_url(name)


def drop_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def amqp_uri(run_id):
    """A RabbitMQ vhost of this run's own, with every consumer queue declared
    before any service starts, as in production (``escale broker setup``, run
    by ``escale db upgrade``): a service is ready before all its consumers are
    bound, and an event published in between would have no queue to reach."""
    vhost = f"escale-test-{run_id}"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    uri = f"{AMQP_BASE}/{quote(vhost, safe='')}"
    root = Path(__file__).resolve().parents[2]
    subprocess.run([str(Path(sys.executable).parent / "escale"), "broker", "setup"], cwd=root, check=True,
                   capture_output=True, timeout=120, env={**os.environ, "ESCALE_AMQP_URI": uri})
    yield uri
    _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def booking_db_url(run_id):
    """A migrated, empty booking database of this run's own."""
    from booking.adapters.migrate import upgrade

    name = f"escale_test_{run_id}_booking"
    url = create_database(name)
    upgrade(url)
    yield url
    drop_database(name)


@pytest.fixture(scope="session")
def gateway_db_url(run_id):
    """A migrated, empty gateway database of this run's own."""
    from gateway.adapters.migrate import upgrade

    name = f"escale_test_{run_id}_gateway"
    url = create_database(name)
    upgrade(url)
    yield url
    drop_database(name)


@pytest.fixture(scope="session")
def redis_prefix(run_id) -> str:
    """Key prefix of this run's own in the shared Redis."""
    return f"escale-test-{run_id}:"
