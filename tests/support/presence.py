"""Fixtures for the presence service: its own database, a Redis key prefix
of this run's own (runs never see each other's keys), and the real process."""

from __future__ import annotations

import os

import pytest
import redis

from .processes import BIN, Process
from .servers import REDIS_URL, create_database, drop_database, free_port


def presence_process(amqp_uri: str, database_url: str, redis_prefix: str, **extra_env) -> Process:
    port = free_port()
    env = {
        "ESCALE_AMQP_URI": amqp_uri,
        "ESCALE_PRESENCE_DATABASE_URL": database_url,
        "ESCALE_REDIS_URL": REDIS_URL,
        "ESCALE_PRESENCE_REDIS_PREFIX": redis_prefix,
        "ESCALE_PRESENCE_HTTP": f"127.0.0.1:{port}",
        "ESCALE_LOG_LEVEL": os.environ.get("ESCALE_TEST_PRESENCE_LOG_LEVEL", "WARNING"),
        # Tests add people straight into the booking database: sync often.
        "ESCALE_PRESENCE_DIRECTORY_SYNC": "2",
        **extra_env,
    }
    process = Process(
        f"presence-{port}",
        [str(BIN / "nameko"), "run", "presence.service", "--config", "services/presence/config.yaml"],
        env,
        f"http://127.0.0.1:{port}/readyz",
    )
    process.base_url = f"http://127.0.0.1:{port}"
    return process


def delete_prefix(client: redis.Redis, prefix: str) -> int:
    """Delete every key under ``prefix`` (and only those)."""
    deleted = 0
    batch = []
    for key in client.scan_iter(match=prefix.replace("*", r"\*") + "*", count=1000):
        batch.append(key)
        if len(batch) >= 1000:
            deleted += client.delete(*batch)
            batch = []
    if batch:
        deleted += client.delete(*batch)
    return deleted


@pytest.fixture(scope="session")
def presence_redis_prefix(redis_prefix):
    """The presence read model's prefix for this run; its keys are deleted at the end."""
    prefix = f"{redis_prefix}presence:"
    yield prefix
    client = redis.Redis.from_url(REDIS_URL)
    delete_prefix(client, prefix)
    client.close()


@pytest.fixture(scope="session")
def presence_db_url(run_id):
    """A migrated, empty presence database of this run's own."""
    from presence.adapters.migrate import upgrade

    name = f"escale_test_{run_id}_presence"
    url = create_database(name)
    upgrade(url)
    yield url
    drop_database(name)


@pytest.fixture(scope="session")
def presence_service(amqp_uri, presence_db_url, presence_redis_prefix, booking_service):
    """The real presence service, next to the real booking service."""
    process = presence_process(amqp_uri, presence_db_url, presence_redis_prefix).start()
    yield process
    process.stop()
