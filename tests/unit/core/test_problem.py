"""RFC 9457 problem details: the one error shape every service and the gateway answer with.

A tiny Flask app is wired exactly as `services.core.runtime.create_service_app` wires a service
(`ProblemApi`, a flask-smorest Blueprint, then `install_error_handlers`) and driven with Flask's test
client. Pinned: every error is `application/problem+json` with `type/title/status/detail[/request_id][/errors]`;
marshmallow validation errors keep their field-level messages under `errors` (not nested under the
webargs location "json"); routing errors (404, 405) are problem+json too; ConflictError is 409;
TransientError is 503 with Retry-After; and an unexpected exception is a bare 500 whose body reveals
neither the exception text nor a traceback (which goes to the log instead).
"""

from __future__ import annotations

import logging

import marshmallow as ma
import pytest
from flask import Flask
from flask_smorest import Blueprint, abort

from services.core import problem_types
from services.core.errors import ConflictError, TransientError, UnavailableError
from services.core.problem import PROBLEM_MEDIA_TYPE, ProblemApi, install_error_handlers

SECRET = "s3cret-internal-detail-7f3a"


class WidgetCreateSchema(ma.Schema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(1, 10))
    count = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(0, 5))


class WidgetQuerySchema(ma.Schema):
    limit = ma.fields.Integer(validate=ma.validate.Range(1, 10))


@pytest.fixture
def app():
    app = Flask("problem_test")
    app.config.update(API_TITLE="Problem test", API_VERSION="v1", OPENAPI_VERSION="3.1.0")
    api = ProblemApi(app)
    blp = Blueprint("widgets", __name__, url_prefix="/widgets")

    @blp.route("", methods=["POST"])
    @blp.arguments(WidgetCreateSchema)
    @blp.response(201, WidgetCreateSchema)
    def create(body):
        return body

    @blp.route("/search", methods=["GET"])
    @blp.arguments(WidgetQuerySchema, location="query")
    @blp.response(200, WidgetQuerySchema)
    def search(query):
        return query

    @blp.route("/conflict", methods=["POST"])
    def conflict():
        raise ConflictError("version 3 of widget:7 is already taken")

    @blp.route("/transient")
    def transient():
        raise TransientError(f"database down ({SECRET})")

    @blp.route("/unavailable")
    def unavailable():
        raise UnavailableError(f"broker unreachable ({SECRET})")

    @blp.route("/crash")
    def crash():
        raise RuntimeError(f"boom {SECRET}")

    @blp.route("/missing")
    def missing():
        abort(404, message="no widget 42")

    api.register_blueprint(blp)
    install_error_handlers(app)
    return app


@pytest.fixture
def client(app):
    return app.test_client()


def _problem(response, status: int) -> dict:
    assert response.status_code == status
    assert response.mimetype == PROBLEM_MEDIA_TYPE == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"] == problem_types.for_status(status).uri  # a documented kind, not about:blank
    assert isinstance(body["title"], str) and body["title"]
    assert set(body) <= {"type", "title", "status", "detail", "request_id", "errors"}
    return body


def test_valid_request_is_not_a_problem(client):
    response = client.post("/widgets", json={"name": "ok", "count": 2})
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.get_json() == {"name": "ok", "count": 2}


def test_validation_error_is_422_with_field_messages(client):
    response = client.post("/widgets", json={"name": "", "count": "2", "colour": "red"})
    body = _problem(response, 422)
    assert body["title"] == "Unprocessable Entity"
    errors = body["errors"]
    assert "json" not in errors  # not nested under the webargs location
    assert set(errors) == {"name", "count", "colour"}
    assert errors["colour"] == ["Unknown field."]
    assert all(isinstance(m, list) and all(isinstance(s, str) for s in m) for m in errors.values())


def test_missing_required_fields_are_named(client):
    body = _problem(client.post("/widgets", json={}), 422)
    assert set(body["errors"]) == {"name", "count"}


