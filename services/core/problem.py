"""RFC 9457 problem details for every error a service or the gateway answers.

One shape for all errors: `{"type", "title", "status", "detail", "request_id", "errors"?}` with
media type `application/problem+json`. Validation errors keep marshmallow's field-level messages
under `errors`. `request_id` (an extension member, RFC 9457 §3.2) equals the `X-Request-Id` the
gateway answers, so a caller can quote one value when reporting a failure.

No framework default text reaches a client (issue 12, item 4): an HTTP error keeps the message
its view gave (`abort(404, message=...)`), and where there is none, Werkzeug's stock description
("The requested URL was not found on the server...") is replaced by one that names what was
wrong with this request (`own_detail`). Titles, details and field messages are written in English
and rendered here in the language the request's Accept-Language prefers (Dutch or English,
services/core/messages.py); `type` names the kind (services/core/problem_types.py). Unexpected
exceptions are logged with their traceback and answered as a plain 500 body that reveals nothing;
TransientError (database or broker down) becomes 503 with Retry-After.
"""

from __future__ import annotations

import logging
import re
import uuid

import marshmallow as ma
from flask import Flask, Response, has_request_context, json, request
from flask_smorest import Api
from werkzeug.exceptions import HTTPException, default_exceptions

from . import messages, problem_types
from .errors import ConflictError, TransientError

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation schema)."""

    type = ma.fields.String(metadata={"description": "URI reference identifying the problem type: "
                                      "/problems/<kind>, documented on that page of the gateway"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    request_id = ma.fields.String(metadata={"description": "the request's X-Request-Id, to quote in a report"})
    errors = ma.fields.Dict(metadata={"description": "field-level validation messages"})


# The request id the gateway chose (gateway/observability.py), or at a service the one the gateway
# forwarded; anything else is not echoed.
_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Werkzeug's stock descriptions, by status: an error carrying one of these has no message of its own
_STOCK = {code: cls.description for code, cls in default_exceptions.items()}
_SUMMIT_SEGMENT = re.compile(r"^/v1/(?:summits|logs)/([^/]*)")


def current_request_id() -> str | None:
    if not has_request_context():
        return None
    given = request.environ.get("g1000.request_id") or request.headers.get("X-Request-Id")
    return given if given and _REQUEST_ID.fullmatch(given) else None


def own_detail(status: int) -> str | None:
    """What was wrong with this request, for an error that brought no message of its own."""
    path = request.path if has_request_context() else ""
    shown = path if len(path) <= 200 else path[:200] + "..."
    if status == 404:
        found = _SUMMIT_SEGMENT.match(path)
        if found and not _is_uuid(found.group(1)):
            return f"the summit id {found.group(1)[:80]!r} is not a UUID, so there is no such summit"
        return f"no such resource: {shown}"
    if status == 405:
        return f"{request.method} is not allowed on {shown}"
    if status == 413:
        limit = request.max_content_length if has_request_context() else None
        return f"the body is larger than this route's limit of {limit} bytes" if limit \
            else "the body is larger than this route accepts"
    if status == 415:
        return "the body must be JSON, sent with Content-Type: application/json"
    if status == 422:
        return "some fields are invalid; `errors` names each one"
    if status == 400:
        return "the request is malformed"
    return None


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def problem(status: int, title: str, detail: str | None = None, *, errors: dict | None = None,
            headers: dict | None = None, extensions: dict | None = None, kind: str | None = None) -> Response:
    """`extensions`: further members (RFC 9457 §3.2) a refusal documents, e.g. `k_anonymity`.
    `kind`: the problem type's slug in services/core/problem_types.py when the status alone does
    not say it (e.g. `refused` for a 422 that is not a field validation)."""
    ptype = problem_types.by_slug(kind) if kind else problem_types.for_status(status)
    language = messages.negotiate(request.headers.get("Accept-Language")) if has_request_context() \
        else messages.DEFAULT
    body: dict = {"type": ptype.uri, "title": messages.translate(title, language), "status": status,
                  "detail": messages.translate(detail or own_detail(status) or title, language)}
    rid = current_request_id()
    if rid:
        body["request_id"] = rid
    if errors:
        body["errors"] = messages.translate_errors(errors, language)
    for key, value in (extensions or {}).items():
        body.setdefault(key, value)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    response.headers["Content-Language"] = language
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def http_problem(error: HTTPException) -> Response:
    """The problem details of an HTTP error: the view's own message and fields, else own_detail."""
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    if isinstance(errors, dict) and set(errors) <= {"json", "query", "headers", "path", "files", "form"}:
        # webargs nests messages by location; a single location is just noise for clients --
        # unless its messages are a plain list (e.g. ["Invalid JSON body."]): `errors` stays an object
        if len(errors) == 1 and isinstance(next(iter(errors.values())), dict):
            errors = next(iter(errors.values()))
    detail = data.get("message") or error.description
    if not detail or detail == _STOCK.get(error.code):
        detail = own_detail(error.code or 500)
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}  # e.g. Allow on 405
    headers.update(data.get("headers") or {})
    return problem(error.code or 500, error.name, detail, errors=errors, headers=headers)


class ProblemApi(Api):
    """flask-smorest Api whose errors are RFC 9457 problem details."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException):
        return http_problem(error)


def install_error_handlers(app: Flask) -> None:
    """Map non-HTTP exceptions to problem details (HTTP ones go through ProblemApi)."""

    @app.errorhandler(ConflictError)
    def _conflict(e: ConflictError):
        return problem(409, "Conflict", str(e))

    @app.errorhandler(TransientError)
    def _transient(e: TransientError):
        log.warning("dependency unavailable: %s", e)
        return problem(503, "Service Unavailable", "a dependency is briefly unavailable; retry",
                       headers={"Retry-After": "2"})

    @app.errorhandler(Exception)
    def _unexpected(e: Exception):
        if isinstance(e, HTTPException):
            return http_problem(e)
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "the error has been logged")
