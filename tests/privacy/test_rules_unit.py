"""Unit tests: retention cut-offs and periods, and which operations the
audit log records."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timezone
from typing import Literal

import pytest

from booking.domain import errors
from booking.domain.retention import DEFAULT, Retention, cutoffs, due, strictest
from gateway.audit import judge, target_of
from gateway.openapi import Operation
from gateway.policy import Action, Role

pytestmark = pytest.mark.unit

UTC = timezone.utc


def test_cutoffs_count_calendar_months_and_days():
    now = datetime(2026, 3, 31, 2, 30, tzinfo=UTC)
    cut = cutoffs(Retention(bookings_months=13, notification_log_days=90, audit_log_months=12,
                            event_log_days=7), now)
    assert cut["bookings"] == datetime(2025, 2, 28, 2, 30, tzinfo=UTC)   # no 31 February
    assert cut["audit_log"] == datetime(2025, 3, 31, 2, 30, tzinfo=UTC)
    assert cut["notification_log"] == datetime(2025, 12, 31, 2, 30, tzinfo=UTC)
    assert cut["event_log"] == datetime(2026, 3, 24, 2, 30, tzinfo=UTC)


def test_a_leap_day_goes_back_to_the_last_day_of_february():
    cut = cutoffs(Retention(bookings_months=12), datetime(2028, 2, 29, tzinfo=UTC))
    assert cut["bookings"] == datetime(2027, 2, 28, tzinfo=UTC)


def test_defaults_and_the_shortest_period_for_shared_logs():
    assert DEFAULT.to_dict() == {"bookings_months": 13, "notification_log_days": 90,
                                 "audit_log_months": 12, "event_log_days": 7}
    mixed = strictest([Retention(bookings_months=24, notification_log_days=30),
                       Retention(audit_log_months=6, event_log_days=14)])
    assert mixed == Retention(bookings_months=13, notification_log_days=30, audit_log_months=6,
                              event_log_days=7)
    assert strictest([]) == DEFAULT


def test_changed_checks_each_field():
    assert DEFAULT.changed({"bookings_months": 6}).bookings_months == 6
    for bad in ({"bookings_months": 0}, {"event_log_days": 366}, {"audit_log_months": "12"},
                {"bookings_months": True}, {"colour": 1}):
        with pytest.raises(errors.Invalid) as caught:
            DEFAULT.changed(bad)
        assert caught.value.details["field"] == next(iter(bad))


def test_the_nightly_job_is_due_once_a_day_after_its_hour():
    night = datetime(2026, 5, 4, 3, 5, tzinfo=UTC)
    assert due(None, night.date(), night, 3)
    assert due(date(2026, 5, 3), night.date(), night, 3)
    assert not due(date(2026, 5, 4), night.date(), night, 3)
    assert not due(date(2026, 5, 3), night.date(), night.replace(hour=2), 3)


ME, OTHER = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize("method, action, target, logged", [  # an admin's requests
    ("PUT", Action.MANAGE_RULES, None, True),                 # an administrative change
    ("POST", Action.IMPORT_PEOPLE, None, True),
    ("DELETE", Action.MANAGE_DEVICES, None, True),
    ("GET", Action.MANAGE_DEVICES, None, False),              # listing is not a change
    ("POST", Action.BOOK, None, False),                       # an agent's own booking
    ("POST", Action.BOOK, ME, False),
    ("POST", Action.BOOK_FOR_OTHERS, OTHER, True),
    ("GET", Action.READ_BOOKINGS, OTHER, True),               # reading someone's bookings
    ("GET", Action.READ_BOOKINGS, ME, False),
    ("GET", Action.READ_PRESENCE, OTHER, False),              # where is X: every agent's daily use
    ("GET", Action.READ_PEOPLE, OTHER, False),
    ("PUT", Action.SET_OWN_PRESENCE, OTHER, True),            # an admin changing someone's plan
    ("POST", Action.DISPLAY, None, False),                    # a tablet's check-in
    ("GET", None, None, False),
])
def test_what_the_audit_log_records(method, action, target, logged):
    assert judge(method, action, Role.ADMIN, ME, target) is logged


def test_an_agent_reading_what_anyone_sees_of_a_colleague_is_not_logged():
    assert judge("GET", Action.READ_BOOKINGS, Role.AGENT, ME, OTHER) is False
    assert judge("GET", Action.READ_BOOKINGS, Role.SITE_ADMIN, ME, OTHER) is True
    assert judge("PUT", Action.MANAGE_RULES, Role.SITE_ADMIN, ME, None) is True


def test_the_target_keeps_ids_and_fixed_words_but_no_free_text():
    async def handler(call):  # pragma: no cover - never called
        return None

    op = Operation("DELETE", "/admin/chat-identities/{platform}/{external_id}", handler, "", "",
                   path_types={"platform": Literal["matrix", "slack"], "external_id": str})
    assert target_of(op, {"platform": "matrix", "external_id": "@jean.dupont:tchap"}) == "platform=matrix"
    site = uuid.uuid4()
    rules = Operation("PUT", "/sites/{id}/rules/{kind}", handler, "", "",
                      path_types={"kind": Literal["desk", "room"]})
    assert target_of(rules, {"id": str(site), "kind": "desk"}) == f"id={site};kind=desk"
