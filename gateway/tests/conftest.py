"""Gateway test fixtures.

* ``booking``: a fake booking service speaking nameko's real RPC protocol
  over the run's RabbitMQ vhost. It consumes ``rpc-booking`` (bound to
  ``nameko-rpc`` with ``booking.*``) as a nameko service does, answers from
  canned handlers, and replies ``{"result", "error"}`` where domain errors
  look exactly like nameko's serialisation of ``booking.domain.errors.*``
  (``exc_args = [code, message, details]``). Every call is recorded so tests
  can assert what the gateway sent. Ids and canned records are attributes
  of the fake (``booking.SITE_ID``...).
* ``tokens``: real tokens of every role in the run's gateway database.
* ``client``: a test client of ``create_app(settings)``.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import quote

import aio_pika
import pytest
from aio_pika import ExchangeType, Message

from gateway.adapters.tokens import issue_token, list_tokens, revoke_token
from gateway.app import create_app
from gateway.settings import Settings
from tests.support.servers import AMQP_BASE, _rabbitmqctl

SITE_ID = "5a1c0000-0000-4000-8000-000000000001"
OTHER_SITE_ID = "5a1c0000-0000-4000-8000-000000000002"
FLOOR_ID = "f1000000-0000-4000-8000-000000000001"
ZONE_ID = "20000000-0000-4000-8000-000000000001"
DESK_ID = "de5c0000-0000-4000-8000-000000000001"
OTHER_DESK_ID = "de5c0000-0000-4000-8000-000000000002"
BOOKING_ID = "b0000000-0000-4000-8000-000000000001"
AGENT_PERSON_ID = "9e000000-0000-4000-8000-000000000001"
EMAIL_PERSON_ID = "9e000000-0000-4000-8000-000000000002"

SITE = {
    "id": SITE_ID, "code": "HDV", "name": "Hôtel de ville", "address": "1 place de la Mairie",
    "timezone": "Europe/Paris", "opening_time": "07:30", "midday_time": "13:00",
    "closing_time": "20:00", "closed_weekdays": [6, 7], "closed_dates": [],
    "holiday_country": "FR", "holiday_subdivision": None,
}
DESK = {
    "id": DESK_ID, "site_id": SITE_ID, "floor_id": FLOOR_ID, "zone_id": ZONE_ID, "kind": "desk",
    "code": "R1-CCAS-01", "name": "Bureau CCAS 01", "capacity": 1,
    "attributes": {"docking_station": True, "screens": 2}, "restricted_team_ids": [],
    "x": 10.0, "y": 20.0,
}
OTHER_DESK = {**DESK, "id": OTHER_DESK_ID, "site_id": OTHER_SITE_ID, "code": "X-01"}
PERSON = {
    "id": AGENT_PERSON_ID, "email": "agent@example.org", "display_name": "Camille Durand",
    "given_name": "Camille", "family_name": "Durand", "department": "CCAS", "job_title": "",
    "phone_extension": "1234", "language": "fr",
    "teams": [{"id": "7e000000-0000-4000-8000-000000000001", "code": "CCAS", "name": "CCAS"}],
}


class DomainError(Exception):
    """Raised by a canned handler: replied as booking.domain.errors.<cls>."""

    def __init__(self, code: str, message: str, exc_type: str = "DomainError", **details):
        super().__init__(code, message, details)
        self.code, self.message, self.details, self.exc_type = code, message, details, exc_type


@dataclass
class Recorded:
    method: str
    kwargs: dict
    headers: dict


def booking_of(actor: dict, request: dict) -> dict:
    return {
        "id": str(uuid.uuid4()), "status": "confirmed",
        "start": request.get("start", f"{request.get('date')}T07:30:00+01:00"),
        "end": request.get("end", f"{request.get('date')}T20:00:00+01:00"),
        "resource_id": request["resource_id"], "resource_kind": "desk",
        "resource_name": "Bureau CCAS 01", "site_id": SITE_ID, "floor_id": FLOOR_ID,
        "zone_id": ZONE_ID, "person_id": request.get("person_id") or actor["person_id"],
        "series_id": None, "period": request.get("period", "slot"),
        "title": request.get("title", ""),
        "source": "api", "created_at": "2026-03-01T10:00:00+01:00", "checked_in_at": None,
    }


def _default_handlers() -> dict[str, Callable[..., Any]]:
    def not_found(**_):
        raise DomainError("not_found", "Introuvable.", "NotFound")

    def get_person_by_email(email):
        if email == "agent.email@example.org":
            return {**PERSON, "id": EMAIL_PERSON_ID, "email": email}
        raise DomainError("not_found", "Aucune personne avec cette adresse.", "NotFound")

    def get_resource(resource_id):
        for desk in (DESK, OTHER_DESK):
            if desk["id"] == resource_id:
                return desk
        not_found()

    def site_tree(site_id):
        if site_id != SITE_ID:
            not_found()
        return {"site": SITE, "buildings": [{"id": str(uuid.UUID(int=1)), "site_id": SITE_ID,
                "code": "A", "name": "Bâtiment A", "floors": [{"id": FLOOR_ID, "code": "R1",
                "name": "Rez-de-chaussée", "level": 0, "zones": [{"id": ZONE_ID, "code": "CCAS",
                "name": "CCAS"}]}]}]}

    return {
        "list_sites": lambda: [SITE],
        "site_tree": site_tree,
        "list_resources": lambda **kw: [DESK],
        "get_resource": get_resource,
        "get_person": lambda person_id: PERSON if person_id == AGENT_PERSON_ID else not_found(),
        "get_person_by_email": get_person_by_email,
        "search_people": lambda q, limit=20: [PERSON][:limit],
        "create_booking": lambda actor, request, idempotency_key=None: {
            "booking": booking_of(actor, request)},
        "get_booking": lambda actor, booking_id: {**booking_of(actor, {
            "resource_id": DESK_ID, "start": "2026-03-10T09:00:00+01:00",
            "end": "2026-03-10T12:00:00+01:00"}), "id": booking_id},
        "list_bookings": lambda actor, **kw: [],
        "cancel_booking": lambda actor, booking_id, scope="this": {"cancelled": []},
        "check_in": lambda actor, booking_id: {"id": booking_id, "status": "checked_in"},
        "availability": lambda actor, compact=False, **kw: (
            {"start": kw.get("start"), "end": kw.get("end"), "statuses": [[DESK["id"], "booked", BOOKING_ID, None]]}
            if compact else
            {"start": kw.get("start"), "end": kw.get("end"), "resources": [{**DESK, "status": "free"}]}),
        "get_rules": lambda site_id: {k: {"max_days_ahead": 30, "max_recurring_days_ahead": 90,
                                          "max_duration_minutes": 600,
                                          "checkin_opens_minutes_before": 15,
                                          "release_after_minutes": 30}
                                      for k in ("desk", "room", "equipment")},
        "set_rules": lambda actor, site_id, resource_kind, rules: rules,
        "create_entity": lambda actor, entity, data: {"id": str(uuid.uuid4()), **data},
        "update_entity": lambda actor, entity, entity_id, data: {"id": entity_id, **data},
        "delete_entity": lambda actor, entity, entity_id: {"id": entity_id},
        "import_resources": lambda actor, csv_text: {"created": csv_text.count("\n"), "updated": 0},
        "import_people": lambda actor, csv_text: {"created": 1, "updated": 0},
    }


class FakeBooking:
    SITE_ID = SITE_ID
    OTHER_SITE_ID = OTHER_SITE_ID
    FLOOR_ID = FLOOR_ID
    ZONE_ID = ZONE_ID
    DESK_ID = DESK_ID
    OTHER_DESK_ID = OTHER_DESK_ID
    AGENT_PERSON_ID = AGENT_PERSON_ID
    EMAIL_PERSON_ID = EMAIL_PERSON_ID
    SITE = SITE
    DESK = DESK
    BOOKING_ID = BOOKING_ID
    PERSON = PERSON
    DomainError = DomainError

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        self.handlers: dict[str, Callable[..., Any]] = {}
        self.calls: list[Recorded] = []
        self.delay = 0.0
        self._connection = None
        self._queue = None
        self._exchange = None
        self._tag = None

    def reset(self) -> None:
        self.handlers = _default_handlers()
        self.calls = []
        self.delay = 0.0

    @property
    def work(self) -> list[Recorded]:
        """The calls made for the request itself (not the token's person lookup)."""
        return [c for c in self.calls if c.method != "get_person_by_email"]

    def calls_to(self, method: str) -> list[Recorded]:
        return [c for c in self.calls if c.method == method]

    async def start(self) -> None:
        self.reset()
        self._connection = await aio_pika.connect_robust(self.amqp_uri)
        # No publisher confirms on replies (nameko's responder does not wait
        # for them either): a confirm per reply would serialise the fake.
        channel = await self._connection.channel(publisher_confirms=False)
        await channel.set_qos(prefetch_count=50)
        self._exchange = await channel.declare_exchange("nameko-rpc", ExchangeType.TOPIC,
                                                        durable=True)
        self._queue = await channel.declare_queue("rpc-booking", durable=True)
        await self._queue.bind(self._exchange, routing_key="booking.*")
        await self.resume()

    async def pause(self) -> None:
        """Stop consuming but keep the durable queue, like a stopped nameko service."""
        if self._tag is not None:
            await self._queue.cancel(self._tag)
            self._tag = None

    async def resume(self) -> None:
        if self._tag is None:
            self._tag = await self._queue.consume(self._on_request)

    async def stop(self) -> None:
        await self.pause()
        await self._queue.delete(if_unused=False, if_empty=False)
        await self._connection.close()

    async def _on_request(self, message: aio_pika.abc.AbstractIncomingMessage) -> None:
        async with message.process():
            method = message.routing_key.split(".", 1)[1]
            body = json.loads(message.body)
            kwargs = body.get("kwargs", {})
            self.calls.append(Recorded(method, kwargs, dict(message.headers or {})))
            if self.delay:
                await asyncio.sleep(self.delay)
            handler = self.handlers.get(method)
            try:
                if handler is None:
                    raise LookupError(method)
                reply = {"result": handler(*body.get("args", []), **kwargs), "error": None}
            except DomainError as exc:
                reply = {"result": None, "error": {
                    "exc_type": exc.exc_type,
                    "exc_path": f"booking.domain.errors.{exc.exc_type}",
                    "exc_args": [exc.code, exc.message, exc.details],
                    "value": exc.message,
                }}
            except Exception as exc:  # like nameko: any other error is serialised as is
                reply = {"result": None, "error": {
                    "exc_type": type(exc).__name__,
                    "exc_path": f"builtins.{type(exc).__name__}",
                    "exc_args": [repr(a) for a in exc.args],
                    "value": "Traceback (most recent call last): secret internals",
                }}
            await self._exchange.publish(
                Message(json.dumps(reply).encode(), correlation_id=message.correlation_id,
                        content_type="application/json"),
                routing_key=message.reply_to,
            )


@pytest.fixture(scope="session")
def gateway_vhost(run_id):
    """A RabbitMQ vhost of the gateway tests' own.

    Not the run's shared vhost: other test folders start the real booking
    service there, and it would share ``rpc-booking`` with the fake.
    """
    vhost = f"escale-test-{run_id}-gateway"
    _rabbitmqctl("add_vhost", vhost)
    _rabbitmqctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")
    yield vhost
    _rabbitmqctl("delete_vhost", vhost)


@pytest.fixture(scope="session")
def amqp_uri(gateway_vhost):
    """Overrides the run's vhost for every gateway test."""
    return f"{AMQP_BASE}/{quote(gateway_vhost, safe='')}"


@pytest.fixture(scope="session")
async def fake_service(amqp_uri):
    fake = FakeBooking(amqp_uri)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def booking(fake_service):
    """The fake booking service, reset to its canned answers."""
    fake_service.reset()
    await fake_service.resume()
    yield fake_service
    await fake_service.resume()


@pytest.fixture
def settings(amqp_uri, gateway_db_url) -> Settings:
    return Settings(amqp_uri=amqp_uri, database_url=gateway_db_url, rpc_timeout=3.0)


@pytest.fixture
async def client(aiohttp_client, settings, booking):
    return await aiohttp_client(create_app(settings))


@dataclass(frozen=True)
class Tokens:
    agent: str
    agent_by_email: str
    agent_unknown_email: str
    site_admin: str
    admin: str
    bot: str
    device: str
    revoked: str
    expired: str

    def auth(self, role: str, **headers) -> dict:
        """Request headers carrying the token of ``role`` (plus ``headers``)."""
        return {"Authorization": f"Bearer {getattr(self, role)}", **headers}


@pytest.fixture(scope="session")
def tokens(gateway_db_url) -> Tokens:
    url = gateway_db_url
    revoked = issue_token(url, email="gone@example.org", role="agent", label="revoked")
    rid = next(t.id for t in list_tokens(url) if t.label == "revoked")
    revoke_token(url, rid)
    return Tokens(
        agent=issue_token(url, email="agent@example.org", role="agent", person_id=AGENT_PERSON_ID),
        agent_by_email=issue_token(url, email="agent.email@example.org", role="agent"),
        agent_unknown_email=issue_token(url, email="nobody@example.org", role="agent"),
        site_admin=issue_token(url, email="sa@example.org", role="site_admin",
                               person_id=AGENT_PERSON_ID, site_ids=[SITE_ID]),
        admin=issue_token(url, email="admin@example.org", role="admin"),
        bot=issue_token(url, email="bot@example.org", role="bot"),
        device=issue_token(url, email="tablet@example.org", role="device",
                           room_id="00000000-0000-4000-8000-0000000000aa"),
        revoked=revoked,
        expired=issue_token(url, email="old@example.org", role="agent",
                            expires_at=datetime.now(timezone.utc) - timedelta(seconds=1)),
    )
