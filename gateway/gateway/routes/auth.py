"""Signing in and out of the web app: ``/auth/login``, ``/auth/demo``, ``/auth/logout``.

``GET /auth/login`` starts the OpenID Connect sign-in when a provider is
configured; otherwise, when the demo sign-in is on (``ESCALE_DEMO_SIGNIN``,
on by default only in development), it shows a form that signs in anyone of
the booking directory by email alone. Both end the same way: a session
(``sessions.py``) whose cookies are set on a redirect to a same-origin path.

These are browser pages, not API operations: they are outside the OpenAPI
document and answer HTML or redirects.
"""

from __future__ import annotations

import hashlib
import html
import logging
import secrets
import uuid
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from .. import auth
from ..errors import ApiError, language_of
from ..keys import CATALOG_KEY, RPC_KEY, SETTINGS_KEY, TOKENS_KEY
from ..oidc import FLOW_SECONDS, OidcError, new_flow
from ..rpc import RemoteError, RpcError
from ..security import FLOWS_KEY, OIDC_KEY
from ..sessions import (
    CSRF_FIELD, CSRF_HEADER, clear_session_cookies, csrf_valid, safe_next, secure_cookies,
    set_session_cookies,
)

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "auth"
# Binds a sign-in in progress to the browser that started it (login CSRF).
FLOW_COOKIE = "escale_oidc"
PAGE_CSP = ("default-src 'none'; style-src 'self'; form-action 'self'; base-uri 'none'; "
            "frame-ancestors 'none'")

_TEXT = {
    "fr": {
        "title": "Connexion à Escale",
        "demo_intro": "Connexion de démonstration : saisissez l'adresse d'une personne de "
                      "l'annuaire. Aucun mot de passe n'est demandé ; ce mode n'existe que pour "
                      "les démonstrations.",
        "email": "Adresse électronique",
        "submit": "Se connecter",
        "unknown": "Aucune personne de l'annuaire n'a cette adresse.",
        "bad_email": "Saisissez une adresse électronique.",
        "failed_title": "Connexion impossible",
        "retry": "Recommencer la connexion",
        "oidc_state": "Cette demande de connexion est inconnue, expirée ou déjà utilisée, ou elle "
                      "a été commencée dans un autre navigateur.",
        "oidc_denied": "La connexion a été annulée auprès du fournisseur d'identité.",
        "oidc_provider": "Le fournisseur d'identité ne répond pas correctement. Réessayez dans "
                         "quelques minutes.",
        "oidc_token": "Le fournisseur d'identité a refusé de confirmer cette connexion (code déjà "
                      "utilisé ou expiré).",
        "oidc_id_token": "L'identité transmise par le fournisseur n'est pas valide (signature, "
                         "destinataire, expiration ou nonce).",
        "oidc_userinfo": "Les informations transmises par le fournisseur d'identité ne sont pas "
                         "valides.",
        "oidc_no_email": "Le fournisseur d'identité n'a pas transmis d'adresse électronique "
                         "vérifiée.",
        "oidc_no_person": "Vous êtes bien identifié, mais votre adresse n'est pas dans l'annuaire "
                          "d'Escale. Demandez à votre administrateur de vous y ajouter.",
        "oidc_no_role": "Vos groupes ne donnent accès à aucun rôle dans Escale.",
        "oidc_unavailable": "Escale est momentanément indisponible. Réessayez dans quelques "
                            "minutes.",
    },
    "en": {
        "title": "Sign in to Escale",
        "demo_intro": "Demo sign-in: enter the email of a person in the directory. No "
                      "password is asked; this mode exists for demonstrations only.",
        "email": "Email address",
        "submit": "Sign in",
        "unknown": "No person in the directory has this email address.",
        "bad_email": "Enter an email address.",
        "failed_title": "Sign-in failed",
        "retry": "Sign in again",
        "oidc_state": "This sign-in request is unknown, expired or already used, or it was started "
                      "in another browser.",
        "oidc_denied": "The sign-in was cancelled at the identity provider.",
        "oidc_provider": "The identity provider does not answer properly. Try again in a few "
                         "minutes.",
        "oidc_token": "The identity provider refused to confirm this sign-in (code already used "
                      "or expired).",
        "oidc_id_token": "The identity sent by the provider is not valid (signature, audience, "
                         "expiry or nonce).",
        "oidc_userinfo": "The information sent by the identity provider is not valid.",
        "oidc_no_email": "The identity provider sent no verified email address.",
        "oidc_no_person": "You are signed in, but your email address is not in Escale's "
                          "directory. Ask your administrator to add you.",
        "oidc_no_role": "Your groups give you no role in Escale.",
        "oidc_unavailable": "Escale is unavailable for a moment. Try again in a few minutes.",
    },
}


