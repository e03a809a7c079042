"""The web app for agents and admins, served by the gateway itself.

The app is plain ES modules, a style sheet and one HTML shell under
``static/app`` (no build step, no CDN: it works on an intranet without
internet). Every page of the app (``/app``, ``/app/desks``...) answers the
same shell; the script reads the path and draws the page, talking only to
the public ``/api/v1`` and the live WebSocket, with the session cookie.

The shell's ``lang`` attribute is the language the person chose (cookie
``escale_lang``, set by the app's language switch), else the browser's
``Accept-Language``, French by default. The page allows no inline script or
style (a strict Content-Security-Policy), so the app draws its floor plans
with SVG attributes and CSS classes only.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web

from .. import i18n

APP_DIR = Path(__file__).resolve().parent.parent / "static" / "app"
LANGUAGE_COOKIE = "escale_lang"
PAGES = ("", "week", "desks", "rooms", "bookings", "colleagues", "admin")
APP_CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; "
           "img-src 'self' data: blob:; object-src 'none'; base-uri 'none'; "
           "form-action 'self'; frame-ancestors 'none'")


def page_language(request: web.Request) -> str:
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in i18n.LANGUAGES:
        return chosen
    return i18n.pick_language(request.headers.get("Accept-Language"))


def install(app: web.Application) -> None:
    """``/`` sends people to the app; ``/app/<page>`` is the shell; ``/app/assets/`` its files."""
    shell = (APP_DIR / "index.html").read_text(encoding="utf-8")
    shells = {lang: shell.replace("{lang}", lang) for lang in i18n.LANGUAGES}

    async def app_page(request: web.Request) -> web.Response:
        if request.match_info.get("page", "") not in PAGES:
            raise web.HTTPNotFound()
        language = page_language(request)
        return web.Response(text=shells[language], content_type="text/html", headers={
            "Content-Security-Policy": APP_CSP, "Content-Language": language,
            "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        })

    async def home(request: web.Request) -> web.Response:
        raise web.HTTPFound("/app/")

    app.router.add_get("/", home, name="home")
    app.router.add_get("/app", app_page, name="app")
    app.router.add_get("/app/", app_page, name="app_home")
    app.router.add_get("/app/{page:[a-z]+}", app_page, name="app_page")
    app.router.add_static("/app/assets/", APP_DIR / "assets", name="app_assets")
