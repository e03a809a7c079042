"""Identity test fixtures: gateways configured for sign-in, and people to sign in.

``signin_gateway`` is a real gateway process (in front of the real booking
service) with the demo sign-in on and ``people.emails[1]`` as a demo admin;
``people`` are persons of the booking directory made for this module run.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import httpx
import pytest

from tests.support.data import make_place
from tests.support.processes import gateway_process
from tests.support.servers import REDIS_URL


@pytest.fixture(scope="session")
def people(booking_db_url):
    """A site with rooms, desks and three people of the directory."""
    return make_place(booking_db_url, desks=4, rooms=1, people=3)


@pytest.fixture(scope="session")
def signin_gateway(amqp_uri, gateway_db_url, booking_service, people, redis_prefix):
    process = gateway_process(
        amqp_uri, gateway_db_url, ESCALE_REDIS_URL=REDIS_URL,
        ESCALE_PRESENCE_REDIS_PREFIX=f"{redis_prefix}presence:",
        ESCALE_ENV="development", ESCALE_DEMO_SIGNIN="1",
        ESCALE_DEMO_ADMINS=people.emails[1],
    ).start()
    yield process
    process.stop()


@contextlib.contextmanager
def demo_signin(base_url: str, email: str, next_path: str | None = None,
                **client_options) -> Iterator[httpx.Client]:
    """A browser-like client signed in through the demo form (cookies kept)."""
    with httpx.Client(base_url=base_url, timeout=15, **client_options) as client:
        form = {"email": email}
        if next_path is not None:
            form["next"] = next_path
        answer = client.post("/auth/demo", data=form)
        assert answer.status_code == 303, answer.text
        yield client
