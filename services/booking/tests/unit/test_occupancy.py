"""The occupancy report: booked vs used per day and zone, no-shows, busiest days."""

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from booking.domain.occupancy import Row, build_report, is_no_show, report_csv_rows

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 20, 18, 0, tzinfo=timezone.utc)  # a Friday evening


def row(day: int, status="confirmed", checked_in=False, zone="z1", hour=9):
    start = datetime(2026, 11, day, hour, 0, tzinfo=PARIS)
    return Row(start=start, end=start + timedelta(hours=8), status=status, checked_in=checked_in, zone_id=zone)


def test_checked_in_is_used_and_past_unchecked_is_a_no_show():
    assert not is_no_show(row(16, "ended", checked_in=True), NOW)
    assert is_no_show(row(16, "ended"), NOW)
    assert is_no_show(row(16, "released"), NOW)
    assert not is_no_show(row(23), NOW)  # still to come


def test_days_zones_totals_and_rates():
    rows = [row(16, "ended", True), row(16, "released"), row(16, "cancelled"),
            row(17, "ended", True, zone="z2"), row(23, "confirmed")]
    report = build_report(rows, date(2026, 11, 16), date(2026, 11, 22), PARIS, NOW,
                          zones={"z1": {"code": "A", "name": "Open space"}, "z2": {"code": "B", "name": "DSI"},
                                 "z3": {"code": "C", "name": "Empty"}})
    assert [d["date"] for d in report["days"]] == [f"2026-11-{d}" for d in range(16, 23)]
    monday = report["days"][0]
    assert monday == {"date": "2026-11-16", "booked": 2, "checked_in": 1, "no_shows": 1, "no_show_rate": 0.5}
    assert report["days"][2]["booked"] == 0  # a day without bookings is still there
    assert report["totals"] == {"booked": 3, "checked_in": 2, "no_shows": 1, "no_show_rate": 0.3333}
    zones = {z["zone_code"]: z for z in report["zones"]}
    assert zones["A"]["booked"] == 2 and zones["B"]["checked_in"] == 1 and zones["C"]["booked"] == 0
    assert report["busiest_weekdays"][0] == {"weekday": 1, "booked": 2, "average": 2.0}
    assert [b["weekday"] for b in report["busiest_weekdays"]] == [1, 2]


def test_a_booking_counts_on_the_sites_local_day():
    late = Row(start=datetime(2026, 11, 16, 23, 30, tzinfo=timezone.utc),  # 00:30 on the 17th in Paris
               end=datetime(2026, 11, 17, 1, 0, tzinfo=timezone.utc), status="ended", checked_in=True, zone_id=None)
    report = build_report([late], date(2026, 11, 16), date(2026, 11, 17), PARIS, NOW)
    assert [d["booked"] for d in report["days"]] == [0, 1]


def test_csv_rows_have_a_header_days_zones_and_a_total():
    report = build_report([row(16, "ended", True)], date(2026, 11, 16), date(2026, 11, 17), PARIS, NOW,
                          zones={"z1": {"code": "A", "name": "Open space"}})
    rows = report_csv_rows(report)
    assert rows[0][0] == "scope" and rows[1][:3] == ["day", "2026-11-16", 1]
    assert ["zone", "A", 1, 1, 0, 0.0] in rows and rows[-1][0] == "total"
