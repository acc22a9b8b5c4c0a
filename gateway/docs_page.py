"""`/docs`: the public API as one self-contained HTML page, rendered from the OpenAPI document.

The machines that run a summit have no internet, so the page loads nothing (no CDN, no script):
one table row per operation with method, path, summary, request schema and response schemas.
"""

from __future__ import annotations

from html import escape

from .openapi import METHODS

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ccc;padding:.4rem;text-align:left;vertical-align:top}
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


def render(document: dict) -> str:
    info = document.get("info", {})
    rows = []
    for op in operations(document):
        responses = "<br>".join(f"<code>{escape(code)}</code> {escape(name)}"
                                for code, name in op["responses"].items())
        rows.append(
            f"<tr><td class=m>{escape(op['method'])}</td><td><code>{escape(op['path'])}</code></td>"
            f"<td>{escape(op['summary'])}</td><td>{escape(op['request'] or '')}</td><td>{responses}</td></tr>")
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        f"<title>{escape(info.get('title', 'API'))}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{escape(info.get('title', 'API'))} <small>{escape(str(info.get('version', '')))}</small></h1>"
        f"<p>{escape(info.get('description', ''))} The machine-readable document is "
        "<a href=/openapi.json><code>/openapi.json</code></a> (OpenAPI 3.1).</p>"
        "<table><thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>Request schema</th>"
        f"<th>Responses</th></tr></thead><tbody>{''.join(rows)}</tbody></table></body></html>"
    )
