"""The precedence order, one signal against the next, and the day's timeline."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from presence.domain.model import BookingFact, Busy, DayFrame, DayPlan, Signals, Slot, TemporaryStatus
from presence.domain.precedence import next_change, resolve, segment_at, timeline

pytestmark = pytest.mark.unit

PARIS = ZoneInfo("Europe/Paris")
DAY = date(2026, 3, 10)  # a Tuesday
FRAME = DayFrame(DAY, PARIS, time(13, 0))
SITE = "11111111-1111-1111-1111-111111111111"


def at(hh, mm=0):
    return datetime.combine(DAY, time(hh, mm), PARIS)


def booking(kind="desk", status="confirmed", start=(9, 0), end=(17, 0), n=1):
    place = {"site_id": SITE, "site_name": "Mairie", "resource_id": f"00000000-0000-0000-0000-00000000000{n}",
             "resource_name": f"{kind} {n}", "resource_kind": kind}
    return BookingFact(f"b{n}", "p", kind, status, at(*start), at(*end), place)


PLAN_REMOTE = DayPlan(DAY, Slot("remote", None, "declared"), Slot("remote", None, "declared"))
TEMP = TemporaryStatus("do_not_disturb", at(8), at(18), "dossier urgent")


# Each row adds one signal above the previous ones: the new one must win.
LADDER = [
    ("nothing", Signals(DayPlan(DAY)), "unknown", None),
    ("day plan", Signals(PLAN_REMOTE), "remote", "day_plan"),
    ("booked for now", Signals(PLAN_REMOTE, (booking(),)), "on_site", "booking"),
    ("in a meeting (room)", Signals(PLAN_REMOTE, (booking(), booking("room", n=2))), "in_meeting", "meeting"),
    ("in a meeting (calendar)", Signals(PLAN_REMOTE, (booking(),), busy=(Busy(at(9), at(12)),)),
     "in_meeting", "meeting"),
    ("checked in", Signals(PLAN_REMOTE, (booking(status="checked_in"), booking("room", n=2))),
     "on_site", "check_in"),
    ("temporary status", Signals(PLAN_REMOTE, (booking(status="checked_in"), booking("room", n=2)), TEMP),
     "do_not_disturb", "temporary_status"),
]


@pytest.mark.parametrize("name,signals,status,signal", LADDER, ids=[row[0] for row in LADDER])
def test_each_signal_beats_every_lower_one(name, signals, status, signal):
    answer = resolve(signals, FRAME, at(10))
    assert (answer.status, answer.signal) == (status, signal)


def test_the_order_is_written_down_in_the_module():
    import presence.domain.precedence as module

    doc = module.__doc__
    for rank, name in enumerate(("temporary status", "checked in", "in a meeting",
                                 "booked for now", "day plan", "unknown"), 1):
        assert f"{rank}. {name}" in doc


def test_a_temporary_status_keeps_the_place_of_the_signals_below():
    answer = resolve(Signals(PLAN_REMOTE, (booking(status="checked_in"),), TEMP), FRAME, at(10))
    assert answer.status == "do_not_disturb" and answer.label == "dossier urgent"
    assert answer.place["resource_name"] == "desk 1"
    assert answer.plan.status == "remote"


def test_checked_in_to_a_room_is_in_a_meeting_there():
    answer = resolve(Signals(DayPlan(DAY), (booking(status="checked_in"), booking("room", "checked_in", n=2))),
                     FRAME, at(10))
    assert (answer.status, answer.signal, answer.place["resource_kind"]) == ("in_meeting", "check_in", "room")


def test_cancelled_released_and_other_times_do_not_count():
    signals = Signals(DayPlan(DAY), (booking(status="cancelled"), booking("room", "released", n=2),
                                     booking(start=(14, 0), end=(15, 0), n=3)))
    assert resolve(signals, FRAME, at(10)).status == "unknown"
    assert resolve(signals, FRAME, at(14, 30)).signal == "booking"


def test_equipment_says_nothing_about_where_someone_is():
    assert resolve(Signals(DayPlan(DAY), (booking("equipment"),)), FRAME, at(10)).status == "unknown"


def test_the_plan_follows_the_half_day():
    plan = DayPlan(DAY, Slot("on_site", SITE, "declared"), Slot("off", None, "declared"))
    morning = resolve(Signals(plan, site_names={SITE: "Mairie"}), FRAME, at(9))
    afternoon = resolve(Signals(plan), FRAME, at(15))
    assert (morning.status, morning.place) == ("on_site", {"site_id": SITE, "site_name": "Mairie"})
    assert (afternoon.status, afternoon.place, afternoon.label) == ("off", None, None)


def test_a_temporary_status_stops_applying_at_its_end():
    signals = Signals(PLAN_REMOTE, temporary=TemporaryStatus("in_meeting", at(10), at(11, 30)))
    assert resolve(signals, FRAME, at(11, 29)).status == "in_meeting"
    assert resolve(signals, FRAME, at(11, 30)).status == "remote"


def test_timeline_cuts_the_day_where_the_answer_changes():
    signals = Signals(PLAN_REMOTE, (booking(start=(9, 0), end=(12, 0)),),
                      TemporaryStatus("in_meeting", at(10), at(11)))
    segments = timeline(signals, FRAME)
    assert [(s.start, s.resolution.status) for s in segments] == [
        (at(0), "remote"), (at(9), "on_site"), (at(10), "in_meeting"), (at(11), "on_site"),
        (at(12), "remote"),
    ]
    assert segments[-1].end == FRAME.end
    assert segment_at(segments, at(10, 30)).end == at(11)
    assert next_change(segments, at(10, 30)) == at(11)
    assert next_change(segments, at(12, 30)) is None


def test_identical_neighbours_merge_across_midday():
    segments = timeline(Signals(PLAN_REMOTE), FRAME)
    assert len(segments) == 1 and segments[0].start == FRAME.start and segments[0].end == FRAME.end


def test_a_daylight_saving_day_is_23_hours_long():
    frame = DayFrame(date(2026, 3, 29), PARIS)
    assert frame.end.timestamp() - frame.start.timestamp() == timedelta(hours=23).total_seconds()
