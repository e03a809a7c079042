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

import html
import logging
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from aiohttp import web

from .. import auth
from ..errors import ApiError, language_of
from ..keys import RPC_KEY, SETTINGS_KEY, TOKENS_KEY
from ..rpc import RemoteError
from ..sessions import (
    CSRF_FIELD, CSRF_HEADER, clear_session_cookies, csrf_valid, safe_next, set_session_cookies,
)

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent.parent / "static" / "auth"
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
    },
    "en": {
        "title": "Sign in to Escale",
        "demo_intro": "Demo sign-in: enter the email of a person in the directory. No "
                      "password is asked; this mode exists for demonstrations only.",
        "email": "Email address",
        "submit": "Sign in",
        "unknown": "No person in the directory has this email address.",
        "bad_email": "Enter an email address.",
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
    its choosing. Browsers send Origin on every cross-origin POST.
    """
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
    if not settings.sessions.demo_signin:
        raise web.HTTPNotFound()
    return _demo_form(language_of(request), next_path)


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
    """Where the browser goes once the session is ended (the provider's
    sign-out page for an OpenID Connect session that has one)."""
    return None


def install(app: web.Application) -> None:
    app.router.add_get("/auth/login", login, name="auth_login")
    app.router.add_post("/auth/demo", demo_signin, name="auth_demo")
    app.router.add_post("/auth/logout", logout, name="auth_logout")
    app.router.add_static("/auth/static/", STATIC_DIR, name="auth_static")
