"""The OpenAPI document is a promise: schemathesis holds the gateway to it.

Hypothesis generates requests from the published document for every
operation, with a valid agent token and a valid admin token, against a whole
system of its own (booking, presence, notify and the gateway on databases
and a vhost of this module's own, seeded with the demo town hall, so admin
writes never disturb other tests). Two promises are checked on every
answer: no 5xx, and every response matches the schema the document gives
for its status. The number of examples is bounded so the suite stays fast;
``ESCALE_FUZZ_EXAMPLES`` raises it for a longer hunt.
"""

from __future__ import annotations

import os
import subprocess
from urllib.parse import quote

import httpx
import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.support.notify import notify_process
from tests.support.presence import delete_prefix, presence_process
from tests.support.processes import booking_process, gateway_process
from tests.support.servers import AMQP_BASE, REDIS_URL, create_database, drop_database

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("ESCALE_FUZZ_EXAMPLES", "8"))
ADMIN_EMAIL = "admin.demo@mairie-exemple.fr"
AGENT_EMAIL = "agent.demo@mairie-exemple.fr"


@pytest.fixture(scope="module")
def fuzz_system(run_id, smtp_server):
    """A whole system of this module's own, seeded with the demo site."""
    import redis

    from booking.adapters.importer import import_people, import_resources
    from booking.adapters.migrate import upgrade as upgrade_booking
    from booking.demo import demo_csvs
    from gateway.adapters.migrate import upgrade as upgrade_gateway
    from gateway.adapters.tokens import issue_token
    from notify.adapters.migrate import upgrade as upgrade_notify
    from presence.adapters.migrate import upgrade as upgrade_presence

    vhost = f"escale-fuzz-{run_id}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", vhost], check=True, timeout=60)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
                   check=True, timeout=60)
    amqp = f"{AMQP_BASE}/{quote(vhost, safe='')}"
    names = {k: f"escale_test_{run_id}_fuzz_{k}" for k in ("booking", "gateway", "notify", "presence")}
    urls = {k: create_database(v) for k, v in names.items()}
    prefix = f"escale-test-{run_id}:fuzz:"
    processes = []
    try:
        upgrade_booking(urls["booking"])
        upgrade_gateway(urls["gateway"])
        upgrade_notify(urls["notify"])
        upgrade_presence(urls["presence"])
        resources_csv, people_csv = demo_csvs()
        with psycopg.connect(urls["booking"]) as conn:
            import_people(conn, people_csv)
            import_resources(conn, resources_csv)
            conn.commit()
            agent_id = str(conn.execute("SELECT id FROM person WHERE email = %s", (AGENT_EMAIL,)).fetchone()[0])
            admin_id = str(conn.execute("SELECT id FROM person WHERE email = %s", (ADMIN_EMAIL,)).fetchone()[0])
        processes.append(booking_process(amqp, urls["booking"]).start())
        processes.append(presence_process(amqp, urls["presence"], f"{prefix}presence:").start(timeout=60))
        processes.append(notify_process(amqp, urls["notify"], smtp_server.port).start())
        gateway = gateway_process(amqp, urls["gateway"], ESCALE_REDIS_URL=REDIS_URL,
                                  ESCALE_PRESENCE_REDIS_PREFIX=f"{prefix}presence:",
                                  ESCALE_GATEWAY_REDIS_PREFIX=f"{prefix}gateway:").start()
        processes.append(gateway)
        gateway.tokens = {
            "agent": issue_token(urls["gateway"], email=AGENT_EMAIL, role="agent", person_id=agent_id),
            "admin": issue_token(urls["gateway"], email=ADMIN_EMAIL, role="admin", person_id=admin_id),
        }
        yield gateway
    finally:
        for process in reversed(processes):
            process.stop()
        client = redis.Redis.from_url(REDIS_URL)
        delete_prefix(client, prefix)
        client.close()
        for name in names.values():
            drop_database(name)
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", vhost], check=False, timeout=60)


def _published_document() -> dict:
    """The document exactly as the gateway publishes it, built without serving."""
    import json

    from gateway.app import create_app
    from gateway.routes.docs import OPENAPI_KEY
    from gateway.settings import Settings

    return json.loads(create_app(Settings.from_env({}))[OPENAPI_KEY])


DOCUMENT = _published_document()
# Operation paths are relative to the document's first server (``/api/v1``).
SERVER_PATH = (DOCUMENT.get("servers") or [{"url": ""}])[0]["url"]
schema = schemathesis.openapi.from_dict(DOCUMENT)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_keeps_its_documented_promises(case, fuzz_system):
    # The same request as an agent (most refusals) and as an admin (most writes).
    for role in ("agent", "admin"):
        case.call_and_validate(
            base_url=f"{fuzz_system.url}{SERVER_PATH}",
            headers={"Authorization": f"Bearer {fuzz_system.tokens[role]}"},
            checks=[not_a_server_error, response_schema_conformance],
            timeout=30,
        )
