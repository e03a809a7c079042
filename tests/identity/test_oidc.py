"""OpenID Connect sign-in against a real provider (panva's oidc-provider), through
real gateways in front of the real booking service."""

from __future__ import annotations

import asyncio
import html
from urllib.parse import parse_qs, urlsplit

import aiohttp
import httpx
import pytest

from gateway.adapters.tokens import list_tokens
from gateway.oidc import OidcClient, OidcError, OidcSettings
from tests.support.oidc import browser_sign_in, follow_until, provider_form

from .conftest import CLIENT_SECRET, oidc_gateway, provider_client

pytestmark = pytest.mark.integration


def finish(client: httpx.Client, callback: httpx.Response) -> httpx.Response:
    """The browser follows the provider's redirect to the gateway's callback."""
    return client.get(callback.headers["location"])


def test_an_agent_signs_in_and_gets_a_session(oidc, people, gateway_db_url):
    with httpx.Client(timeout=15) as browser:
        start = browser.get(f"{oidc.gateway.url}/auth/login", params={"next": "/plan"})
        assert start.status_code == 303
        query = parse_qs(urlsplit(start.headers["location"]).query)
        assert start.headers["location"].startswith(oidc.provider.issuer)
        assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
        assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
        assert query["client_id"] == ["escale"]
        assert "groups" in query["scope"][0].split()

        callback = browser_sign_in(browser, oidc.gateway.url, "camille", next_path="/plan")
        done = finish(browser, callback)
        assert done.status_code == 303, html.unescape(done.text)
        assert done.headers["location"] == "/plan"
        assert browser.cookies["escale_session"].startswith("ess_")
        me = browser.get(f"{oidc.gateway.url}/api/v1/me").json()
        assert me["actor"]["role"] == "agent"
        assert me["actor"]["person_id"] == people.people[0]
        assert me["actor"]["email"] == people.emails[0]
        assert me["csrf_token"] == browser.cookies["escale_csrf"]
    session = max((t for t in list_tokens(gateway_db_url, kind="session")
                   if t.email == people.emails[0] and t.label == "openid connect"),
                  key=lambda t: t.created_at)
    assert str(session.person_id) == people.people[0] and session.role == "agent"


def test_groups_map_to_roles_and_sites(oidc, people):
    with httpx.Client(timeout=15) as browser:
        finish(browser, browser_sign_in(browser, oidc.gateway.url, "dominique"))
        assert browser.get(f"{oidc.gateway.url}/api/v1/me").json()["actor"]["role"] == "admin"
    with httpx.Client(timeout=15) as browser:
        finish(browser, browser_sign_in(browser, oidc.gateway.url, "sam"))
        actor = browser.get(f"{oidc.gateway.url}/api/v1/me").json()["actor"]
        assert actor["role"] == "site_admin" and actor["site_ids"] == [people.site_id]


def test_a_tampered_state_is_refused(oidc):
    with httpx.Client(timeout=15) as browser:
        callback = browser_sign_in(browser, oidc.gateway.url, "camille")
        url = callback.headers["location"]
        state = parse_qs(urlsplit(url).query)["state"][0]
        tampered = browser.get(url.replace(state, state[:-4] + "AAAA"))
        assert tampered.status_code == 400
        assert "inconnue, expirée ou déjà utilisée" in html.unescape(tampered.text)
        assert "escale_session" not in browser.cookies


def test_a_callback_opened_in_another_browser_is_refused(oidc):
    with httpx.Client(timeout=15) as victim, httpx.Client(timeout=15) as attacker:
        callback = browser_sign_in(attacker, oidc.gateway.url, "dominique")
        # The attacker sends their callback link to someone else (login CSRF).
        answer = victim.get(callback.headers["location"])
        assert answer.status_code == 400
        assert "escale_session" not in victim.cookies


