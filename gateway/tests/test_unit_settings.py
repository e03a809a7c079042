"""Settings come from the environment, with safe defaults and fast failures."""

from __future__ import annotations

import pytest

from gateway.settings import Settings, SettingsError

pytestmark = pytest.mark.unit


def test_defaults_match_the_architecture_table():
    s = Settings.from_env({})
    assert s.env == "development"
    assert s.amqp_uri == "amqp://guest:guest@127.0.0.1:5672/"
    assert s.database_url == "postgresql://postgres@127.0.0.1:5432/escale_gateway"
    assert (s.host, s.port) == ("127.0.0.1", 8080)
    assert s.rpc_timeout == 10.0
    assert s.log_level == "INFO"
    assert s.json_max_size == 64 * 1024 and s.csv_max_size == 2 * 1024 * 1024


def test_values_from_the_environment():
    s = Settings.from_env({
        "ESCALE_GATEWAY_PORT": "9000", "ESCALE_GATEWAY_HOST": "0.0.0.0",
        "ESCALE_RPC_TIMEOUT": "2.5", "ESCALE_LOG_LEVEL": "debug",
        "ESCALE_AMQP_URI": "amqp://u:p@mq:5672/escale",
    })
    assert (s.host, s.port, s.rpc_timeout, s.log_level) == ("0.0.0.0", 9000, 2.5, "DEBUG")
    assert s.amqp_uri == "amqp://u:p@mq:5672/escale"


def test_production_refuses_missing_secrets():
    with pytest.raises(SettingsError) as error:
        Settings.from_env({"ESCALE_ENV": "production", "ESCALE_AMQP_URI": "amqp://u:p@mq/"})
    assert "ESCALE_GATEWAY_DATABASE_URL" in str(error.value)
    s = Settings.from_env({
        "ESCALE_ENV": "production", "ESCALE_AMQP_URI": "amqp://u:p@mq/",
        "ESCALE_GATEWAY_DATABASE_URL": "postgresql://gw:pw@db/escale_gateway",
    })
    assert s.production


@pytest.mark.parametrize("env", [
    {"ESCALE_GATEWAY_PORT": "http"},
    {"ESCALE_GATEWAY_PORT": "70000"},
    {"ESCALE_RPC_TIMEOUT": "-1"},
    {"ESCALE_RPC_TIMEOUT": "soon"},
    {"ESCALE_LOG_LEVEL": "LOUD"},
    {"ESCALE_AMQP_URI": "http://rabbit"},
    {"ESCALE_GATEWAY_DATABASE_URL": "mysql://db"},
])
def test_bad_values_fail_at_start(env):
    with pytest.raises(SettingsError):
        Settings.from_env(env)
