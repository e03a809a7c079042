"""Root conftest: shared fixtures for every test folder."""

pytest_plugins = [
    "tests.support.servers", "tests.support.processes", "tests.support.data", "tests.support.notify",
    "tests.support.presence", "tests.support.tablets",
    "tests.support.ews_replica", "tests.support.graph_replica",
    "tests.support.radicale",
]
