"""RFC 9457 problem details for every error a service or the gateway answers.

One shape for all errors: `{"type", "title", "status", "detail", "errors"?}` with media type
`application/problem+json`. Validation errors keep marshmallow's field-level messages under
`errors`. Unexpected exceptions are logged with their traceback and answered as a plain 500 body
that reveals nothing; TransientError (database or broker down) becomes 503 with Retry-After.
"""

from __future__ import annotations

import logging

import marshmallow as ma
from flask import Flask, Response, json
from flask_smorest import Api
from werkzeug.exceptions import HTTPException

from .errors import ConflictError, TransientError

log = logging.getLogger(__name__)

PROBLEM_MEDIA_TYPE = "application/problem+json"


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details (documentation schema)."""

    type = ma.fields.String(metadata={"description": "URI reference identifying the problem type"})
    title = ma.fields.String()
    status = ma.fields.Integer()
    detail = ma.fields.String()
    errors = ma.fields.Dict(metadata={"description": "field-level validation messages"})


def problem(status: int, title: str, detail: str | None = None, *, errors: dict | None = None,
            headers: dict | None = None, extensions: dict | None = None) -> Response:
    """`extensions`: further members (RFC 9457 §3.2) a refusal documents, e.g. `k_anonymity`."""
    body: dict = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    for key, value in (extensions or {}).items():
        body.setdefault(key, value)
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_MEDIA_TYPE)
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


class ProblemApi(Api):
    """flask-smorest Api whose errors are RFC 9457 problem details."""

    ERROR_SCHEMA = ProblemSchema

    def handle_http_exception(self, error: HTTPException):
        data = getattr(error, "data", None) or {}
        errors = data.get("errors") or data.get("messages")
        if isinstance(errors, dict) and set(errors) <= {"json", "query", "headers", "path", "files", "form"}:
            # webargs nests messages by location; a single location is just noise for clients --
            # unless its messages are a plain list (e.g. ["Invalid JSON body."]): `errors` stays an object
            if len(errors) == 1 and isinstance(next(iter(errors.values())), dict):
                errors = next(iter(errors.values()))
        detail = data.get("message") or error.description
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}  # e.g. Allow on 405
        headers.update(data.get("headers") or {})
        return problem(error.code or 500, error.name, detail, errors=errors, headers=headers)


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
            return problem(e.code or 500, e.name, e.description)
        log.exception("unhandled error")
        return problem(500, "Internal Server Error", "the error has been logged")
