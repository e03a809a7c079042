"""Notify use cases: read what a decision needs, decide in the domain, write.

No nameko here: ``service.py`` turns messages into these calls, and tests
call them directly with the real store and fake or real transports.

* ``handle_booking_event``: one transaction records the messages an event
  causes (the ledger refuses a second row for the same event and channel)
  and the reminders and warnings it schedules or cancels;
* ``run_scheduled``: due reminders and warnings, claimed with ``FOR UPDATE
  SKIP LOCKED`` so that one process fires each;
* ``deliver_due``: leases due messages, sends them, and records the
  outcome: sent, skipped, retried later (exponential backoff) or
  dead-lettered after the last attempt (kept whole, replayable).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from .adapters.store import NotifyStore
from .adapters.transport import DeliveryFailed, Skip
from .domain import calendar_conflict, errors, events, planning
from .domain.events import NO_SHOW_WARNING, REMINDER
from .domain.preferences import DEFAULT, Preferences, from_row
from .domain.schedule import backoff, reminder_due
from .domain.error_messages import msg

log = logging.getLogger(__name__)

PLATFORMS = ("matrix", "slack", "mattermost", "rocketchat", "teams")


@dataclass(frozen=True)
class Policy:
    max_attempts: int = 6
    retry_base: float = 30.0
    retry_cap: float = 3600.0
    lease: timedelta = timedelta(minutes=2)
    batch: int = 50
    warning_lead_minutes: int = 10


ReleaseRule = Callable[[str, str], "int | None"]   # (site_id, resource kind) -> minutes


# --- events ------------------------------------------------------------------------------


def handle_booking_event(store: NotifyStore, now: datetime, event: dict, sender: planning.Sender,
                         chat_enabled: bool, policy: Policy,
                         release_rule: ReleaseRule | None = None) -> int:
    """Record what a booking event causes; returns how many new messages."""
    if events.is_ownerless(event):
        log.info("walk-in booking: nobody to notify", extra={"event_type": event.get("type")})
        return 0
    if not events.is_booking_event(event):
        log.warning("ignored malformed event", extra={"event_type": str(event.get("type"))
                                                      if isinstance(event, dict) else None})
        return 0
    booking = event["booking"]
    release_after = None
    if event["type"] in (events.BOOKING_CREATED, events.BOOKING_UPDATED) and release_rule:
        # Read before the transaction: an RPC must not hold a database connection.
        resource = event.get("resource") or {}
        release_after = release_rule(booking.get("site_id") or resource.get("site_id"),
                                     booking.get("resource_kind") or resource.get("kind"))
    with store.unit() as unit:
        prefs = from_row(unit.preferences_row(event["person"].get("id")))
        plan = planning.on_event(event, prefs, now, sender, chat_enabled, release_after,
                                 policy.warning_lead_minutes)
        new = unit.record(plan.deliveries)
        for kind, due_at in plan.schedule:
            payload = {"event": event}
            if kind == NO_SHOW_WARNING:
                start = datetime.fromisoformat(booking["start"])
                payload["release_at"] = (start + timedelta(minutes=release_after)).isoformat()
            unit.schedule(booking["id"], kind, due_at, payload)
        if plan.cancel:
            unit.cancel_scheduled(booking["id"], plan.cancel)
    return new


def handle_calendar_conflict(store: NotifyStore, now: datetime, event: dict, chat_enabled: bool,
                             public_url: str | None = None) -> int:
    """Tell the cancelled side of a calendar conflict, once per event; returns
    how many new messages. A payload it cannot use is logged and skipped."""
    try:
        conflict = calendar_conflict.parse(event)
    except calendar_conflict.Malformed as exc:
        log.warning("ignored malformed calendar.conflict", extra={
            "event_id": event.get("event_id") if isinstance(event, dict) else None,
            "reason": str(exc)})
        return 0
    if conflict.recipient is None:
        log.info("calendar conflict: nobody to tell", extra={"event_id": conflict.event_id})
        return 0
    with store.unit() as unit:
        prefs = from_row(unit.preferences_row(conflict.recipient.person_id))
        return unit.record(calendar_conflict.deliveries(conflict, prefs, now, chat_enabled,
                                                        public_url))


def run_scheduled(store: NotifyStore, now: datetime, sender: planning.Sender, chat_enabled: bool,
                  limit: int = 100) -> int:
    """Fire due reminders and warnings (once, whatever the number of processes)."""
    fired = 0
    with store.unit() as unit:
        for row in unit.claim_scheduled(now, limit):
            payload = row["event"] or {}
            event = payload.get("event")
            if not events.is_booking_event(event):
                unit.finish_scheduled(row["booking_id"], row["kind"])
                continue
            prefs = from_row(unit.preferences_row(event["person"].get("id")))
            start = datetime.fromisoformat(event["booking"]["start"])
            kind = row["kind"]
            if kind == REMINDER:
                due = reminder_due(start, (event.get("site") or {}).get("timezone"),
                                   prefs.reminder)
                if due is None:
                    unit.finish_scheduled(row["booking_id"], kind)
                    continue
                if due > now + timedelta(seconds=1):
                    unit.postpone_scheduled(row["booking_id"], kind, due)  # "morning of"
                    continue
                planned = planning.deliveries(
                    REMINDER, event, prefs, now, sender, chat_enabled,
                    event_id=planning.derived_event_id(REMINDER, row["booking_id"]),
                    expires_at=start)
            else:
                release = datetime.fromisoformat(payload["release_at"])
                planned = planning.deliveries(
                    NO_SHOW_WARNING, event, prefs, now, sender, chat_enabled,
                    event_id=planning.derived_event_id(NO_SHOW_WARNING, row["booking_id"]),
                    release=release, expires_at=release)
            fired += unit.record(planned)
            unit.finish_scheduled(row["booking_id"], kind)
    return fired


# --- sending -------------------------------------------------------------------------------


def deliver_due(store: NotifyStore, now: datetime, mailer, chat, policy: Policy) -> dict:
    """Send what is due; returns counts by outcome."""
    outcome = {"sent": 0, "skipped": 0, "retry": 0, "dead": 0}
    for row in store.claim_due(now, policy.batch, policy.lease):
        result = _deliver_one(store, now, row, mailer, chat, policy)
        outcome[result] += 1
    return outcome


def _deliver_one(store: NotifyStore, now: datetime, row: dict, mailer, chat, policy: Policy) -> str:
    delivery_id = row["id"]
    if row["expires_at"] is not None and now >= row["expires_at"]:
        store.mark_skipped(delivery_id, "expired")
        return "skipped"
    try:
        if row["channel"] == "email":
            mailer.send(row["message"], delivery_id)
        else:
            identity = None
            if chat.platform and row["person_id"]:
                identity = store.identity_of(row["person_id"], chat.platform)
            recipient = {"person_id": row["person_id"], "email": row["message"].get("email"),
                         "identity": identity}
            chat.send(recipient, row["message"], delivery_id)
    except Skip as skip:
        store.mark_skipped(delivery_id, skip.reason)
        return "skipped"
    except DeliveryFailed as failure:
        return _failed(store, now, row, failure.reason, failure.permanent, policy)
    except Exception as exc:  # noqa: BLE001 - a bug or an unexpected library error: retry
        log.exception("delivery error", extra={"delivery_id": delivery_id})
        return _failed(store, now, row, f"error: {type(exc).__name__}", False, policy)
    store.mark_sent(delivery_id, now)
    return "sent"


def _failed(store, now, row, reason, permanent, policy: Policy) -> str:
    attempts = row["attempts"] + 1
    if permanent or attempts >= policy.max_attempts:
        store.mark_failed(row["id"], reason, None, now)
        log.warning("message dead-lettered", extra={"delivery_id": row["id"], "kind": row["kind"],
                                                    "channel": row["channel"], "reason": reason,
                                                    "attempts": attempts})
        return "dead"
    retry_at = now + backoff(attempts, policy.retry_base, policy.retry_cap)
    store.mark_failed(row["id"], reason, retry_at, now)
    log.info("message will be retried", extra={"delivery_id": row["id"], "reason": reason,
                                               "attempts": attempts, "retry_at": retry_at.isoformat()})
    return "retry"


# --- preferences, dead letters, chat identities (RPC) ----------------------------------------


def _person(actor: dict, person_id: str | None) -> str:
    if not isinstance(actor, dict):
        raise errors.Forbidden("unknown_caller")
    own = actor.get("person_id")
    if person_id is None or person_id == own:
        if not own:
            raise errors.Invalid("this_account_is_not_linked_to", field="person_id")
        return own
    if actor.get("role") != "admin":
        raise errors.Forbidden("you_may_only_see_or_change")
    return person_id


def _admin(actor: dict) -> None:
    if not isinstance(actor, dict) or actor.get("role") != "admin":
        raise errors.Forbidden("only_an_administrator_may_do_this")


def get_preferences(store: NotifyStore, actor: dict, person_id: str | None = None) -> dict:
    pid = _person(actor, person_id)
    return {"person_id": pid, **from_row(store.preferences_row(pid)).to_wire()}


def set_preferences(store: NotifyStore, actor: dict, preferences: dict,
                    person_id: str | None = None) -> dict:
    pid = _person(actor, person_id)
    current: Preferences = from_row(store.preferences_row(pid))
    updated = current.updated(preferences)
    store.save_preferences(pid, updated)
    return {"person_id": pid, **updated.to_wire()}


def default_preferences() -> dict:
    return DEFAULT.to_wire()


def list_dead_letters(store: NotifyStore, actor: dict, limit: int = 100,
                      after: str | None = None) -> dict:
    _admin(actor)
    if not isinstance(limit, int) or not 1 <= limit <= 500:
        raise errors.Invalid("limit_must_be_from_1_to", field="limit")
    items = store.dead_letters(limit, _uuid_or_none(after, "after"))
    return {"items": items, "next": items[-1]["id"] if len(items) == limit else None}


def replay_dead_letters(store: NotifyStore, now: datetime, actor: dict,
                        ids: list[str] | None = None) -> dict:
    _admin(actor)
    if ids is not None:
        if not isinstance(ids, list) or not 1 <= len(ids) <= 500:
            raise errors.Invalid("ids_is_a_list_of_1", field="ids")
        ids = [_uuid_or_none(i, "ids") for i in ids]
    replayed = store.replay(ids, now)
    if ids is not None and len(ids) == 1 and replayed == 0:
        row = store.delivery(ids[0])  # raises not_found
        raise errors.InvalidState(msg("this_message_is_status_not_dead", status=row['status']),
                                  status=row["status"])
    return {"replayed": replayed}


def _uuid_or_none(value, field):
    import uuid

    if value is None:
        return None
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise errors.Invalid(msg("field_must_be_a_message_id", field=field), field=field) from None


def set_chat_identity(store: NotifyStore, actor: dict, platform: str, external_id: str,
                      person_id: str, handle: str | None = None) -> dict:
    _admin(actor)
    if platform not in PLATFORMS:
        raise errors.Invalid(msg("platform_must_be_one_of_values", values=', '.join(PLATFORMS)),
                             field="platform")
    if not isinstance(external_id, str) or not 1 <= len(external_id.strip()) <= 255:
        raise errors.Invalid("external_id_is_1_to_255", field="external_id")
    if handle is not None and (not isinstance(handle, str) or not 1 <= len(handle) <= 255):
        raise errors.Invalid("handle_is_1_to_255_characters", field="handle")
    person_id = _uuid_or_none(person_id, "person_id")
    if person_id is None:
        raise errors.Invalid("person_id_is_required", field="person_id")
    return store.set_identity(platform, external_id.strip(), person_id,
                              handle.lstrip("@") if handle else None)


def delete_chat_identity(store: NotifyStore, actor: dict, platform: str, external_id: str) -> dict:
    _admin(actor)
    if not store.delete_identity(platform, external_id):
        raise errors.NotFound("no_such_chat_identity", field="external_id")
    return {"deleted": True}


def list_chat_identities(store: NotifyStore, actor: dict, person_id: str | None = None) -> list:
    _admin(actor)
    return store.identities(_uuid_or_none(person_id, "person_id"))
