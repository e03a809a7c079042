"""OpenID Connect sign-in (authorisation code flow) with the body's identity provider.

Works with Keycloak, LemonLDAP::NG, Microsoft Entra ID and the State's
ProConnect federation:

* the provider is found by discovery (``/.well-known/openid-configuration``);
  its keys (JWKS) are fetched again when a token names an unknown key;
* PKCE (S256) is on by default and can be switched off, because ProConnect
  refuses authorisation requests carrying parameters it does not know;
* ``state`` and ``nonce`` are random (48 characters), kept server-side in
  Redis for ten minutes, usable once (``GETDEL``) and bound to the browser
  that started the sign-in by a short-lived cookie (no login CSRF);
* the ID token's signature (JWKS), issuer, audience (and ``azp`` when there
  are several), expiry, issue time and nonce are checked, with a configured
  clock skew;
* userinfo is accepted as JSON or as a signed JWT (ProConnect signs it); its
  ``sub`` must be the ID token's.

PKCE, state and nonce come from authlib; JOSE (JWS, JWK, JWT claims) from
joserfc, authlib's own successor to ``authlib.jose``.

The person is matched to the booking directory by email (the directory is
imported from HR and is the source of truth). Groups map to roles through
``ESCALE_OIDC_ROLE_MAP`` (:class:`RoleMap`). The decision when the email is
not in the directory, and the rest, is written up in docs/security.md.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import quote, urlencode, urlsplit

import aiohttp
from authlib.common.security import generate_token
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError, MissingKeyError
from joserfc.jwk import KeySet

log = logging.getLogger(__name__)

STATE_LENGTH = 48            # characters of state, nonce (at least 32: ProConnect's rule)
VERIFIER_LENGTH = 64         # PKCE code verifier (43 to 128)
FLOW_SECONDS = 600           # a sign-in must come back within ten minutes
METADATA_SECONDS = 3600      # discovery document kept this long
JWKS_MIN_REFRESH = 30.0      # an unknown key id refetches the JWKS at most this often
SIGNING_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512",
                "EdDSA")
ROLES_BY_RANK = ("agent", "site_admin", "admin")


class OidcError(Exception):
    """A sign-in that cannot go on; ``reason`` picks the message of the page shown."""

    def __init__(self, reason: str, detail: str = ""):
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


# --- configuration ----------------------------------------------------------------------


@dataclass(frozen=True)
class RoleRule:
    group: str
    role: str
    site_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class RoleMap:
    """Groups of the identity provider -> Escale roles.

    ``ESCALE_OIDC_ROLE_MAP`` is a list of ``group=role`` rules separated by
    ``;``; a site admin's rule names the codes of their sites after a colon,
    separated by commas::

        escale-admins=admin; site-admin-HDV=site_admin:HDV; gestion-annexes=site_admin:ANX1,ANX2

    A person gets the highest role among their groups' rules (admin, then
    site_admin with the union of the sites, then agent); with no matching
    group, ``default_role`` (``agent``, or ``none`` to refuse the sign-in).
    """

    rules: tuple[RoleRule, ...] = ()
    default_role: str | None = "agent"

    @classmethod
    def parse(cls, text: str, default_role: str = "agent") -> "RoleMap":
        rules = []
        for raw in text.split(";"):
            raw = raw.strip()
            if not raw:
                continue
            group, sep, target = raw.rpartition("=")
            group, target = group.strip(), target.strip()
            if not sep or not group:
                raise ValueError(f"ESCALE_OIDC_ROLE_MAP: {raw!r} is not group=role")
            role, _, sites = target.partition(":")
            role = role.strip()
            codes = tuple(c.strip() for c in sites.split(",") if c.strip())
            if role not in ROLES_BY_RANK:
                raise ValueError(f"ESCALE_OIDC_ROLE_MAP: role of {group!r} must be one of "
                                 f"{', '.join(ROLES_BY_RANK)}; got {role!r}")
            if role == "site_admin" and not codes:
                raise ValueError(f"ESCALE_OIDC_ROLE_MAP: site_admin for {group!r} needs site codes "
                                 "(site_admin:CODE1,CODE2)")
            if role != "site_admin" and codes:
                raise ValueError(f"ESCALE_OIDC_ROLE_MAP: only site_admin takes site codes ({group!r})")
            rules.append(RoleRule(group, role, codes))
        default = default_role.strip().lower()
        if default not in ("agent", "none"):
            raise ValueError("ESCALE_OIDC_DEFAULT_ROLE must be agent or none")
        return cls(tuple(rules), None if default == "none" else "agent")

    def resolve(self, groups: frozenset[str]) -> tuple[str | None, frozenset[str]]:
        """(role, site codes) for someone in ``groups``; role None: refused."""
        matched = [r for r in self.rules if r.group in groups]
        if any(r.role == "admin" for r in matched):
            return "admin", frozenset()
        sites = frozenset(c for r in matched if r.role == "site_admin" for c in r.site_codes)
        if sites:
            return "site_admin", sites
        if matched:
            return "agent", frozenset()
        return self.default_role, frozenset()


def groups_of(claims: Mapping[str, Any], claim: str) -> frozenset[str]:
    """The groups claim as a set: a JSON list, or one string (space or comma separated)."""
    value = claims.get(claim)
    if isinstance(value, str):
        return frozenset(v for v in value.replace(",", " ").split() if v)
    if isinstance(value, list):
        return frozenset(v for v in value if isinstance(v, str) and v)
    return frozenset()


@dataclass(frozen=True)
class OidcSettings:
    """``ESCALE_OIDC_*``; sign-in by OpenID Connect is on when an issuer is given."""

    issuer: str = ""
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    redirect_url: str = ""
    scopes: tuple[str, ...] = ("openid", "email", "profile")
    pkce: bool = True
    clock_skew: int = 60
    groups_claim: str = "groups"
    role_map: RoleMap = field(default_factory=RoleMap)
    post_logout_redirect_url: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.issuer)

    @property
    def after_logout(self) -> str:
        """Where the provider sends the browser back after its sign-out."""
        if self.post_logout_redirect_url:
            return self.post_logout_redirect_url
        parts = urlsplit(self.redirect_url)
        return f"{parts.scheme}://{parts.netloc}/"

    @classmethod
    def from_env(cls, env: Mapping[str, str], mode: str) -> "OidcSettings":
        from .settings import SettingsError

        issuer = env.get("ESCALE_OIDC_ISSUER", "").strip().rstrip("/")
        if not issuer:
            return cls()
        get = lambda name, default="": env.get(name, "").strip() or default  # noqa: E731
        client_id = get("ESCALE_OIDC_CLIENT_ID")
        secret = env.get("ESCALE_OIDC_CLIENT_SECRET", "")
        redirect = get("ESCALE_OIDC_REDIRECT_URL")
        missing = [n for n, v in (("ESCALE_OIDC_CLIENT_ID", client_id),
                                  ("ESCALE_OIDC_CLIENT_SECRET", secret.strip()),
                                  ("ESCALE_OIDC_REDIRECT_URL", redirect)) if not v]
        if missing:
            raise SettingsError("ESCALE_OIDC_ISSUER is set: set " + ", ".join(missing) + " too")
        schemes = ("https://",) if mode == "production" else ("https://", "http://")
        for name, url in (("ESCALE_OIDC_ISSUER", issuer), ("ESCALE_OIDC_REDIRECT_URL", redirect)):
            if not url.startswith(schemes):
                raise SettingsError(f"{name} must be an {' or '.join(s[:-3] for s in schemes)} URL")
        if not redirect.endswith("/auth/callback"):
            raise SettingsError("ESCALE_OIDC_REDIRECT_URL must be the gateway's /auth/callback URL")
        scopes = tuple(get("ESCALE_OIDC_SCOPES", "openid email profile").replace(",", " ").split())
        if "openid" not in scopes:
            raise SettingsError("ESCALE_OIDC_SCOPES must include openid")
        pkce = get("ESCALE_OIDC_PKCE", "1").lower()
        if pkce not in ("1", "0", "true", "false", "on", "off"):
            raise SettingsError("ESCALE_OIDC_PKCE must be 1 or 0")
        try:
            skew = int(get("ESCALE_OIDC_CLOCK_SKEW", "60"))
            if not 0 <= skew <= 600:
                raise ValueError
        except ValueError:
            raise SettingsError("ESCALE_OIDC_CLOCK_SKEW must be 0 to 600 seconds") from None
        try:
            role_map = RoleMap.parse(env.get("ESCALE_OIDC_ROLE_MAP", ""),
                                     get("ESCALE_OIDC_DEFAULT_ROLE", "agent"))
        except ValueError as exc:
            raise SettingsError(str(exc)) from None
        return cls(issuer=issuer, client_id=client_id, client_secret=secret, redirect_url=redirect,
                   scopes=scopes, pkce=pkce in ("1", "true", "on"), clock_skew=skew,
                   groups_claim=get("ESCALE_OIDC_GROUPS_CLAIM", "groups"), role_map=role_map,
                   post_logout_redirect_url=get("ESCALE_OIDC_POST_LOGOUT_REDIRECT_URL"))


# --- one sign-in in progress ------------------------------------------------------------------


@dataclass(frozen=True)
class Flow:
    """What the gateway remembers between the redirect to the provider and the callback."""

    state: str
    nonce: str
    verifier: str | None
    next_path: str
    browser: str  # SHA-256 (hex) of the browser-binding cookie

    def dumps(self) -> str:
        return json.dumps({"nonce": self.nonce, "verifier": self.verifier, "next": self.next_path,
                           "browser": self.browser})

    @classmethod
    def loads(cls, state: str, text: str | bytes) -> "Flow":
        data = json.loads(text)
        return cls(state, data["nonce"], data.get("verifier"), data["next"], data["browser"])


def new_flow(next_path: str, browser: str, pkce: bool) -> Flow:
    return Flow(state=generate_token(STATE_LENGTH), nonce=generate_token(STATE_LENGTH),
                verifier=generate_token(VERIFIER_LENGTH) if pkce else None,
                next_path=next_path, browser=browser)


class FlowStore:
    """Sign-ins in progress, in Redis: one use each (``GETDEL``), ten minutes at most."""

    def __init__(self, redis, prefix: str):
        self._redis = redis
        self._prefix = f"{prefix}oidc:flow:"

    async def save(self, flow: Flow) -> None:
        await self._redis.set(self._prefix + flow.state, flow.dumps(), ex=FLOW_SECONDS)

    async def take(self, state: str) -> Flow | None:
        if not (STATE_LENGTH <= len(state) <= 128) or not state.isascii():
            return None
        raw = await self._redis.getdel(self._prefix + state)
        return Flow.loads(state, raw) if raw else None


# --- talking to the provider ------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in (verified claims of the ID token and userinfo)."""

    subject: str
    email: str | None
    email_verified: bool | None
    groups: frozenset[str]
    id_token: str


