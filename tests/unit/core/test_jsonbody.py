"""Request bodies in JSON (issue 10, L1 and L8): nesting 20,000 deep, an integer of 6,000 digits,
duplicate keys and NaN are refused with 400 problem+json -- through flask-smorest's `@arguments`
and through `request.get_json()` alike -- and no traceback is logged for them."""

from __future__ import annotations

import logging

import marshmallow as ma
import pytest
from flask import Flask, request

from services.core import jsonbody
from services.core.jsonbody import MAX_DEPTH, MAX_INTEGER_DIGITS, BodyJSONError, Blueprint, parse_body
from services.core.problem import PROBLEM_MEDIA_TYPE, ProblemApi, install_error_handlers

DEEP = b"[" * 20_000 + b"]" * 20_000
HUGE = b'{"count": ' + b"9" * 6_000 + b"}"
ATTACKS = {"deep": DEEP, "deep-object": b'{"a":' * 20_000 + b"1" + b"}" * 20_000, "huge-integer": HUGE,
           "duplicate": b'{"count": 1, "count": 2}', "nan": b'{"count": NaN}'}


class CountSchema(ma.Schema):
    count = ma.fields.Raw()


@pytest.fixture
def client():
    app = Flask("jsonbody_test")
    app.config.update(API_TITLE="t", API_VERSION="v1", OPENAPI_VERSION="3.1.0")
    jsonbody.install(app)
    api = ProblemApi(app)
    blp = Blueprint("things", __name__, url_prefix="/things")

    @blp.route("", methods=["POST"])
    @blp.arguments(CountSchema)
    def create(body):
        return {"ok": True}

    @blp.route("/plain", methods=["POST"])
    def plain():
        return {"got": request.get_json()}

    api.register_blueprint(blp)
    install_error_handlers(app)
    return app.test_client()


@pytest.mark.parametrize("path", ["/things", "/things/plain"])
@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_hostile_bodies_are_400_problems_without_a_traceback(client, caplog, path, name):
    caplog.set_level(logging.DEBUG)
    response = client.post(path, data=ATTACKS[name], content_type="application/json")
    assert response.status_code == 400
    assert response.mimetype == PROBLEM_MEDIA_TYPE
    assert response.get_json(force=True)["status"] == 400
    assert not [r for r in caplog.records if r.exc_info], "a refused body must not log a traceback"


def test_ordinary_bodies_still_parse(client):
    assert client.post("/things", json={"count": 3}).status_code == 200
    assert client.post("/things/plain", json={"count": [1, {"a": None}]}).get_json() == {"got": {"count": [1, {"a": None}]}}


def test_the_bounds_are_exact():
    assert parse_body(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(BodyJSONError, match="nested"):
        parse_body(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert parse_body(b"-" + b"9" * MAX_INTEGER_DIGITS) == -int("9" * MAX_INTEGER_DIGITS)
    with pytest.raises(BodyJSONError, match="digits"):
        parse_body(b"1" * (MAX_INTEGER_DIGITS + 1))
    with pytest.raises(BodyJSONError, match="duplicate key 'a'"):
        parse_body(b'[{"b": {"a": 1, "a": 1}}]')
    with pytest.raises(BodyJSONError, match="UTF-8"):
        parse_body(b'"\xff"')
