"""Fixtures of the personal-data tests: the whole system (booking, presence,
notify, a gateway of their own whose Redis keys live under this run's
prefix), a person with something of every kind, and scanners of every
database and of the run's Redis keys."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timedelta, timezone

import httpx
import psycopg
import pytest
import redis

from tests.support.processes import gateway_process
from tests.support.servers import REDIS_URL


def eventually(check, timeout=20.0, every=0.25):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return check()
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(every)


@pytest.fixture(scope="module")
def privacy_gateway(amqp_uri, gateway_db_url, booking_service, presence_service, notify_service,
                    presence_redis_prefix, redis_prefix):
    process = gateway_process(
        amqp_uri, gateway_db_url, ESCALE_REDIS_URL=REDIS_URL,
        ESCALE_PRESENCE_REDIS_PREFIX=presence_redis_prefix,
        ESCALE_GATEWAY_REDIS_PREFIX=f"{redis_prefix}gateway:").start()
    yield process
    process.stop()


@pytest.fixture
def api(privacy_gateway):
    with httpx.Client(base_url=f"{privacy_gateway.url}/api/v1", timeout=30) as client:
        yield client


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def admin(issue):
    person_id = str(uuid.uuid4())
    return {"id": person_id, "headers": bearer(issue(f"admin.{uuid.uuid4().hex[:6]}@mairie-test.fr",
                                                     "admin", person_id=person_id))}


@pytest.fixture
def subject(place, issue, booking_db_url):
    """A person whose family name and email appear nowhere else: the needles."""
    tag = uuid.uuid4().hex[:8]
    family = f"Kerbrat{tag}"
    email = f"gwenaelle.kerbrat.{tag}@mairie-test.fr"
    with psycopg.connect(booking_db_url) as conn:
        org = conn.execute("SELECT organisation_id FROM site WHERE id = %s", (place.site_id,)).fetchone()[0]
        pid = str(conn.execute(
            "INSERT INTO person (organisation_id, email, given_name, family_name, display_name, "
            "department, job_title, phone_extension) VALUES (%s, %s, 'Gwenaëlle', %s, %s, 'DSI', "
            "'Cheffe de projet', '4321') RETURNING id",
            (org, email, family, f"Gwenaëlle {family}")).fetchone()[0])
        conn.execute("INSERT INTO team_member (team_id, person_id) VALUES (%s, %s)", (place.team_id, pid))
    return {"id": pid, "email": email, "family": family, "tag": tag, "organisation_id": str(org),
            "headers": bearer(issue(email, "agent", person_id=pid))}


@pytest.fixture
def colleague(place, issue):
    return {"id": place.people[0], "email": place.emails[0],
            "headers": bearer(issue(place.emails[0], "agent", person_id=place.people[0]))}


def insert_booking(booking_db_url, resource_id, person_id, start, end, status="ended", title=""):
    with psycopg.connect(booking_db_url) as conn:
        return str(conn.execute(
            "INSERT INTO booking (resource_id, resource_kind, person_id, during, status, title) "
            "SELECT id, kind, %s, tstzrange(%s, %s, '[)'), %s, %s FROM resource WHERE id = %s "
            "RETURNING id", (person_id, start, end, status, title, resource_id)).fetchone()[0])


def hours_from_now(hours: float) -> datetime:
    return (datetime.now(timezone.utc) + timedelta(hours=hours)).replace(microsecond=0)


# --- scanners ----------------------------------------------------------------------------------


def scan_databases(urls: list[str], needles: list[str]) -> list[str]:
    """``database.table`` of every row whose text (all columns) holds a needle."""
    hits = []
    for url in urls:
        with psycopg.connect(url) as conn:
            tables = conn.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            ).fetchall()
            for schema, table in tables:
                for needle in needles:
                    row = conn.execute(
                        f'SELECT t::text FROM "{schema}"."{table}" t WHERE t::text ILIKE %s LIMIT 1',
                        (f"%{needle}%",)).fetchone()
                    if row:
                        hits.append(f"{url.rsplit('/', 1)[-1]}.{table}: {row[0][:300]}")
    return hits


def scan_redis(prefix: str, needles: list[str]) -> list[str]:
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    hits = []
    try:
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            kind = client.type(key)
            if kind == "string":
                texts = [client.get(key) or ""]
            elif kind == "hash":
                texts = [f"{k}={v}" for k, v in client.hgetall(key).items()]
            elif kind == "set":
                texts = list(client.smembers(key))
            elif kind == "zset":
                texts = list(client.zrange(key, 0, -1))
            elif kind == "list":
                texts = client.lrange(key, 0, -1)
            else:
                texts = []
            for text in [key, *texts]:
                if any(n.lower() in (text or "").lower() for n in needles):
                    hits.append(f"{key}: {str(text)[:200]}")
                    break
    finally:
        client.close()
    return hits
