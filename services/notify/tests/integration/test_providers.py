"""The service's dependencies are ready once set up: nameko starts every
extension at once, so a timer may run a worker before ``start()`` returns
(a notify process once died at start-up under load: 'Outside' object has no
attribute 'transports')."""

import pytest

from notify.dependencies import Outside, Store

pytestmark = pytest.mark.integration


class _Container:
    config = {}


@pytest.mark.parametrize("provider_class", [Outside, Store])
def test_a_worker_gets_its_dependency_right_after_setup(provider_class, notify_db_url, monkeypatch):
    monkeypatch.setenv("ESCALE_NOTIFY_DATABASE_URL", notify_db_url)
    provider = provider_class().bind(_Container(), "dependency")
    provider.setup()
    try:
        assert provider.get_dependency(worker_ctx=None) is not None  # no start() in between
    finally:
        provider.stop()
