"""`/problems/<kind>`: the page that documents every problem `type` the API answers.

Why (issue 12, item 3; RFC 9457 §3.1.1): a problem's `type` is a URI reference meant to be
dereferenced by a person, so each one in the catalogue (services/core/problem_types.py) must
resolve to documentation: when the problem happens and what to do about it. The types are
relative references, so they resolve against the gateway that answered; it serves one HTML page
with a section per type, at `/problems` and at every type's own URI (the section's anchor is its
slug). Self-contained like /docs: no script, nothing loaded from elsewhere.
"""

from __future__ import annotations

from html import escape

from flask import Flask, Response

from services.core import problem_types
from services.core.problem import ProblemApi, problem

_STYLE = """
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#222;line-height:1.45}
section{border-top:1px solid #ccc;padding:.5rem 0}section:target{background:#fff8d6}
code{font-family:ui-monospace,monospace}h2 code{font-size:.9em}
"""


def render() -> str:
    sections = []
    for kind in problem_types.CATALOGUE.values():
        status = f"{kind.status} {kind.title}" if kind.status else "any other status"
        sections.append(
            f'<section id="{escape(kind.slug)}"><h2><code>{escape(kind.uri)}</code></h2>'
            f"<p><strong>Status:</strong> {escape(status)}</p>"
            f"<p><strong>When it happens:</strong> {escape(kind.when)}</p>"
            f"<p><strong>What to do:</strong> {escape(kind.what_to_do)}</p></section>")
    return ("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>G1000 API problem types"
            f"</title><style>{_STYLE}</style></head><body><h1>Problem types of the G1000 API</h1>"
            "<p>Every error is answered as <code>application/problem+json</code> (RFC 9457) with "
            "<code>type</code>, <code>title</code>, <code>status</code>, <code>detail</code>, the "
            "<code>request_id</code> to quote in a report and, for invalid fields, <code>errors</code>. "
            "The <code>type</code> is one of the URIs below; a client may branch on it. Titles and "
            "details are in Dutch when the request prefers <code>nl</code> (Accept-Language), in "
            "English otherwise.</p>" + "".join(sections) + "</body></html>")


def install(app: Flask) -> None:
    page = render()

    def _page() -> Response:
        return Response(page, content_type="text/html; charset=utf-8")

    def _one(kind: str) -> Response:
        if kind not in problem_types.CATALOGUE:
            return problem(404, "Not Found", f"no such problem type: {problem_types.PREFIX + kind[:80]}")
        return _page()

    app.add_url_rule("/problems", "problem_types", _page, methods=["GET"])
    app.add_url_rule("/problems/<kind>", "problem_type", _one, methods=["GET"])


class GatewayProblemApi(ProblemApi):
    """The gateway's Api: problem+json errors, and the pages their `type` URIs name."""

    def init_app(self, app, *args, **kwargs):
        super().init_app(app, *args, **kwargs)
        install(app)
