"""Who may do what in the lottery (checked in the service itself, as well as at the gateway):
no token 401, a wrong role 403, another summit or municipality 403, an unknown summit 404; public
reads need no token. And the OpenAPI document the gateway assembles has exactly the operations
the gateway's access matrix declares for the lottery."""

from __future__ import annotations

import time

import pytest
from openapi_spec_validator import validate

from gateway.access import POLICY, PUBLIC
from gateway.openapi import assemble
from services.core.runtime import create_service_app
from services.core.tokens import issue, new_claims
from tests.helpers import open_test_summit
from tests.support.lottery_flow import TENANT, extract_csv, learn_summits, lottery  # noqa: F401

pytestmark = pytest.mark.integration

ROUND = "00000000-0000-4000-8000-000000000001"
WRITES = [("/register", {"csv": "x"}), ("/rounds", {}), (f"/rounds/{ROUND}/commitments", {}),
          (f"/rounds/{ROUND}/reveals", {}), (f"/rounds/{ROUND}/finalize", None), ("/invitations", {}),
          ("/pools/employers/members", {}), ("/pools/respondents/distributions", {}),
          ("/pools/respondents/draws", {}), ("/pools/respondents/replacements", {})]


def test_writes_need_a_token_of_the_right_role_for_this_summit(lottery):
    lot = lottery
    other_summit = open_test_summit(lot.ledger)
    learn_summits(lot.rt, lot.ledger, other_summit)
    expired = issue(lot.signer, new_claims(role="organiser", tenant=TENANT, subject="old",
                                           now=int(time.time()) - 7200, ttl_seconds=60))
    for path, body in WRITES:
        def post(headers):
            return lot.client.post(lot.url(path), json=body, headers=headers)

        anonymous = post({})
        assert anonymous.status_code == 401 and anonymous.content_type == "application/problem+json"
        assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
        assert post({"Authorization": "Bearer nonsense"}).status_code == 401
        assert post({"Authorization": f"Bearer {expired}"}).status_code == 401
        assert post(lot.auth("participant")).status_code == 403
        assert post(lot.auth("auditor")).status_code == 403
        assert post(lot.auth("organiser", tenant="Anderstad")).status_code == 403       # foreign municipality
        assert post(lot.auth("facilitator", summit=other_summit)).status_code == 403    # another summit
        unknown = lot.client.post(lot.url(path, "00000000-0000-4000-8000-00000000ffff"), json=body,
                                  headers=lot.auth())
        assert unknown.status_code == 404
    assert lot.post("/register", {"csv": extract_csv(3)}, role="facilitator").status_code == 403
    assert lot.events() == []


def test_public_reads_and_the_respondent_form_need_no_token(lottery):
    lot = lottery
    assert lot.get("/rounds").status_code == 200
    assert lot.get("/pools").status_code == 200
    assert lot.get("/register").status_code == 404          # none yet: not a 401
    assert lot.get("/pools/respondents/panel").status_code == 404
    assert lot.post("/respondents", {"code": "0000-0000-0000", "consent": True}, role=None).status_code == 404


def _templates(document: dict) -> set[tuple[str, str]]:
    return {(m.upper(), p) for p, item in document["paths"].items() for m in item
            if m in ("get", "post", "put", "patch", "delete") and "/lottery" in p}


def test_openapi_operations_match_the_gateway_access_matrix(lottery):
    document = lottery.client.get("/openapi.json").get_json()
    validate(document)
    ledger = create_service_app(lottery.ledger).test_client().get("/openapi.json").get_json()
    merged = assemble({"lottery": document, "ledger": ledger})  # no component or path clashes
    assert _templates(merged) == _templates(document)
    served = _templates(document)
    declared = {(m, p) for m, p in POLICY if "/lottery" in p}
    assert served == declared
    for method, path in served:
        op = document["paths"][path][method.lower()]
        if POLICY[(method, path)].scope != PUBLIC:
            assert {"401", "403"} <= set(op["responses"]), (method, path)
        if method == "POST":
            assert "requestBody" in op or path.endswith("/finalize"), (method, path)
