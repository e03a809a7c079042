"""What ``escale broker setup`` declares, read from the services' own
entrypoints (no broker needed)."""

from __future__ import annotations

import importlib

import pytest
from nameko.events import event_handler as nameko_event_handler

from escale_common import broker, messaging

pytestmark = pytest.mark.unit


def services():
    from escale_cli.commands import SERVICES

    return [getattr(importlib.import_module(module), name) for module, name in SERVICES]


def test_every_service_package_is_set_up_by_the_cli():
    from pathlib import Path

    from escale_cli.commands import SERVICES

    root = Path(__file__).resolve().parents[2] / "services"
    packages = {p.name for p in root.iterdir() if (p / p.name / "service.py").exists()}
    assert {module.split(".")[0] for module, _ in SERVICES} == packages


def test_every_consumer_queue_is_a_quorum_queue_with_a_dead_letter_queue():
    topology = broker.topology_of(*services())
    queues = {q.name: q for q in topology.queues}
    assert {"rpc-booking", "rpc-presence", "rpc-notify", "dlq-presence", "dlq-notify"} <= set(queues)
    assert all(q.arguments["x-queue-type"] == "quorum" for q in queues.values())
    events = [q for q in queues.values() if q.name.startswith("evt-")]
    assert len(events) >= 12  # six booking events for presence, six for notify
    for queue in events:
        service = queue.name.split("--")[1].split(".")[0]
        assert queue.arguments["x-dead-letter-exchange"] == messaging.DEAD_LETTER_EXCHANGE
        assert queue.arguments["x-dead-letter-routing-key"] == service
        assert queue.arguments["x-delivery-limit"] >= 1
        ((exchange, routing_key),) = queue.bindings
        source, event_type = queue.name[len("evt-"):].split("--")[0].split("-", 1)
        assert (exchange, routing_key) == (f"{source}.events", event_type)
    # nameko's own naming, so the gateway and the docs stay right.
    assert "evt-booking-booking.created--presence.on_booking_created" in queues
    assert topology.exchanges[messaging.DEAD_LETTER_EXCHANGE] == "direct"


def test_a_handler_declared_with_nameko_s_own_decorator_is_refused():
    class Sloppy:
        name = "sloppy"

        @nameko_event_handler("booking", "booking.created")
        def on_created(self, payload):
            pass

    with pytest.raises(TypeError, match="escale_common.messaging"):
        broker.topology_of(Sloppy)


def test_queue_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("ESCALE_AMQP_DELIVERY_LIMIT", "7")
    assert messaging.event_queue_arguments("presence")["x-delivery-limit"] == 7
    monkeypatch.setenv("ESCALE_AMQP_PREFETCH", "0")
    with pytest.raises(SystemExit, match="ESCALE_AMQP_PREFETCH"):
        messaging.prefetch_limit()
