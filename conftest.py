"""Root conftest: shared fixtures for every test folder."""

pytest_plugins = ["tests.support.servers"]
