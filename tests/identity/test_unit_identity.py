"""Identity building blocks without I/O: role maps, settings, CSRF, redirects, limits."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from gateway.adapters.tokens import TokenRecord
from gateway.oidc import STATE_LENGTH, Flow, OidcSettings, RoleMap, groups_of, new_flow
from gateway.ratelimit import Limit, RateLimitSettings
from gateway.security import SecuritySettings
from gateway.sessions import (
    SessionSettings, csrf_token_for, csrf_valid, safe_next, session_usable,
)
from gateway.settings import Settings, SettingsError

pytestmark = pytest.mark.unit

ROLE_MAP = "escale-admins=admin; site-admin-HDV=site_admin:HDV; annexes=site_admin:ANX1,ANX2; staff=agent"


def test_role_map_gives_the_highest_role_of_ones_groups():
    roles = RoleMap.parse(ROLE_MAP)
    assert roles.resolve(frozenset({"staff", "escale-admins"})) == ("admin", frozenset())
    assert roles.resolve(frozenset({"site-admin-HDV", "annexes"})) == (
        "site_admin", frozenset({"HDV", "ANX1", "ANX2"}))
    assert roles.resolve(frozenset({"staff"})) == ("agent", frozenset())
    assert roles.resolve(frozenset({"other"})) == ("agent", frozenset())


def test_role_map_takes_ldap_group_names():
    roles = RoleMap.parse("cn=escale-admins,ou=groups,dc=ville,dc=fr=admin")
    assert roles.resolve(frozenset({"cn=escale-admins,ou=groups,dc=ville,dc=fr"})) == (
        "admin", frozenset())


def test_role_map_may_refuse_people_without_a_mapped_group():
    roles = RoleMap.parse(ROLE_MAP, default_role="none")
    assert roles.resolve(frozenset({"other"})) == (None, frozenset())
    assert roles.resolve(frozenset({"staff"})) == ("agent", frozenset())


@pytest.mark.parametrize("text", ["admins", "=admin", "g=root", "g=site_admin", "g=admin:HDV",
                                  "g=bot", "g=device"])
def test_role_map_rejects_what_it_cannot_mean(text):
    with pytest.raises(ValueError):
        RoleMap.parse(text)


def test_groups_claim_as_a_list_or_a_string():
    assert groups_of({"groups": ["a", "b", 3, ""]}, "groups") == {"a", "b"}
    assert groups_of({"roles": "a b,c"}, "roles") == {"a", "b", "c"}
    assert groups_of({}, "groups") == frozenset()


def oidc_env(**extra):
    return {"ESCALE_OIDC_ISSUER": "https://idp.example.org/realms/ville/",
            "ESCALE_OIDC_CLIENT_ID": "escale", "ESCALE_OIDC_CLIENT_SECRET": "s3cret",
            "ESCALE_OIDC_REDIRECT_URL": "https://escale.example.org/auth/callback", **extra}


def test_oidc_settings_from_the_environment():
    settings = OidcSettings.from_env(oidc_env(ESCALE_OIDC_PKCE="0", ESCALE_OIDC_CLOCK_SKEW="120",
                                              ESCALE_OIDC_ROLE_MAP=ROLE_MAP), "production")
    assert settings.enabled and settings.issuer == "https://idp.example.org/realms/ville"
    assert settings.pkce is False and settings.clock_skew == 120
    assert settings.scopes == ("openid", "email", "profile")
    assert settings.after_logout == "https://escale.example.org/"
    assert "s3cret" not in repr(settings)
    assert not OidcSettings.from_env({}, "production").enabled


@pytest.mark.parametrize("change", [
    {"ESCALE_OIDC_CLIENT_SECRET": ""},
    {"ESCALE_OIDC_ISSUER": "http://idp.example.org"},       # production needs https
    {"ESCALE_OIDC_REDIRECT_URL": "https://escale.example.org/elsewhere"},
    {"ESCALE_OIDC_SCOPES": "email profile"},
    {"ESCALE_OIDC_PKCE": "maybe"},
    {"ESCALE_OIDC_CLOCK_SKEW": "-1"},
    {"ESCALE_OIDC_ROLE_MAP": "g=root"},
])
def test_oidc_settings_refuse_an_incomplete_or_unsafe_configuration(change):
    with pytest.raises(SettingsError):
        OidcSettings.from_env(oidc_env(**change), "production")


def test_state_nonce_and_verifier_are_long_and_fresh():
    flows = [new_flow("/", "b" * 64, pkce=True) for _ in range(50)]
    assert STATE_LENGTH >= 32
    assert all(len(f.state) >= 32 and len(f.nonce) >= 32 and 43 <= len(f.verifier) <= 128
               for f in flows)
    assert len({f.state for f in flows} | {f.nonce for f in flows}) == 100
    assert new_flow("/", "b", pkce=False).verifier is None
    flow = flows[0]
    assert Flow.loads(flow.state, flow.dumps()) == flow


def test_session_settings_defaults_depend_on_the_mode():
    assert SessionSettings.from_env({}, "development").demo_signin is True
    assert SessionSettings.from_env({}, "production").demo_signin is False
    settings = SessionSettings.from_env({"ESCALE_SESSION_IDLE_MINUTES": "15",
                                         "ESCALE_SESSION_MAX_MINUTES": "480",
                                         "ESCALE_DEMO_ADMINS": "A@x.fr, b@x.fr"}, "production")
    assert settings.idle == timedelta(minutes=15) and settings.absolute == timedelta(hours=8)
    assert settings.demo_admins == {"a@x.fr", "b@x.fr"}
    for bad in ({"ESCALE_SESSION_IDLE_MINUTES": "2"}, {"ESCALE_SESSION_MAX_MINUTES": "x"},
                {"ESCALE_DEMO_SIGNIN": "perhaps"}):
        with pytest.raises(SettingsError):
            SessionSettings.from_env(bad, "development")


def test_csrf_token_is_bound_to_its_session():
    one, two = "ess_" + "a" * 43, "ess_" + "b" * 43
    assert csrf_token_for(one) == csrf_token_for(one) != csrf_token_for(two)
    assert len(csrf_token_for(one)) == 43
    assert csrf_valid(one, csrf_token_for(one))
    assert not csrf_valid(one, csrf_token_for(two))
    assert not csrf_valid(one, None) and not csrf_valid(one, "")


def record(**kw) -> TokenRecord:
    now = datetime.now(timezone.utc)
    base = dict(id=uuid.uuid4(), email="a@x.fr", person_id=None, role="agent", kind="session",
                created_at=now - timedelta(minutes=5), last_used_at=now - timedelta(minutes=1),
                expires_at=now + timedelta(hours=1))
    return TokenRecord(**{**base, **kw})


def test_a_session_ends_when_idle_expired_or_revoked():
    now = datetime.now(timezone.utc)
    settings = SessionSettings(idle=timedelta(minutes=30))
    assert session_usable(record(), now, settings)
    assert not session_usable(record(last_used_at=now - timedelta(minutes=31)), now, settings)
    assert not session_usable(record(expires_at=now - timedelta(seconds=1)), now, settings)
    assert not session_usable(record(revoked_at=now), now, settings)


@pytest.mark.parametrize("value, expected", [
    ("/plan?d=1#x", "/plan?d=1#x"), ("/", "/"), (None, "/"), ("", "/"), ("plan", "/"),
    ("//evil.example", "/"), ("/\\evil.example", "/"), ("https://evil.example/", "/"),
    ("/\nSet-Cookie:x", "/"), ("javascript:alert(1)", "/"),
])
def test_only_same_origin_paths_are_followed_after_sign_in(value, expected):
    assert safe_next(value) == expected


def test_rate_limits_parse_and_default_on_in_production_only():
    assert Limit.parse("X", "600/60") == Limit(600, 60)
    assert Limit.parse("X", "100") == Limit(100, 60)
    assert not Limit.parse("X", "0").on
    for bad in ("-1", "10/0", "ten", "10/x"):
        with pytest.raises(SettingsError):
            Limit.parse("X", bad)
    production = RateLimitSettings.from_env({}, "production")
    assert production.per_credential.on and production.per_address.on
    development = RateLimitSettings.from_env({}, "development")
    assert not development.per_credential.on and not development.per_address.on


def test_display_frame_ancestors_must_be_origins():
    settings = SecuritySettings.from_env(
        {"ESCALE_DISPLAY_FRAME_ANCESTORS": "https://signage.example.org 'self'"}, "production")
    assert settings.display_frame_ancestors == ("https://signage.example.org", "'self'")
    with pytest.raises(SettingsError):
        SecuritySettings.from_env({"ESCALE_DISPLAY_FRAME_ANCESTORS": "*; script-src *"}, "production")


def test_the_gateway_settings_carry_the_identity_parts():
    settings = Settings.from_env({**oidc_env(), "ESCALE_ENV": "development"})
    assert settings.oidc.enabled and settings.sessions.demo_signin
    assert not settings.security.rate_limits.per_credential.on
