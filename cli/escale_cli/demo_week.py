"""``escale demo week``: the demo town hall's colleagues plan, book and check
in for the coming working days (``booking.demo.week`` says what they do).

Everything goes through the running services over RPC, as each colleague
(an agent acting for themselves), so booking's rules, the events, presence's
read model and notify all see it as they see a real agent's day. Colleagues'
own mail is switched off first: the demo's mail sink then shows what the
demo accounts receive, not some hundred confirmations.

Refusals are counted, not fatal: a desk the user has just booked, or a second
run's repeated check-in, is not a reason to stop.
"""

from __future__ import annotations

import warnings
from collections import Counter
from datetime import datetime, timezone
from typing import TextIO

import psycopg
from psycopg.rows import dict_row

from .databases import CommandError
from .settings import Settings

RPC_TIMEOUT = 30


def run(settings: Settings, days: int, out: TextIO, now: datetime | None = None) -> Counter:
    with warnings.catch_warnings():  # eventlet's deprecation notice, of no use to an operator
        warnings.filterwarnings("ignore", message="\s*Eventlet is deprecated")
        from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
        from nameko.standalone.rpc import ClusterRpcProxy

    from booking.demo import SITE_CODE
    from booking.demo.week import plan_week
    from notify.domain.events import KINDS

    # Colleagues receive nothing: every kind of message on no channel.
    no_mail = {"channels": {kind: [] for kind in KINDS}, "reminder": "none"}

    site, agents, desks = _load(settings.booking_database_url, SITE_CODE)
    week = plan_week(site, agents, desks, now or datetime.now(timezone.utc), days)
    done: Counter = Counter()

    def call(what: str, method, *args, **kwargs):
        try:
            result = method(*args, **kwargs)
        except RemoteError as exc:
            done[f"{what} refused ({exc.exc_type})"] += 1
            return None
        done[what] += 1
        return result

    try:
        with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri}, timeout=RPC_TIMEOUT) as rpc:
            for pid in week.people:
                me = {"role": "agent", "person_id": pid}
                call("mail off", rpc.notify.set_preferences, me, no_mail)
                call("weekly patterns", rpc.presence.set_pattern, me, week.patterns[pid])
                if pid in week.plans:
                    call("leave and missions", rpc.presence.set_plan, me, week.plans[pid])
                call("privacy", rpc.presence.set_privacy, me, week.visibility.get(pid, "everyone"))
            for booking in week.bookings:
                me = {"role": "agent", "person_id": booking.person_id}
                made = call("desk bookings", rpc.booking.create_booking, me, booking.request(),
                            idempotency_key=booking.idempotency_key)
                if made and booking.check_in:  # checking in twice is harmless
                    call("check-ins", rpc.booking.check_in, me, made["id"])
            for status in week.statuses:
                me = {"role": "agent", "person_id": status.person_id}
                call(f"statuses ({status.kind})", rpc.presence.set_status, me, status.kind,
                     status.until.isoformat())
    except (OSError, ConnectionError) as exc:
        raise CommandError(f"RabbitMQ unreachable ({exc}); is ESCALE_AMQP_URI right?") from None
    except (UnknownService, RpcTimeout) as exc:
        raise CommandError("The booking, presence and notify services must be running "
                           f"(`make run` starts them): {exc!r}") from None
    print(f"demo week: {len(week.people)} colleagues over {len(week.days)} working day(s), "
          f"{week.days[0] if week.days else '-'} to {week.days[-1] if week.days else '-'}", file=out)
    for what, count in sorted(done.items()):
        print(f"  {what}: {count}", file=out)
    return done


def _load(url: str, site_code: str):
    from booking.adapters.store import site_from_row
    from booking.demo.week import Agent, Desk

    with psycopg.connect(url, row_factory=dict_row) as conn:
        row = conn.execute("SELECT * FROM site WHERE code = %s", (site_code,)).fetchone()
        if row is None:
            raise CommandError(f"No site {site_code!r}: run `escale demo seed` first.")
        agents = [
            Agent(str(r["id"]), r["email"], frozenset(str(t) for t in r["teams"] if t))
            for r in conn.execute(
                "SELECT p.id, p.email, array_agg(m.team_id) AS teams FROM person p "
                "LEFT JOIN team_member m ON m.person_id = p.id WHERE p.active GROUP BY p.id")
        ]
        desks = [
            Desk(str(r["id"]), str(r["team_id"]) if r["team_id"] else None,
                 frozenset(str(t) for t in r["restricted_team_ids"]))
            for r in conn.execute(
                "SELECT r.id, z.team_id, r.restricted_team_ids FROM resource r JOIN zone z ON z.id = r.zone_id "
                "WHERE r.site_id = %s AND r.kind = 'desk' AND r.active ORDER BY r.code", (row["id"],))
        ]
    return site_from_row(row), agents, desks
