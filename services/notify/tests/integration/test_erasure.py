"""Erasing a person while other work holds their rows: the erasure that
PostgreSQL picks as a deadlock victim is run again and still erases all."""

import threading
import time
from datetime import datetime, timedelta, timezone

import psycopg
import pytest

from notify import personal_data

from .conftest import own_store
from .test_scheduling import event, handle

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def store(run_id):
    with own_store(run_id, "erasure") as store:
        yield store


def _rows(store, person_id):
    with store.pool.connection() as conn:
        return {
            "delivery": conn.execute("SELECT count(*) AS n FROM delivery WHERE person_id = %s",
                                     (person_id,)).fetchone()["n"],
            "scheduled": conn.execute("SELECT count(*) AS n FROM scheduled "
                                      "WHERE event->'event'->'person'->>'id' = %s", (person_id,)).fetchone()["n"],
        }


def _waiting_on_a_lock(conninfo, query_start):
    with psycopg.connect(conninfo, autocommit=True) as conn:
        return conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND query LIKE %s", (query_start + "%",)).fetchone()[0] > 0


def test_an_erasure_chosen_as_deadlock_victim_is_run_again_and_erases_everything(store):
    now = datetime.now(timezone.utc)
    booked = event(start=now + timedelta(days=2))
    person_id = booked["person"]["id"]
    handle(store, booked, now)  # a confirmation to send and a reminder waiting
    assert all(_rows(store, person_id).values())
    conninfo = store.pool.conninfo

    # Other work (a reminder firing) holds the person's reminder and then wants
    # their messages: the opposite order to the erasure's.
    other = psycopg.connect(conninfo)
    other.execute("SET deadlock_timeout = '20s'")  # so that the erasure is the victim
    other.execute("UPDATE scheduled SET due_at = due_at WHERE event->'event'->'person'->>'id' = %s",
                  (person_id,))
    outcome = {}

    def erase():
        try:
            outcome["result"] = personal_data.erase_person(store, person_id)
        except Exception as exc:  # noqa: BLE001 - reported below
            outcome["error"] = exc

    eraser = threading.Thread(target=erase)
    eraser.start()
    deadline = time.monotonic() + 10
    while not _waiting_on_a_lock(conninfo, "DELETE FROM scheduled"):
        assert time.monotonic() < deadline, "the erasure never waited for the reminder"
        time.sleep(0.05)
    # Now the cycle: PostgreSQL aborts the erasure after its deadlock_timeout (1 s).
    other.execute("UPDATE delivery SET attempts = attempts WHERE person_id = %s", (person_id,))
    other.commit()
    other.close()
    eraser.join(timeout=30)

    assert "error" not in outcome, repr(outcome.get("error"))
    assert outcome["result"]["messages"] >= 1 and outcome["result"]["scheduled"] >= 1
    assert _rows(store, person_id) == {"delivery": 0, "scheduled": 0}