def test_a_replayed_code_is_refused(oidc):
    with httpx.Client(timeout=15) as browser:
        callback = browser_sign_in(browser, oidc.gateway.url, "camille")
        url = callback.headers["location"]
        assert finish(browser, callback).status_code == 303
        code = parse_qs(urlsplit(url).query)["code"][0]
        # The same callback again: its state was used up.
        again = browser.get(url)
        assert again.status_code == 400
        # The used code with the state of a new sign-in: the provider refuses the code.
        fresh = browser_sign_in(browser, oidc.gateway.url, "camille")
        fresh_url = fresh.headers["location"]
        fresh_code = parse_qs(urlsplit(fresh_url).query)["code"][0]
        replay = browser.get(fresh_url.replace(fresh_code, code))
        assert replay.status_code == 400
        assert "code déjà utilisé ou expiré" in html.unescape(replay.text)


def test_someone_missing_from_the_directory_is_refused_with_a_clear_page(oidc):
    with httpx.Client(timeout=15) as browser:
        answer = finish(browser, browser_sign_in(browser, oidc.gateway.url, "stranger"))
        assert answer.status_code == 403
        text = html.unescape(answer.text)
        assert "pas dans l'annuaire" in text and 'role="alert"' in text and 'lang="fr"' in text
        assert "escale_session" not in browser.cookies
    with httpx.Client(timeout=15, headers={"Accept-Language": "en"}) as browser:
        answer = finish(browser, browser_sign_in(browser, oidc.gateway.url, "stranger"))
        assert answer.status_code == 403 and "not in Escale's directory" in html.unescape(answer.text)


def test_an_unverified_email_is_refused(oidc):
    with httpx.Client(timeout=15) as browser:
        answer = finish(browser, browser_sign_in(browser, oidc.gateway.url, "unverified"))
        assert answer.status_code == 403 and "escale_session" not in browser.cookies


def test_sign_out_ends_the_session_and_signs_out_at_the_provider(oidc):
    with httpx.Client(timeout=15) as browser:
        finish(browser, browser_sign_in(browser, oidc.gateway.url, "camille"))
        session = browser.cookies["escale_session"]
        out = browser.post(f"{oidc.gateway.url}/auth/logout",
                           headers={"X-CSRF-Token": browser.cookies["escale_csrf"]})
        assert out.status_code == 303
        location = out.headers["location"]
        assert location.startswith(f"{oidc.provider.issuer}/session/end")
        query = parse_qs(urlsplit(location).query)
        assert query["post_logout_redirect_uri"] == [f"{oidc.gateway.url}/"]
        assert query["id_token_hint"][0].count(".") == 2
        gone = httpx.get(f"{oidc.gateway.url}/api/v1/me", cookies={"escale_session": session},
                         timeout=10)
        assert gone.status_code == 401
        # The provider asks to confirm, then sends the browser back to Escale.
        page = browser.get(location)
        action, fields = provider_form(page)
        back = follow_until(browser, browser.post(action, data={**fields, "logout": "yes"}),
                            oidc.gateway.url)
        assert back.headers["location"].startswith(oidc.gateway.url)
        # Signed out at the provider too: a new sign-in asks for the login again.
        start = browser.get(f"{oidc.gateway.url}/auth/login")
        page = follow_until(browser, start, f"{oidc.gateway.url}/auth/callback")
        assert page.status_code == 200 and 'name="login"' in page.text


def test_proconnect_style_no_pkce_and_signed_userinfo(oidc_proconnect, people):
    gateway = oidc_proconnect
    with httpx.Client(timeout=15) as browser:
        start = browser.get(f"{gateway.url}/auth/login")
        query = parse_qs(urlsplit(start.headers["location"]).query)
        assert "code_challenge" not in query and "code_challenge_method" not in query
        done = finish(browser, browser_sign_in(browser, gateway.url, "camille"))
        assert done.status_code == 303, html.unescape(done.text)
        # The email came from the signed userinfo JWT (the ID token carries only sub).
        assert browser.get(f"{gateway.url}/api/v1/me").json()["actor"]["person_id"] == people.people[0]


