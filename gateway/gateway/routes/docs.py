"""The OpenAPI document and a browsable page for it that needs no internet.

The page is Swagger UI, served from the files of the ``swagger-ui-bundle-v2``
package (no CDN); a server-rendered list of the operations stands in for it
when JavaScript is off.
"""

from __future__ import annotations

import html
import json

from aiohttp import web
from swagger_ui_bundle import swagger_ui_path

from .. import i18n
from ..errors import language_of
from ..openapi import PREFIX, Registry, build_document

OPENAPI_KEY = web.AppKey("openapi_json", bytes)
DOCS_HTML_KEY = web.AppKey("docs_html", dict)
STATIC = f"{PREFIX}/docs/static"

_INIT_JS = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "PREFIX/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    validatorUrl: null,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout"
  });
});
""".replace("PREFIX", PREFIX)

_TEXT = {
    "fr": {"title": "API Escale", "intro": "Documentation de l'API HTTP d'Escale.",
           "document": "Document OpenAPI", "noscript": "Sans JavaScript : liste des opérations."},
    "en": {"title": "Escale API", "intro": "Documentation of the Escale HTTP API.",
           "document": "OpenAPI document", "noscript": "Without JavaScript: list of operations."},
}


def _page(registry: Registry, language: str) -> str:
    text = _TEXT[language]
    rows = "\n".join(
        f"<li><code>{html.escape(op.method)} {html.escape(PREFIX + op.path)}</code> "
        f"{html.escape(op.summary)}</li>"
        for op in registry.operations
    )
    return f"""<!DOCTYPE html>
<html lang="{language}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{text['title']}</title>
<link rel="stylesheet" href="{STATIC}/swagger-ui.css">
<link rel="icon" type="image/png" href="{STATIC}/favicon-32x32.png">
</head>
<body>
<header><h1>{text['title']}</h1>
<p>{text['intro']} <a href="{PREFIX}/openapi.json">{text['document']}</a></p></header>
<main>
<div id="swagger-ui"></div>
<noscript><p>{text['noscript']}</p><ul>
{rows}
</ul></noscript>
</main>
<script src="{STATIC}/swagger-ui-bundle.js" charset="utf-8"></script>
<script src="{PREFIX}/docs/init.js"></script>
</body>
</html>
"""


CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
       "script-src 'self'; connect-src 'self'; frame-ancestors 'none'")


async def openapi_json(request: web.Request) -> web.Response:
    return web.Response(body=request.app[OPENAPI_KEY], content_type="application/json")


async def docs_page(request: web.Request) -> web.Response:
    language = language_of(request)
    return web.Response(text=request.app[DOCS_HTML_KEY][language], content_type="text/html",
                        headers={"Content-Security-Policy": CSP, "Content-Language": language})


async def docs_init(request: web.Request) -> web.Response:
    return web.Response(text=_INIT_JS, content_type="application/javascript")


def install(app: web.Application, registry: Registry) -> None:
    document = build_document(registry)
    app[OPENAPI_KEY] = json.dumps(document, ensure_ascii=False).encode("utf-8")
    app[DOCS_HTML_KEY] = {lang: _page(registry, lang) for lang in i18n.LANGUAGES}
    app.router.add_get(f"{PREFIX}/openapi.json", openapi_json, name="openapi")
    app.router.add_get(f"{PREFIX}/docs", docs_page, name="docs")
    app.router.add_get(f"{PREFIX}/docs/init.js", docs_init, name="docs_init")
    app.router.add_static(STATIC, str(swagger_ui_path), name="docs_static")