def _page(language: str, title: str, body: str, status: int = 200) -> web.Response:
    document = f"""<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<link rel="stylesheet" href="/auth/static/auth.css">
</head>
<body>
<main>
<h1>{html.escape(title)}</h1>
{body}
</main>
</body>
</html>
"""
    return web.Response(text=document, status=status, content_type="text/html",
                        headers={"Content-Security-Policy": PAGE_CSP,
                                 "Content-Language": language, "Cache-Control": "no-store"})


def _demo_form(language: str, next_path: str, email: str = "", error: str | None = None,
               status: int = 200) -> web.Response:
    text = _TEXT[language]
    error_html = ""
    described = "demo-hint"
    if error:
        error_html = f'<p id="demo-error" class="error" role="alert">{html.escape(error)}</p>\n'
        described = "demo-error demo-hint"
    body = f"""<p id="demo-hint" class="hint">{html.escape(text['demo_intro'])}</p>
{error_html}<form method="post" action="/auth/demo">
<label for="email">{html.escape(text['email'])}</label>
<input type="email" id="email" name="email" required autocomplete="email"
 aria-describedby="{described}" value="{html.escape(email)}">
<input type="hidden" name="next" value="{html.escape(next_path)}">
<button type="submit">{html.escape(text['submit'])}</button>
</form>"""
    return _page(language, text["title"], body, status)


def _redirect(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location, "Cache-Control": "no-store"})


def _same_origin_post(request: web.Request) -> bool:
    """A form post from this gateway's own pages (or from no browser page at all).

    Login CSRF: another site must not sign a visitor in under an account of
    its choosing. Browsers send Origin on every cross-origin POST, and modern
    ones say where a request comes from in ``Sec-Fetch-Site`` (which a page
    cannot forge).
    """
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None:
        return fetch_site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    origin = origin.rstrip("/").lower()
    if origin in {o.lower() for o in request.app[SETTINGS_KEY].allowed_origins}:
        return True
    return urlsplit(origin).netloc == (request.host or "").lower()