def test_an_expired_id_token_is_refused(oidc_expired):
    with httpx.Client(timeout=15) as browser:
        answer = finish(browser, browser_sign_in(browser, oidc_expired.url, "camille"))
        assert answer.status_code == 400
        assert "expiration" in html.unescape(answer.text)
        assert "escale_session" not in browser.cookies
    # Refused for its expiry (the log says why; the page does not tell an attacker).
    assert "ExpiredTokenError" in oidc_expired.log_path.read_text()


def test_a_provider_clock_a_little_ahead_is_tolerated(oidc_ahead):
    with httpx.Client(timeout=15) as browser:
        answer = finish(browser, browser_sign_in(browser, oidc_ahead.url, "camille"))
        assert answer.status_code == 303, html.unescape(answer.text)


def test_an_id_token_for_another_audience_is_refused(oidc):
    """A genuine ID token of the same provider, issued to another application,
    is refused by Escale's verification (and accepted by that application's)."""
    id_token, nonce = provider_client(oidc.provider, "other-app", "camille")

    async def verify(client_id: str, expected_nonce: str = nonce):
        settings = OidcSettings(issuer=oidc.provider.issuer, client_id=client_id,
                                client_secret=CLIENT_SECRET,
                                redirect_url=f"{oidc.gateway.url}/auth/callback")
        async with aiohttp.ClientSession() as http:
            return await OidcClient(settings, http).verify_id_token(id_token, expected_nonce)

    assert asyncio.run(verify("other-app"))["sub"] == "camille"
    with pytest.raises(OidcError) as refused:
        asyncio.run(verify("escale"))
    assert refused.value.reason == "id_token" and "aud" in refused.value.detail
    with pytest.raises(OidcError) as wrong_nonce:
        asyncio.run(verify("other-app", "x" * 48))
    assert "nonce" in wrong_nonce.value.detail


@pytest.fixture(scope="module")
def oidc_expired(amqp_uri, gateway_db_url, booking_service, people, redis_prefix, oidc_users):
    """A provider whose clock is 90 s late and whose ID tokens last 30 s: they arrive
    expired for a minute, beyond the 30 s of skew this gateway tolerates."""
    with oidc_gateway(amqp_uri, gateway_db_url, redis_prefix, oidc_users, clock_offset=-90,
                      id_token_ttl=30, skew=30) as (gateway, _provider):
        yield gateway


@pytest.fixture(scope="module")
def oidc_ahead(amqp_uri, gateway_db_url, booking_service, people, redis_prefix, oidc_users):
    """A provider whose clock is 30 s ahead, within the gateway's 60 s of tolerated skew."""
    with oidc_gateway(amqp_uri, gateway_db_url, redis_prefix, oidc_users, clock_offset=30,
                      skew=60) as (gateway, _provider):
        yield gateway


@pytest.fixture(scope="module")
def gateway_with_provider_down(amqp_uri, gateway_db_url, booking_service, redis_prefix):
    from tests.support.servers import free_port

    from .conftest import _gateway, oidc_env

    gateway = _gateway(amqp_uri, gateway_db_url, redis_prefix)
    oidc_env(f"http://127.0.0.1:{free_port()}", "escale", gateway)  # nobody listens there
    yield gateway.start()
    gateway.stop()


def test_a_provider_that_is_down_gives_a_clear_page(gateway_with_provider_down):
    answer = httpx.get(f"{gateway_with_provider_down.url}/auth/login", timeout=30)
    assert answer.status_code == 502
    text = html.unescape(answer.text)
    assert "ne répond pas correctement" in text and 'href="/auth/login"' in text
    assert "Traceback" not in text
    assert httpx.get(f"{gateway_with_provider_down.url}/readyz", timeout=10).status_code == 200
