"""A real OpenID Connect provider for tests: panva's oidc-provider (OpenID
Certified) on Node, configured by ``provider.mjs`` from environment variables.

Its npm dependencies are installed once with ``npm ci`` (exact versions from
``package-lock.json``) into a cache folder named after the lock file's hash,
so a fresh machine needs only Node and the npm registry.

``browser_sign_in`` plays a person's browser through the provider's own
login and consent pages with httpx, as Escale's users would with theirs.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urljoin

import httpx

from ..processes import ROOT, Process
from ..servers import free_port

HERE = Path(__file__).resolve().parent
CACHE = Path(os.environ.get("ESCALE_TEST_CACHE", ROOT / "test-artifacts" / "cache"))


def provider_dir() -> Path:
    """A folder holding the provider script and its node_modules (installed if missing)."""
    lock = (HERE / "package-lock.json").read_bytes()
    target = CACHE / f"oidc-provider-{hashlib.sha256(lock).hexdigest()[:16]}"
    if not (target / "node_modules" / "oidc-provider" / "package.json").exists():
        target.mkdir(parents=True, exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(HERE / name, target / name)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target,
                       check=True, timeout=300, capture_output=True)
    shutil.copy(HERE / "provider.mjs", target / "provider.mjs")
    return target


class OidcProvider:
    """One provider process: ``issuer``, its clients and users, started and stopped."""

    def __init__(self, clients: list[dict], users: dict[str, dict], *,
                 strict_clients: tuple[str, ...] = (), clock_offset: int = 0,
                 id_token_ttl: int = 3600, port: int | None = None):
        self.port = port or free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.clients = clients
        self.users = users
        env = {
            "OIDC_PORT": str(self.port),
            "OIDC_CLIENTS": json.dumps(clients),
            "OIDC_USERS": json.dumps(users),
            "OIDC_STRICT_CLIENTS": ",".join(strict_clients),
            "OIDC_CLOCK_OFFSET": str(clock_offset),
            "OIDC_ID_TOKEN_TTL": str(id_token_ttl),
            "NODE_ENV": "test",
        }
        folder = provider_dir()
        self.process = Process(f"oidc-provider-{self.port}", ["node", str(folder / "provider.mjs")],
                               env, f"{self.issuer}/.well-known/openid-configuration")

    def start(self) -> "OidcProvider":
        self.process.start(timeout=30)
        return self

    def stop(self) -> None:
        self.process.stop()


_FORM = re.compile(r"<form([^>]*)>(.*?)</form>", re.S | re.I)
_INPUT = re.compile(r"<input([^>]*)>", re.I)
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def provider_form(page: httpx.Response) -> tuple[str, dict[str, str]]:
    """The first POST form of a provider page: its absolute action and its fields."""
    match = next((m for m in _FORM.finditer(page.text)
                  if dict(_ATTR.findall(m.group(1))).get("method", "").lower() == "post"), None)
    assert match, f"no form on {page.url}: {page.text[:500]}"
    action = dict(_ATTR.findall(match.group(1)))["action"]
    fields = {}
    for raw in _INPUT.findall(match.group(2)):
        attrs = dict(_ATTR.findall(raw))
        if "name" in attrs:
            fields[attrs["name"]] = html.unescape(attrs.get("value", ""))
    return urljoin(str(page.url), html.unescape(action)), fields


def follow_until(client: httpx.Client, response: httpx.Response, stop_prefix: str,
                 limit: int = 10) -> httpx.Response:
    """Follow redirects until one points at ``stop_prefix`` (not followed) or a page is reached."""
    for _ in range(limit):
        if response.status_code not in (302, 303, 307) or \
                response.headers["location"].startswith(stop_prefix):
            return response
        response = client.get(urljoin(str(response.url), response.headers["location"]))
    raise AssertionError("too many redirects")


def browser_sign_in(client: httpx.Client, gateway_url: str, login: str, *,
                    next_path: str = "/") -> httpx.Response:
    """Sign in at the gateway through the provider's pages; returns the response of
    the provider's redirect to the gateway's callback, not yet followed."""
    start = client.get(f"{gateway_url}/auth/login", params={"next": next_path})
    assert start.status_code == 303, start.text
    page = follow_until(client, start, f"{gateway_url}/auth/callback")
    for _ in range(3):  # login, then consent
        if page.status_code in (302, 303):
            break
        assert page.status_code == 200, page.text[:500]
        action, fields = provider_form(page)
        if "login" in fields or 'name="login"' in page.text:
            fields.update({"login": login, "password": "any password"})
        page = follow_until(client, client.post(action, data=fields), f"{gateway_url}/auth/callback")
    assert page.status_code in (302, 303) and \
        page.headers["location"].startswith(f"{gateway_url}/auth/callback"), page.text[:500]
    return page
