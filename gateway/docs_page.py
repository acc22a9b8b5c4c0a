"""`/docs`: the API reference, served by the gateway itself (issue 12, Build item 3).

The machines that run a summit may have no internet, so nothing is fetched from elsewhere:
- `/docs` is Swagger UI (Apache-2.0) from the pinned `flask-swagger-ui` wheel (its `dist/` holds the
  Swagger UI release of the same version), loading `/openapi.json`. The page references only
  relative URLs under `/docs/assets/`, its configuration is a script of ours (no inline script), and
  the validator badge (which would call validator.swagger.io) is switched off.
- `/docs/table` is the same document as one HTML table without any script: one row per operation
  with method, path, summary, request schema and response schemas (for a text browser or a print).
"""

from __future__ import annotations

from html import escape
from importlib import metadata, resources

from flask import Blueprint, Flask, Response, abort, send_file

from .openapi import METHODS

ASSETS = "/docs/assets"
UI_PACKAGE = "flask_swagger_ui"
UI_VERSION = metadata.version("flask-swagger-ui")  # pinned in pyproject.toml; = the Swagger UI release
# the only files of the distribution the page needs (anything else under /docs/assets is 404)
UI_FILES = {"swagger-ui.css": "text/css", "swagger-ui-bundle.js": "text/javascript",
            "favicon-32x32.png": "image/png", "LICENSE": "text/plain"}

# Swagger UI's own options (https://swagger.io/docs/open-source-tools/swagger-ui/usage/configuration/)
_INIT = """window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    docExpansion: "list",
    displayRequestDuration: true,
    showExtensions: true,
    tryItOutEnabled: false,
    validatorUrl: null,
    persistAuthorization: false
  });
});
"""

_UI_PAGE = f"""<!doctype html>
<html lang=en><head><meta charset=utf-8><meta name=viewport content="width=device-width, initial-scale=1">
<title>G1000 public API reference</title>
<meta name=generator content="Swagger UI {UI_VERSION}">
<link rel=stylesheet href="{ASSETS}/swagger-ui.css">
<link rel=icon type="image/png" href="{ASSETS}/favicon-32x32.png">
</head><body>
<noscript><p>This page needs JavaScript; <a href="/docs/table">/docs/table</a> is the same reference
without it, and <a href="/openapi.json">/openapi.json</a> the document (OpenAPI 3.1).</p></noscript>
<div id=swagger-ui></div>
<script src="{ASSETS}/swagger-ui-bundle.js"></script>
<script src="{ASSETS}/g1000-docs.js"></script>
</body></html>
"""

docs = Blueprint("docs", __name__)


@docs.get("/docs")
def ui_page():
    return Response(_UI_PAGE, content_type="text/html; charset=utf-8")


@docs.get(f"{ASSETS}/g1000-docs.js")
def ui_init():
    return Response(_INIT, content_type="text/javascript; charset=utf-8")


@docs.get(f"{ASSETS}/<name>")
def ui_asset(name: str):
    if name not in UI_FILES:
        abort(404)
    path = resources.files(UI_PACKAGE) / "dist" / name
    # the files change only with the pinned version, which is in no URL: let clients revalidate
    return send_file(path, mimetype=UI_FILES[name], max_age=0, conditional=True)


def install(app: Flask, document) -> None:
    """Serve the reference on `app`; `document()` gives the assembled OpenAPI document."""
    app.register_blueprint(docs)

    @app.get("/docs/table")
    def docs_table():
        return Response(render(document()), content_type="text/html; charset=utf-8")

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%;table-layout:fixed}td{overflow-wrap:anywhere}th,td{border:1px solid #ccc;padding:.4rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}code{font-family:ui-monospace,monospace}.m{font-weight:bold;text-transform:uppercase}
"""


def _ref_name(node) -> str | None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            return ref.rsplit("/", 1)[-1]
        if node.get("type") == "array":
            inner = _ref_name(node.get("items"))
            return f"array of {inner}" if inner else "array"
        if "type" in node:
            return str(node["type"])
    return None


def _content_schema(obj: dict, components: dict) -> str | None:
    if "$ref" in obj:  # a shared response component: name it by its schema
        target = components.get("responses", {}).get(obj["$ref"].rsplit("/", 1)[-1], {})
        return _content_schema(target, components) or obj["$ref"].rsplit("/", 1)[-1]
    for media in (obj.get("content") or {}).values():
        name = _ref_name(media.get("schema"))
        if name:
            return name
    return None


def operations(document: dict) -> list[dict]:
    """Every operation: method, path, summary, request schema, {status: response schema}."""
    components = document.get("components", {})
    found = []
    for path, item in document.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if op is None:
                continue
            body = op.get("requestBody")
            found.append({
                "method": method.upper(), "path": path, "summary": op.get("summary", ""),
                "request": _content_schema(body, components) if body else None,
                "responses": {code: _content_schema(r, components) or "" for code, r in
                              sorted(op.get("responses", {}).items())},
            })
    return found


def _inline(text: str) -> str:
    """Escaped text with its Markdown code spans (`x`, CommonMark section 6.1) as <code>."""
    parts = escape(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backtick: leave the text as it is
        return escape(text)
    return "".join(f"<code>{part}</code>" if i % 2 else part for i, part in enumerate(parts))


def render(document: dict) -> str:
    info = document.get("info", {})
    rows = []
    for op in operations(document):
        responses = "<br>".join(f"<code>{escape(code)}</code> {escape(name)}"
                                for code, name in op["responses"].items())
        rows.append(
            f"<tr><td class=m>{escape(op['method'])}</td><td><code>{escape(op['path'])}</code></td>"
            f"<td>{_inline(op['summary'])}</td><td>{escape(op['request'] or '')}</td><td>{responses}</td></tr>")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(info.get('title', 'API'))}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(info.get('title', 'API'))} <small>{escape(str(info.get('version', '')))}</small></h1>"
        f"<p>{escape(info.get('description', ''))} The machine-readable document is "
        "<a href=/openapi.json><code>/openapi.json</code></a> (OpenAPI 3.1).</p>"
        "<table><thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>Request schema</th>"
        f"<th>Responses</th></tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>"
    )