def test_query_validation_error_is_flattened_too(client):
    body = _problem(client.get("/widgets/search?limit=99"), 422)
    assert set(body["errors"]) == {"limit"}


def test_malformed_json_body_is_a_problem(client):
    response = client.post("/widgets", data="{not json", content_type="application/json")
    body = _problem(response, 400)
    assert body["title"] == "Bad Request"


def test_unknown_route_is_a_404_problem(client):
    body = _problem(client.get("/no/such/route"), 404)
    assert body["title"] == "Not Found"
    assert "errors" not in body


def test_abort_message_becomes_the_detail(client):
    body = _problem(client.get("/widgets/missing"), 404)
    assert body["detail"] == "no widget 42"


def test_wrong_method_is_a_405_problem(client):
    body = _problem(client.get("/widgets"), 405)
    assert body["title"] == "Method Not Allowed"
    _problem(client.delete("/widgets/conflict"), 405)


def test_405_problem_keeps_the_allow_header(client):
    response = client.get("/widgets")
    assert response.status_code == 405
    assert "POST" in response.headers.get("Allow", "")


def test_conflict_error_is_409_with_its_reason(client):
    body = _problem(client.post("/widgets/conflict"), 409)
    assert body["title"] == "Conflict"
    assert body["detail"] == "version 3 of widget:7 is already taken"


@pytest.mark.parametrize("path", ["/widgets/transient", "/widgets/unavailable"])
def test_transient_error_is_503_with_retry_after(client, path):
    response = client.get(path)
    body = _problem(response, 503)
    assert body["title"] == "Service Unavailable"
    retry_after = response.headers.get("Retry-After")
    assert retry_after is not None and retry_after.isdigit() and int(retry_after) > 0
    assert SECRET not in response.get_data(as_text=True)


def test_unexpected_exception_is_a_bare_500(client, caplog):
    with caplog.at_level(logging.ERROR, logger="services.core.problem"):
        response = client.get("/widgets/crash")
    body = _problem(response, 500)
    assert body["title"] == "Internal Server Error"
    text = response.get_data(as_text=True)
    for leak in (SECRET, "boom", "RuntimeError", "Traceback", "problem_test", ".py"):
        assert leak not in text
    assert "errors" not in body
    # the details go to the log, with the traceback
    records = [r for r in caplog.records if r.name == "services.core.problem"]
    assert records and records[-1].exc_info is not None
    assert SECRET in str(records[-1].exc_info[1])


def test_automatic_options_still_works_and_put_is_a_405_problem(client):
    response = client.options("/widgets")
    assert response.status_code == 200  # automatic OPTIONS still works
    _problem(client.put("/widgets", json={}), 405)


STOCK_PHRASES = ("The requested URL was not found on the server", "The method is not allowed",
                 "The browser (or proxy)", "The request was well-formed but")


@pytest.mark.parametrize("method,path,status,says", [
    ("GET", "/nowhere", 404, "no such resource: /nowhere"),
    ("DELETE", "/widgets", 405, "DELETE is not allowed on /widgets"),
    ("GET", "/v1/summits/not-a-uuid", 404, "the summit id 'not-a-uuid' is not a UUID"),
])
def test_routing_errors_say_what_was_wrong_in_own_words(client, method, path, status, says):
    """Issue 12, item 4: Werkzeug's stock description never reaches a client."""
    response = client.open(path, method=method)
    body = _problem(response, status)
    assert says in body["detail"]
    assert not [p for p in STOCK_PHRASES if p in response.get_data(as_text=True)]


def test_the_request_id_is_a_member_of_every_problem(client):
    body = _problem(client.get("/nowhere", headers={"X-Request-Id": "abc-123"}), 404)
    assert body["request_id"] == "abc-123"
    assert "request_id" not in _problem(client.get("/nowhere", headers={"X-Request-Id": "<script>"}), 404)
