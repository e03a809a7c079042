"""How long personal data is kept: retention periods and their cut-offs.

An administrator sets, per organisation, how long bookings, notification
logs, the audit log and technical event logs (outboxes, processed event
ids) are kept. A nightly job in each service deletes what ended before the
cut-off. Logs that are not partitioned by organisation (notification
ledger, audit log, outboxes) follow the shortest period among
organisations: keeping less is the safe side of the rule.

Months are calendar months (13 months before 31 March is 28 February of
the year before), so "13 months" means what the processing register says.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import datetime

from dateutil.relativedelta import relativedelta

from . import errors
from .messages import msg

LIMITS = {
    "bookings_months": (1, 120),
    "notification_log_days": (1, 3650),
    "audit_log_months": (1, 120),
    "event_log_days": (1, 365),
}


@dataclass(frozen=True)
class Retention:
    bookings_months: int = 13
    notification_log_days: int = 90
    audit_log_months: int = 12
    event_log_days: int = 7

    def to_dict(self) -> dict:
        return asdict(self)

    def changed(self, data) -> "Retention":
        """A copy with the fields of ``data`` (a partial object) checked and applied."""
        if not isinstance(data, dict):
            raise errors.Invalid("retention_must_be_an_object", field="retention")
        unknown = sorted(set(data) - set(LIMITS))
        if unknown:
            raise errors.Invalid(msg("unknown_field_name", name=unknown[0]), field=unknown[0])
        for name, value in data.items():
            low, high = LIMITS[name]
            if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
                raise errors.Invalid(msg("name_must_be_a_whole_number", name=name, low=low,
                                         high=high), field=name)
        return replace(self, **data)


DEFAULT = Retention()


def cutoffs(policy: Retention, now: datetime) -> dict[str, datetime]:
    """The instants before which each kind of data is no longer kept."""
    return {
        "bookings": now - relativedelta(months=policy.bookings_months),
        "notification_log": now - relativedelta(days=policy.notification_log_days),
        "audit_log": now - relativedelta(months=policy.audit_log_months),
        "event_log": now - relativedelta(days=policy.event_log_days),
    }


def strictest(policies: list[Retention]) -> Retention:
    """The shortest period of each kind: for data shared by organisations."""
    if not policies:
        return DEFAULT
    return Retention(**{name: min(getattr(p, name) for p in policies) for name in LIMITS})


def due(last_day, today, now: datetime, hour: int) -> bool:
    """Whether the nightly job should run: not yet today, and the hour has come."""
    return (last_day is None or last_day < today) and now.hour >= hour