class OidcClient:
    """The relying party: discovery, authorisation URL, code exchange, token checks."""

    def __init__(self, settings: OidcSettings, http: aiohttp.ClientSession):
        self.settings = settings
        self._http = http
        self._metadata: dict | None = None
        self._metadata_at = 0.0
        self._keys: KeySet | None = None
        self._keys_at = 0.0

    # discovery and keys
    async def metadata(self) -> dict:
        if self._metadata is None or time.monotonic() - self._metadata_at > METADATA_SECONDS:
            url = f"{self.settings.issuer}/.well-known/openid-configuration"
            document = await self._get_json(url)
            if document.get("issuer", "").rstrip("/") != self.settings.issuer:
                raise OidcError("provider", "discovery issuer differs from ESCALE_OIDC_ISSUER")
            for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
                if not isinstance(document.get(name), str):
                    raise OidcError("provider", f"discovery lacks {name}")
            self._metadata, self._metadata_at = document, time.monotonic()
        return self._metadata

    async def _keyset(self, refresh: bool = False) -> KeySet:
        stale = refresh and time.monotonic() - self._keys_at > JWKS_MIN_REFRESH
        if self._keys is None or stale:
            document = await self._get_json((await self.metadata())["jwks_uri"])
            try:
                self._keys = KeySet.import_key_set(
                    {"keys": [k for k in document.get("keys", []) if k.get("use", "sig") == "sig"]})
            except (JoseError, ValueError, TypeError) as exc:
                raise OidcError("provider", f"unusable JWKS: {type(exc).__name__}") from None
            self._keys_at = time.monotonic()
        return self._keys

    async def _get_json(self, url: str) -> dict:
        try:
            async with self._http.get(url, headers={"Accept": "application/json"}) as response:
                if response.status != 200:
                    raise OidcError("provider", f"{url} answered {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise OidcError("provider", f"{url}: {type(exc).__name__}") from None

    # the redirect
    async def authorization_url(self, flow: Flow) -> str:
        metadata = await self.metadata()
        params = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self.settings.redirect_url,
            "scope": " ".join(self.settings.scopes),
            "state": flow.state,
            "nonce": flow.nonce,
        }
        if flow.verifier is not None:
            params["code_challenge"] = create_s256_code_challenge(flow.verifier)
            params["code_challenge_method"] = "S256"
        endpoint = metadata["authorization_endpoint"]
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"

    # the callback
    async def sign_in(self, code: str, flow: Flow) -> Identity:
        tokens = await self._exchange(code, flow)
        id_token = tokens.get("id_token")
        if not isinstance(id_token, str):
            raise OidcError("token", "no id_token in the token response")
        claims = await self.verify_id_token(id_token, flow.nonce)
        merged = dict(claims)
        access_token = tokens.get("access_token")
        if (await self.metadata()).get("userinfo_endpoint") and isinstance(access_token, str):
            userinfo = await self.userinfo(access_token)
            if userinfo.get("sub") != claims["sub"]:
                raise OidcError("userinfo", "userinfo sub differs from the ID token's")
            merged.update({k: v for k, v in userinfo.items() if k not in ("iss", "aud", "sub")})
        email = merged.get("email")
        verified = merged.get("email_verified")
        return Identity(
            subject=str(claims["sub"]),
            email=email.strip() if isinstance(email, str) and email.strip() else None,
            email_verified=verified if isinstance(verified, bool) else None,
            groups=groups_of(merged, self.settings.groups_claim),
            id_token=id_token,
        )

    async def _exchange(self, code: str, flow: Flow) -> dict:
        metadata = await self.metadata()
        form = {"grant_type": "authorization_code", "code": code,
                "redirect_uri": self.settings.redirect_url}
        if flow.verifier is not None:
            form["code_verifier"] = flow.verifier
        headers = {"Accept": "application/json"}
        methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" in methods:
            pair = f"{quote(self.settings.client_id, safe='')}:{quote(self.settings.client_secret, safe='')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        else:
            form["client_id"] = self.settings.client_id
            form["client_secret"] = self.settings.client_secret
        try:
            async with self._http.post(metadata["token_endpoint"], data=form,
                                       headers=headers) as response:
                body = await response.json(content_type=None)
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise OidcError("provider", f"token endpoint: {type(exc).__name__}") from None
        if status != 200 or not isinstance(body, dict):
            error = body.get("error") if isinstance(body, dict) else None
            # invalid_grant: a code used twice, expired, or not issued to us.
            raise OidcError("token", f"token endpoint answered {status} {error or ''}".strip())
        if str(body.get("token_type", "")).lower() not in ("bearer", "dpop", ""):
            raise OidcError("token", "unexpected token_type")
        return body

    async def verify_id_token(self, id_token: str, nonce: str) -> dict:
        """The ID token's claims once its signature and claims are checked."""
        metadata = await self.metadata()
        claims = await self._verified_jwt(
            id_token, metadata.get("id_token_signing_alg_values_supported"), "id_token")
        registry = jwt.JWTClaimsRegistry(
            leeway=self.settings.clock_skew,
            iss={"essential": True, "value": self.settings.issuer},
            aud={"essential": True, "value": self.settings.client_id},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        try:
            registry.validate(claims)
        except JoseError as exc:
            raise OidcError("id_token", f"{type(exc).__name__}: {exc}") from None
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        if len(audiences) > 1 and claims.get("azp") != self.settings.client_id:
            raise OidcError("id_token", "several audiences and azp is not this client")
        return claims

    async def userinfo(self, access_token: str) -> dict:
        metadata = await self.metadata()
        try:
            async with self._http.get(metadata["userinfo_endpoint"], headers={
                    "Authorization": f"Bearer {access_token}",
                    "Accept": "application/json, application/jwt"}) as response:
                status = response.status
                kind = response.content_type
                text = await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise OidcError("provider", f"userinfo: {type(exc).__name__}") from None
        if status != 200:
            raise OidcError("userinfo", f"userinfo answered {status}")
        if kind == "application/jwt":
            claims = await self._verified_jwt(
                text.strip(), metadata.get("userinfo_signing_alg_values_supported"), "userinfo")
            registry = jwt.JWTClaimsRegistry(leeway=self.settings.clock_skew,
                                             iss={"value": self.settings.issuer},
                                             aud={"value": self.settings.client_id},
                                             sub={"essential": True})
            try:
                registry.validate(claims)
            except JoseError as exc:
                raise OidcError("userinfo", f"{type(exc).__name__}: {exc}") from None
            return claims
        try:
            claims = json.loads(text)
        except ValueError:
            raise OidcError("userinfo", "neither JSON nor a JWT") from None
        if not isinstance(claims, dict):
            raise OidcError("userinfo", "not a JSON object")
        return claims

    async def _verified_jwt(self, value: str, advertised, what: str) -> dict:
        algorithms = [a for a in (advertised or ["RS256"]) if a in SIGNING_ALGS] or ["RS256"]
        for refresh in (False, True):  # an unknown key: the provider may have rotated its keys
            keys = await self._keyset(refresh=refresh)
            try:
                return dict(jwt.decode(value, keys, algorithms=algorithms).claims)
            except (InvalidKeyIdError, MissingKeyError) as exc:
                if refresh:
                    raise OidcError(what, f"{type(exc).__name__}: {exc}") from None
            except JoseError as exc:
                raise OidcError(what, f"{type(exc).__name__}: {exc}") from None
            except (ValueError, TypeError) as exc:
                raise OidcError(what, f"malformed: {type(exc).__name__}") from None
        raise OidcError(what, "unverifiable")

    async def end_session_url(self, id_token: str | None) -> str | None:
        """The provider's sign-out page (RP-initiated logout), when it has one."""
        try:
            endpoint = (await self.metadata()).get("end_session_endpoint")
        except OidcError:
            return None
        if not isinstance(endpoint, str):
            return None
        params = {"client_id": self.settings.client_id,
                  "post_logout_redirect_uri": self.settings.after_logout}
        if id_token:
            params["id_token_hint"] = id_token
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{urlencode(params)}"
