"""Identity test fixtures: gateways configured for sign-in, and people to sign in.

``signin_gateway`` is a real gateway process (in front of the real booking
service) with the demo sign-in on and ``people.emails[1]`` as a demo admin;
``people`` are persons of the booking directory made for this module run.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from tests.support.data import make_place
from tests.support.oidc import OidcProvider, follow_until, provider_form
from tests.support.processes import Process, gateway_process
from tests.support.servers import REDIS_URL, free_port


@pytest.fixture(scope="session")
def people(booking_db_url):
    """A site with rooms, desks and three people of the directory."""
    return make_place(booking_db_url, desks=4, rooms=1, people=3)


@pytest.fixture(scope="session", autouse=True)
def forget_gateway_keys(redis_prefix):
    """The identity gateways' Redis keys (rate limit windows, sign-ins in progress)
    are this run's only: deleted at the end."""
    yield
    import redis

    from tests.support.presence import delete_prefix

    delete_prefix(redis.Redis.from_url(REDIS_URL), f"{redis_prefix}gateway:")


@pytest.fixture(scope="session")
def signin_gateway(amqp_uri, gateway_db_url, booking_service, people, redis_prefix):
    process = gateway_process(
        amqp_uri, gateway_db_url, ESCALE_REDIS_URL=REDIS_URL,
        ESCALE_PRESENCE_REDIS_PREFIX=f"{redis_prefix}presence:",
        ESCALE_GATEWAY_REDIS_PREFIX=f"{redis_prefix}gateway:",
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


# --- OpenID Connect -------------------------------------------------------------------------

CLIENT_SECRET = "escale-test-client-secret-not-a-real-one"


@dataclass
class OidcSetup:
    provider: OidcProvider
    gateway: Process          # client "escale": PKCE, JSON userinfo, groups -> roles
    proconnect: Process       # client "escale-proconnect": no PKCE, signed JWT userinfo


def client_of(client_id: str, gateway_url: str, **metadata) -> dict:
    return {
        "client_id": client_id, "client_secret": CLIENT_SECRET,
        "redirect_uris": [f"{gateway_url}/auth/callback"],
        "post_logout_redirect_uris": [f"{gateway_url}/"],
        "grant_types": ["authorization_code"], "response_types": ["code"],
        "token_endpoint_auth_method": "client_secret_basic", **metadata,
    }


def oidc_env(issuer: str, client_id: str, gateway: Process, role_map: str = "", **extra) -> None:
    gateway.env.update({
        "ESCALE_OIDC_ISSUER": issuer, "ESCALE_OIDC_CLIENT_ID": client_id,
        "ESCALE_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        "ESCALE_OIDC_REDIRECT_URL": f"{gateway.url}/auth/callback",
        "ESCALE_OIDC_SCOPES": "openid email profile groups",
        "ESCALE_OIDC_ROLE_MAP": role_map, "ESCALE_DEMO_SIGNIN": "0", **extra,
    })


def _gateway(amqp_uri, gateway_db_url, redis_prefix) -> Process:
    return gateway_process(amqp_uri, gateway_db_url, ESCALE_REDIS_URL=REDIS_URL,
                           ESCALE_PRESENCE_REDIS_PREFIX=f"{redis_prefix}presence:",
                           ESCALE_GATEWAY_REDIS_PREFIX=f"{redis_prefix}gateway:")


@pytest.fixture(scope="session")
def site_code(people, booking_db_url) -> str:
    with psycopg.connect(booking_db_url) as conn:
        return conn.execute("SELECT code FROM site WHERE id = %s", (people.site_id,)).fetchone()[0]


@pytest.fixture(scope="session")
def oidc_users(people, site_code) -> dict[str, dict]:
    """The provider's accounts (login -> claims); any password signs them in."""
    return {
        "camille": {"email": people.emails[0], "email_verified": True, "name": "Agent0",
                    "groups": ["tous-agents"]},
        "dominique": {"email": people.emails[1], "email_verified": True,
                      "groups": ["escale-admins", "tous-agents"]},
        "sam": {"email": people.emails[2].upper(), "email_verified": True,
                "groups": [f"site-admins-{site_code}"]},
        "stranger": {"email": "not.in.directory@mairie-test.fr", "email_verified": True},
        "unverified": {"email": people.emails[0], "email_verified": False},
    }


@pytest.fixture(scope="module")
def oidc(amqp_uri, gateway_db_url, booking_service, redis_prefix, oidc_users, site_code):
    """One provider, the main gateway (started) and a ProConnect-like one (not started).
    For one module: their database connections go when it is done."""
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    main = _gateway(amqp_uri, gateway_db_url, redis_prefix)
    oidc_env(issuer, "escale", main, f"escale-admins=admin; site-admins-{site_code}=site_admin:{site_code}")
    proconnect = _gateway(amqp_uri, gateway_db_url, redis_prefix)
    oidc_env(issuer, "escale-proconnect", proconnect, ESCALE_OIDC_PKCE="0",
             ESCALE_OIDC_SCOPES="openid email")
    provider = OidcProvider(
        [client_of("escale", main.url),
         client_of("escale-proconnect", proconnect.url, userinfo_signed_response_alg="RS256"),
         client_of("other-app", "http://127.0.0.1:9")],
        oidc_users, strict_clients=("escale-proconnect",), port=port,
    ).start()
    main.start()
    yield OidcSetup(provider, main, proconnect)
    main.stop()
    proconnect.stop()
    provider.stop()


@pytest.fixture(scope="module")
def oidc_proconnect(oidc):
    yield oidc.proconnect.start()
    oidc.proconnect.stop()


@contextlib.contextmanager
def oidc_gateway(amqp_uri, gateway_db_url, redis_prefix, users, *, clock_offset: int = 0,
                 id_token_ttl: int = 3600, skew: int = 60):
    """A provider of its own (its clock off by ``clock_offset`` s) and a gateway using it."""
    port = free_port()
    gateway = _gateway(amqp_uri, gateway_db_url, redis_prefix)
    oidc_env(f"http://127.0.0.1:{port}", "escale", gateway, ESCALE_OIDC_CLOCK_SKEW=str(skew))
    provider = OidcProvider([client_of("escale", gateway.url)], users, port=port,
                            clock_offset=clock_offset, id_token_ttl=id_token_ttl).start()
    try:
        gateway.start()
        yield gateway, provider
    finally:
        gateway.stop()
        provider.stop()


def provider_client(provider: OidcProvider, client_id: str, login: str) -> tuple[str, str]:
    """Act as another application (``client_id``) signing ``login`` in at the provider;
    returns its ID token and the nonce it asked for."""
    client = next(c for c in provider.clients if c["client_id"] == client_id)
    redirect = client["redirect_uris"][0]
    state, nonce, verifier = generate_token(48), generate_token(48), generate_token(64)
    with httpx.Client(timeout=15) as browser:
        answer = browser.get(f"{provider.issuer}/auth", params={
            "response_type": "code", "client_id": client_id, "redirect_uri": redirect,
            "scope": "openid email", "state": state, "nonce": nonce,
            "code_challenge": create_s256_code_challenge(verifier), "code_challenge_method": "S256"})
        page = follow_until(browser, answer, redirect)
        for _ in range(3):
            if page.status_code in (302, 303):
                break
            action, fields = provider_form(page)
            if 'name="login"' in page.text:
                fields.update({"login": login, "password": "any"})
            page = follow_until(browser, browser.post(action, data=fields), redirect)
        code = parse_qs(urlsplit(page.headers["location"]).query)["code"][0]
        tokens = browser.post(f"{provider.issuer}/token", auth=(client_id, CLIENT_SECRET), data={
            "grant_type": "authorization_code", "code": code, "redirect_uri": redirect,
            "code_verifier": verifier})
        assert tokens.status_code == 200, tokens.text
    return tokens.json()["id_token"], nonce
