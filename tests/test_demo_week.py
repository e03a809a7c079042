"""``escale demo week`` (what ``make run`` does after starting the services):
a new user opens the demo on a site where colleagues have planned and booked
their coming days, can still book a desk, and reads only their own mail."""

from __future__ import annotations

import re
import time
from datetime import date, datetime, timedelta
from types import SimpleNamespace

import httpx
import psycopg
import pytest

from tests.support.clock import PARIS
from tests.support.demo_system import AGENT_EMAIL, demo_system
from tests.support.notify import SmtpSink
from tests.support.processes import run_escale

pytestmark = pytest.mark.e2e

SUMMARY = re.compile(r"over (\d+) working day\(s\), (\S+) to (\S+)")


def counts(output: str) -> dict[str, int]:
    return {m[1]: int(m[2]) for m in re.finditer(r"^  (.+): (\d+)$", output, re.M)}


@pytest.fixture(scope="module")
def mail():
    """This module's own sink: what it receives is this install's mail only."""
    with SmtpSink() as sink:
        yield sink


@pytest.fixture(scope="module")
def demo(run_id, mail):
    with demo_system(run_id, "demoweek", mail.port) as gateway:
        first = run_escale(gateway.env, "demo", "week", "--days", "3")
        assert first.returncode == 0, first.stderr
        days, start, end = SUMMARY.search(first.stdout).groups()
        api = f"{gateway.url}/api/v1"
        agent = {"Authorization": f"Bearer {gateway.tokens['agent']}"}
        site = httpx.get(f"{api}/sites", headers=agent).json()[0]
        yield SimpleNamespace(gateway=gateway, first=first, api=api, agent=agent, site=site,
                              days=int(days), start=date.fromisoformat(start), end=date.fromisoformat(end))


def booked_on(demo, day: date) -> set[str]:
    """Who holds a desk that day."""
    with psycopg.connect(demo.gateway.env["ESCALE_BOOKING_DATABASE_URL"]) as conn:
        return {str(r[0]) for r in conn.execute(
            "SELECT person_id FROM booking WHERE status IN ('confirmed', 'checked_in') "
            "AND (lower(during) AT TIME ZONE 'Europe/Paris')::date = %s", (day,))}


def visibility(demo, choice: str) -> set[str]:
    with psycopg.connect(demo.gateway.env["ESCALE_PRESENCE_DATABASE_URL"]) as conn:
        return {str(r[0]) for r in conn.execute(
            "SELECT person_id FROM person_state WHERE visibility = %s", (choice,))}


def roster(demo, day: date, expected: set[str]) -> dict[str, dict]:
    """Who is on site that day, once presence shows ``expected`` at their desks."""
    deadline = time.monotonic() + 30
    while True:
        people = httpx.get(f"{demo.api}/presence", headers=demo.agent,
                           params={"site": demo.site["id"], "date": day.isoformat()}).json()["people"]
        shown = {p["person"]["id"]: p for p in people}
        if expected <= {pid for pid, p in shown.items() if p.get("desks")} or time.monotonic() > deadline:
            return shown


def test_colleagues_have_planned_and_booked_their_coming_days(demo):
    done = counts(demo.first.stdout)
    assert demo.days == 3 and demo.start <= demo.end
    assert not [what for what in done if "refused" in what], demo.first.stdout
    assert done["weekly patterns"] > 300 and done["desk bookings"] > 150
    booked = booked_on(demo, demo.end)
    assert len(booked) > 50
    # Everyone who shows their presence to all and booked a desk is listed at it.
    open_to_all = booked & visibility(demo, "everyone")
    shown = roster(demo, demo.end, open_to_all)
    at_desks = {pid for pid, p in shown.items() if p.get("desks")}
    assert open_to_all <= at_desks <= booked
    # More are on site than have booked a desk (their pattern says so), and each
    # answer says where it comes from.
    assert len(shown) > len(at_desks)
    assert {p["am"]["source"] for p in shown.values() if p.get("am")} >= {"booking", "pattern"}


def test_colleagues_who_keep_their_presence_to_themselves_stay_hidden(demo):
    hidden = visibility(demo, "nobody")
    assert hidden
    shown = roster(demo, demo.end, booked_on(demo, demo.end) & visibility(demo, "everyone"))
    assert not hidden & set(shown)
    answer = httpx.get(f"{demo.api}/presence/{sorted(hidden)[0]}", headers=demo.agent).json()
    assert answer["presence"]["status"] == "not_available", answer


def test_the_demo_agent_can_still_book_a_desk_and_reads_only_their_own_mail(demo, mail):
    day = demo.end
    desks = httpx.get(f"{demo.api}/availability", headers=demo.agent, params={
        "site_id": demo.site["id"], "kind": "desk", "date": day.isoformat()}).json()["resources"]
    statuses = [d["status"] for d in desks]
    assert statuses.count("booked") > 50 and statuses.count("free") >= len(desks) // 10
    free = next(d for d in desks if d["status"] == "free")
    start = datetime.combine(day, datetime.min.time(), PARIS) + timedelta(hours=9)
    made = httpx.post(f"{demo.api}/bookings", headers=demo.agent, json={
        "resource_id": free["id"], "start": start.isoformat(), "end": (start + timedelta(hours=8)).isoformat()})
    assert made.status_code == 201, made.text
    mail.wait_for(AGENT_EMAIL, 1)
    time.sleep(1)  # anything sent to colleagues would have come with it
    assert {rcpt for _, rcpts in mail.envelopes for rcpt in rcpts} == {AGENT_EMAIL}


def test_running_it_again_changes_nothing(demo):
    before = booked_on(demo, demo.end)
    again = run_escale(demo.gateway.env, "demo", "week", "--days", "2")
    assert again.returncode == 0, again.stderr
    assert not [what for what in counts(again.stdout) if "refused" in what], again.stdout
    assert booked_on(demo, demo.end) == before


def test_without_the_broker_it_says_so(demo):
    env = {**demo.gateway.env, "ESCALE_AMQP_URI": "amqp://guest:guest@127.0.0.1:1/"}
    failed = run_escale(env, "demo", "week")
    assert failed.returncode == 1
    assert "RabbitMQ" in failed.stderr and "Traceback" not in failed.stderr
