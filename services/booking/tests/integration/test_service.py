"""The booking service as deployed: `nameko run` in its own process, reached
over RabbitMQ, with its health and metrics endpoints."""

from datetime import timedelta

import httpx
import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ServiceRpcProxy
from tests.support.clock import paris_today

pytestmark = pytest.mark.integration


@pytest.fixture
def rpc(booking_service, amqp_uri):
    with ServiceRpcProxy("booking", {"AMQP_URI": amqp_uri}, timeout=10) as proxy:
        yield proxy


def health_base(booking_service) -> str:
    return booking_service.health_url.rsplit("/", 1)[0]


def test_health_readiness_and_metrics(booking_service, rpc):
    base = health_base(booking_service)
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{base}/readyz").status_code == 200
    rpc.list_sites()
    metrics = httpx.get(f"{base}/metrics").text
    assert 'escale_booking_calls_total{method="list_sites",outcome="ok"}' in metrics
    assert "escale_booking_outbox_pending" in metrics


def test_domain_errors_cross_the_wire_with_code_message_and_details(rpc, place):
    actor = {"person_id": place.people[0], "role": "agent"}
    day = (paris_today() + timedelta(days=1)).isoformat()
    booked = rpc.create_booking(actor=actor, request={"resource_id": place.rooms[0], "date": day, "period": "morning"})
    with pytest.raises(RemoteError) as caught:
        rpc.create_booking(actor={"person_id": place.people[1], "role": "agent"},
                           request={"resource_id": place.rooms[0], "date": day, "period": "morning"})
    assert caught.value.exc_type == "ResourceAlreadyBooked"
    assert booked["booking"]["status"] == "confirmed"
    assert caught.value.value == "Quelqu'un a déjà réservé Salle 0 sur ce créneau."


def test_domain_errors_are_worded_in_the_callers_language(booking_service, amqp_uri, place):
    day = (paris_today() + timedelta(days=1)).isoformat()
    request = {"resource_id": place.rooms[0], "date": day, "period": "afternoon"}
    with ServiceRpcProxy("booking", {"AMQP_URI": amqp_uri}, timeout=10,
                         context_data={"language": "en"}) as english:
        english.create_booking(actor={"person_id": place.people[0], "role": "agent"}, request=request)
        with pytest.raises(RemoteError) as caught:
            english.create_booking(actor={"person_id": place.people[1], "role": "agent"},
                                   request=request)
    assert caught.value.exc_type == "ResourceAlreadyBooked"
    assert caught.value.value == "Salle 0 is already booked at that time."


def test_unknown_callers_are_refused(rpc, place):
    with pytest.raises(RemoteError) as caught:
        rpc.list_bookings(actor={"role": "intruder"})
    assert caught.value.exc_type == "Forbidden"