async def login(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    next_path = safe_next(request.query.get("next"))
    if settings.oidc.enabled:
        return await _start_oidc(request, next_path)
    if not settings.sessions.demo_signin:
        raise web.HTTPNotFound()
    return _demo_form(language_of(request), next_path)


# --- OpenID Connect ---------------------------------------------------------------------------


def _failed(request: web.Request, reason: str, status: int = 400) -> web.Response:
    language = language_of(request)
    text = _TEXT[language]
    body = (f'<p class="error" role="alert">{html.escape(text["oidc_" + reason])}</p>\n'
            f'<p><a href="/auth/login">{html.escape(text["retry"])}</a></p>')
    response = _page(language, text["failed_title"], body, status)
    _clear_flow_cookie(response, request)
    return response


def _clear_flow_cookie(response: web.StreamResponse, request: web.Request) -> None:
    if FLOW_COOKIE in request.cookies:
        response.del_cookie(FLOW_COOKIE, path="/auth/")


async def _start_oidc(request: web.Request, next_path: str) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    browser = secrets.token_urlsafe(32)
    flow = new_flow(next_path, hashlib.sha256(browser.encode()).hexdigest(), settings.oidc.pkce)
    try:
        location = await request.app[OIDC_KEY].authorization_url(flow)
        await request.app[FLOWS_KEY].save(flow)
    except OidcError as exc:
        log.warning("sign-in not started", extra={"reason": exc.reason, "detail": exc.detail})
        return _failed(request, "provider", 502)
    except Exception as exc:  # noqa: BLE001 - Redis away
        log.warning("sign-in not started", extra={"error": type(exc).__name__})
        return _failed(request, "unavailable", 503)
    response = _redirect(location)
    response.set_cookie(FLOW_COOKIE, browser, max_age=FLOW_SECONDS, path="/auth/", httponly=True,
                        secure=secure_cookies(request, settings.env), samesite="Lax")
    return response


async def callback(request: web.Request) -> web.Response:
    """The provider sends the browser back here with ``code`` and ``state``."""
    settings = request.app[SETTINGS_KEY]
    if not settings.oidc.enabled:
        raise web.HTTPNotFound()
    state = request.query.get("state", "")
    try:
        flow = await request.app[FLOWS_KEY].take(state) if state else None
    except Exception as exc:  # noqa: BLE001 - Redis away
        log.warning("sign-in flow store unavailable", extra={"error": type(exc).__name__})
        return _failed(request, "unavailable", 503)
    browser = request.cookies.get(FLOW_COOKIE, "")
    if flow is None or not secrets.compare_digest(
            hashlib.sha256(browser.encode()).hexdigest(), flow.browser):
        log.warning("sign-in refused", extra={"reason": "state"})
        return _failed(request, "state")
    if "error" in request.query or not request.query.get("code"):
        log.info("sign-in cancelled at the provider", extra={"error": request.query.get("error", "")[:64]})
        return _failed(request, "denied")
    try:
        identity = await request.app[OIDC_KEY].sign_in(request.query["code"], flow)
        if identity.email is None or identity.email_verified is False:
            raise OidcError("no_email")
        person = await _person_for(request, identity.email)
        if person is None:
            raise OidcError("no_person")
        role, site_codes = settings.oidc.role_map.resolve(identity.groups)
        if role is None:
            raise OidcError("no_role")
        site_ids = await _site_ids(request, site_codes) if role == "site_admin" else ()
        if role == "site_admin" and not site_ids:
            role = "agent"  # none of their sites exists (yet): no admin rights anywhere
    except OidcError as exc:
        log.warning("sign-in refused", extra={"reason": exc.reason, "detail": exc.detail})
        status = 502 if exc.reason == "provider" else 403 if exc.reason.startswith("no_") else 400
        return _failed(request, exc.reason, status)
    except (RpcError, RemoteError) as exc:
        log.warning("sign-in: directory unavailable", extra={"error": type(exc).__name__})
        return _failed(request, "unavailable", 503)
    response = _redirect(flow.next_path)
    _clear_flow_cookie(response, request)
    await start_session(request, response, email=str(person.get("email") or identity.email),
                        role=role, person_id=person["id"], site_ids=site_ids,
                        label="openid connect", id_token=identity.id_token)
    log.info("signed in", extra={"method": "oidc", "person_id": str(person["id"]), "role": role})
    return response


async def _person_for(request: web.Request, email: str) -> dict | None:
    try:
        return await request.app[RPC_KEY].call("booking", "get_person_by_email", email=email)
    except RemoteError as exc:
        if isinstance(exc.exc_args, list) and exc.exc_args[:1] == ["not_found"]:
            return None
        raise


async def _site_ids(request: web.Request, codes: frozenset[str]) -> tuple[uuid.UUID, ...]:
    sites = await request.app[CATALOG_KEY].call("list_sites")
    by_code = {str(s.get("code")): s["id"] for s in sites if isinstance(s, dict)}
    unknown = sorted(codes - by_code.keys())
    if unknown:
        log.warning("role map names unknown site codes", extra={"site_codes": unknown})
    return tuple(uuid.UUID(str(by_code[c])) for c in sorted(codes) if c in by_code)


async def demo_signin(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS_KEY]
    if not settings.sessions.demo_signin:
        raise web.HTTPNotFound()
    if not _same_origin_post(request):
        raise ApiError("forbidden", "cross_origin_form")
    language = language_of(request)
    form = await request.post()
    email = str(form.get("email", "")).strip()
    next_path = safe_next(str(form.get("next", "")) or None)
    if not email or "@" not in email or len(email) > 320:
        return _demo_form(language, next_path, email, _TEXT[language]["bad_email"], 422)
    try:
        person = await request.app[RPC_KEY].call("booking", "get_person_by_email", email=email)
    except RemoteError as exc:
        if isinstance(exc.exc_args, list) and exc.exc_args[:1] == ["not_found"]:
            return _demo_form(language, next_path, email, _TEXT[language]["unknown"], 403)
        raise
    person_email = str(person.get("email") or email)
    role = "admin" if person_email.lower() in settings.sessions.demo_admins else "agent"
    response = _redirect(next_path)
    await start_session(request, response, email=person_email, role=role,
                        person_id=person["id"], label="demo sign-in")
    log.info("signed in", extra={"method": "demo", "person_id": str(person["id"]), "role": role})
    return response


async def start_session(request: web.Request, response: web.StreamResponse, *, email: str,
                        role: str, person_id, site_ids=(), label: str,
                        id_token: str | None = None) -> None:
    """Open a session and set its cookies on ``response``; a session the browser
    already had is ended first (no session fixation, no orphan sessions)."""
    app = request.app
    settings = app[SETTINGS_KEY]
    previous = await auth.session_of(request)
    if previous is not None:
        await app[TOKENS_KEY].end_session(previous[1].id)
    expires_at = datetime.now(timezone.utc) + settings.sessions.absolute
    token, _record = await app[TOKENS_KEY].create_session(
        email=email, role=role, person_id=person_id, site_ids=site_ids, label=label,
        expires_at=expires_at, id_token=id_token)
    set_session_cookies(response, request, token, settings.sessions, settings.env)


async def logout(request: web.Request) -> web.Response:
    """End the session (CSRF-protected) and clear the cookies; a browser with
    no live session is just sent home with its cookies cleared."""
    settings = request.app[SETTINGS_KEY]
    session = await auth.session_of(request)
    location = "/"
    if session is not None:
        token, record = session
        presented = request.headers.get(CSRF_HEADER)
        if not presented and request.content_type in ("application/x-www-form-urlencoded",
                                                       "multipart/form-data"):
            presented = str((await request.post()).get(CSRF_FIELD, ""))
        if not csrf_valid(token, presented):
            raise ApiError("csrf_failed", "csrf_invalid")
        id_token = await request.app[TOKENS_KEY].end_session(record.id)
        log.info("signed out", extra={"token_id": str(record.id)})
        location = await _after_logout(request, id_token) or location
    response = _redirect(location)
    clear_session_cookies(response, request, settings.env)
    return response


async def _after_logout(request: web.Request, id_token: str | None) -> str | None:
    """Where the browser goes once the session is ended: the provider's
    sign-out page (RP-initiated logout) for an OpenID Connect session, when
    the provider advertises one."""
    if id_token is None or OIDC_KEY not in request.app:
        return None
    return await request.app[OIDC_KEY].end_session_url(id_token)


def install(app: web.Application) -> None:
    app.router.add_get("/auth/login", login, name="auth_login")
    app.router.add_post("/auth/demo", demo_signin, name="auth_demo")
    app.router.add_post("/auth/logout", logout, name="auth_logout")
    app.router.add_get("/auth/callback", callback, name="auth_callback")
    app.router.add_static("/auth/static/", STATIC_DIR, name="auth_static")
