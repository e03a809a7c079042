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

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from tests.support.demo_system import demo_system

pytestmark = pytest.mark.e2e

EXAMPLES = int(os.environ.get("ESCALE_FUZZ_EXAMPLES", "8"))


@pytest.fixture(scope="module")
def fuzz_system(run_id, smtp_server):
    """A whole system of this module's own, seeded with the demo site."""
    with demo_system(run_id, "fuzz", smtp_server.port) as gateway:
        yield gateway


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
