"""The one parser for request bodies in JSON, used by every service and the gateway.

Python's `json` module accepts what an anonymous caller can use to make a request fail inside the
app rather than at its edge: nesting 20,000 deep (RecursionError), an integer of 6,000 digits
(ValueError from int()'s digit limit, and quadratic work below it), and duplicate object keys (the
last one silently wins, so two readers of the same bytes may disagree). This parser refuses all
three, and NaN / Infinity, with `BodyJSONError` (a ValueError), which the apps answer as 400
problem+json without logging a traceback.

Two doors lead to a request's JSON and both go through `parse_body`: flask-smorest's
`@blp.arguments` (webargs) when the blueprint is this module's `Blueprint`, and Flask's
`request.get_json()` once `install(app)` has set the app's JSON provider.

The answers say what was wrong (issue 12, item 4): a body that is not sent as `application/json`
is 415 naming that media type (RFC 9110 §15.5.16), not 422 "Missing data" as if it were absent;
a body-less request to a route whose schema requires fields is 400 saying a JSON body is needed;
malformed JSON is 400 with the parser's position. `install` also sets each request's body limit
from services/core/bodylimits.py, so a body over it is 413 before any of it is read.
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

import flask_smorest
from flask import Flask, Request, request
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from .bodylimits import body_limit
from .canonical import refusing_duplicate_keys
from .errors import BodyJSONError

MAX_DEPTH = 64  # arrays and objects inside each other; the deepest request schema needs 4
MAX_INTEGER_DIGITS = 40  # more than a 128-bit integer; every integer field is far smaller


_no_duplicates = refusing_duplicate_keys(lambda key: BodyJSONError(f"duplicate key {key!r} in a JSON object"))


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise BodyJSONError(f"an integer has more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def _no_constant(name: str):
    raise BodyJSONError(f"{name} is not JSON")


def _check_depth(value: Any) -> None:
    """Iteratively, so a deep value cannot exhaust the stack here either."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > MAX_DEPTH:
            raise BodyJSONError(f"JSON nested more than {MAX_DEPTH} deep")
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def parse_body(data: bytes | str) -> Any:
    """The value of a request body, or BodyJSONError (also for bytes that are not UTF-8)."""
    try:
        text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_int=_bounded_int,
                           parse_constant=_no_constant)
    except BodyJSONError:
        raise
    except RecursionError:
        raise BodyJSONError(f"JSON nested more than {MAX_DEPTH} deep") from None
    except UnicodeDecodeError:
        raise BodyJSONError("the body is not UTF-8") from None
    except ValueError as e:  # json.JSONDecodeError and the like
        raise BodyJSONError(f"not valid JSON: {e}") from None
    if isinstance(value, (dict, list)):
        _check_depth(value)
    return value


class BodyParser(FlaskParser):
    """webargs' Flask parser with `parse_body` for `location="json"`; a refused body is 400."""

    def _raw_load_json(self, req):
        data = req.get_data(cache=True)
        if not data:
            return core.missing
        if not is_json_request(req):
            raise UnsupportedMediaType(media_type_detail(req.mimetype))
        return parse_body(data)

    def load_json(self, req, schema):
        try:
            value = self._raw_load_json(req)
        except BodyJSONError as e:
            flask_smorest.abort(400, messages={"json": [str(e)]}, message=str(e))
        if value is core.missing and any(f.required for f in getattr(schema, "fields", {}).values()):
            flask_smorest.abort(400, message=NO_BODY)
        return value


NO_BODY = "this request needs a JSON body, sent with Content-Type: application/json"


def media_type_detail(got: str | None) -> str:
    return f"the body must be JSON, sent with Content-Type: application/json (not {(got or 'none')[:80]})"


class BodyRequest(Request):
    """Flask's request, whose `get_json()` failures say what was wrong instead of Werkzeug's
    stock "The browser (or proxy) sent a request that this server could not understand"."""

    def on_json_loading_failure(self, e: ValueError | None):
        if e is None:  # not a JSON media type
            raise UnsupportedMediaType(media_type_detail(self.mimetype))
        raise BadRequest(str(e) if isinstance(e, BodyJSONError) else f"not valid JSON: {e}")


def limit_body() -> None:
    """before_request: this route's body limit (bodylimits.py). A declared Content-Length above it
    is refused at once. A streamed (chunked) body is read here, at most one byte past the limit:
    Werkzeug's stream stops quietly at `max_content_length`, so without that byte a body cut at
    the limit would be taken for the whole of it."""
    limit = body_limit(request.method, request.path)
    if request.content_length is not None:
        request.max_content_length = limit
        if request.content_length > limit:
            raise RequestEntityTooLarge()
        return
    request.max_content_length = limit + 1
    streamed = len(request.get_data(cache=True))
    request.max_content_length = limit  # for the 413's message, and any later read
    if streamed > limit:
        raise RequestEntityTooLarge()


class Blueprint(flask_smorest.Blueprint):
    """flask-smorest's Blueprint whose `@arguments` parse JSON with `parse_body`. Every service
    and the gateway declare their blueprints with this one."""

    ARGUMENTS_PARSER = BodyParser()

    def arguments(self, schema, *, location="json", **kwargs):
        """flask-smorest's `arguments`; a JSON body also documents the answers that refuse one:
        400 (missing or not JSON), 413 (over the route's limit, bodylimits.py) and 415 (another
        media type)."""
        parse = super().arguments(schema, location=location, **kwargs)
        if location != "json":
            return parse

        def decorator(func):
            func = parse(func)
            for status in (400, 413, 415):
                func = self.alt_response(status, HTTPStatus(status).name)(func)
            return func

        return decorator


class BodyJSONProvider(DefaultJSONProvider):
    """The app's JSON provider: `request.get_json()` (and `flask.json.loads`) use `parse_body`."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return parse_body(s)


def install(app: Flask, *, limit: bool = True) -> None:
    """Route the app's `request.get_json()` through `parse_body`, and limit each request's body
    (first of all; `limit=False` for an app that calls `limit_body` itself, as the gateway does
    once it has the request id)."""
    app.json = BodyJSONProvider(app)
    app.request_class = BodyRequest
    if limit:
        app.before_request_funcs.setdefault(None, []).insert(0, limit_body)


__all__ = ["BodyJSONError", "Blueprint", "BodyParser", "BodyRequest", "limit_body", "media_type_detail", "MAX_DEPTH", "MAX_INTEGER_DIGITS", "install",
           "parse_body"]
