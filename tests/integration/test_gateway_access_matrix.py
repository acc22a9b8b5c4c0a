"""The whole authorisation matrix, walked: every documented route × every role × own / foreign
summit × no token, through the gateway and (for the services' routes) directly at the service.
The served OpenAPI document's security declarations must state that same matrix (issue 12 item 3).

A route answers a caller it should not when the caller gets past authorisation: anything but
401/403 where gateway/access.py says "no". Every refused request must also leave every service's
events and the gateway's credentials as they were. Requests carry an empty JSON body, so a caller
that is let through meets validation (422) rather than changing state.
"""

from __future__ import annotations

import copy
import re
import uuid

import pytest

from gateway import openapi as gw_openapi
from gateway.access import POLICY, Rule, decide, public, token
from gateway.access import SUMMIT as SUMMIT_SCOPE
from gateway.routes import service_for
from services.core.runtime import create_service_app
from services.core.tokens import TokenVerifier
from tests.integration.gateway_support import SUMMIT

ROLES = ("organiser", "facilitator", "participant", "auditor")
CALLERS = [None] + [(role, where) for role in ROLES for where in ("own", "foreign")]


def caller_id(caller) -> str:
    return "anonymous" if caller is None else f"{caller[0]}-{caller[1]}"


@pytest.fixture
def world(stack):
    client = stack.gateway().test_client()
    summits = {}
    for where, town in (("own", "Teststad"), ("foreign", "Anderstad")):
        organiser = stack.issue(tenant=town)
        response = client.post("/v1/summits", json=SUMMIT | {"municipality": town},
                               headers={"Authorization": f"Bearer {organiser}"})
        assert response.status_code == 201
        summits[where] = (response.get_json()["summit_id"], town)
        stack.announce(summits[where][0])
    return client, summits


def fresh_token(stack, caller, summits):
    """A new token for this caller's profile (some operations revoke the token they are given)."""
    role, where = caller
    summit_id, town = summits[where]
    bound = summit_id if role in ("facilitator", "participant", "auditor") else None
    return stack.credentials().issue(role=role, tenant=town, summit_id=bound, subject=f"{role}-{where}",
                                     issued_by="admin")


def concrete(template: str, own_summit: str, token_id: str | None) -> str:
    def value(m):
        name = m.group(1)
        if name in ("summit_id", "log_id"):
            return own_summit
        if name == "token_id" and token_id:
            return token_id
        if name == "pool":
            return "respondents"
        return str(uuid.uuid4())
    return re.sub(r"\{([^}/]+)\}", value, template)


def state(stack) -> tuple:
    counts = []
    for rt in [stack.ledger, *stack.others()]:
        with rt.db.transaction() as conn:
            counts.append(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    counts.append(stack.gateway_rows("SELECT count(*), count(revoked_at) FROM issued_tokens")[0])
    counts.append(stack.gateway_rows("SELECT count(*) FROM check_in_codes")[0])
    return tuple(counts)


def expected(stack, operation, caller, summits, token):
    rule = POLICY[operation]
    claims = None
    if caller is not None:
        claims = TokenVerifier(stack.credentials().signer.public_key).verify(token, __import__("time").time())
    own_summit, own_town = summits["own"]
    return decide(rule, claims, own_summit if "{" in operation[1] else None, own_town)


def test_the_policy_covers_exactly_the_documented_operations(world):
    client, _ = world
    document = client.get("/openapi.json").get_json()
    documented = {(m.upper(), p) for p, item in document["paths"].items() if p.startswith("/v1/")
                  for m in item if m in ("get", "post", "put", "patch", "delete")}
    assert documented == set(POLICY), {"undeclared": documented - set(POLICY), "undocumented": set(POLICY) - documented}


def test_no_route_answers_a_caller_it_should_not(stack, world):
    client, summits = world
    own_summit = summits["own"][0]
    wrong = []
    walked = 0
    for operation in sorted(POLICY):
        method, template = operation
        for caller in CALLERS:
            issued = None if caller is None else fresh_token(stack, caller, summits)
            headers = {} if issued is None else {"Authorization": f"Bearer {issued.token}"}
            path = concrete(template, own_summit, issued.claims.token_id if issued else None)
            decision = expected(stack, operation, caller, summits, issued.token if issued else None)
            before = state(stack)
            kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            response = client.open(path, method=method, headers=headers, **kwargs)
            walked += 1
            status = response.status_code
            if status >= 500 or (status >= 400 and response.content_type != "application/problem+json"):
                wrong.append((method, template, caller_id(caller), status, "not a problem+json error"))
            if decision.allowed and status in (401, 403):
                wrong.append((method, template, caller_id(caller), status, "refused a caller the matrix allows"))
            if not decision.allowed:
                if status != decision.status:
                    wrong.append((method, template, caller_id(caller), status, f"expected {decision.status}"))
                if state(stack) != before:
                    wrong.append((method, template, caller_id(caller), status, "a refused request changed state"))
    assert walked == len(POLICY) * len(CALLERS)
    assert not wrong, "\n".join(map(str, wrong))


def test_the_services_refuse_what_the_matrix_refuses(stack, world):
    """Defence in depth: a request that reaches a service without the gateway is refused as well."""
    _, summits = world
    own_summit = summits["own"][0]
    apps = {rt.spec.name: create_service_app(rt).test_client() for rt in [stack.ledger, *stack.others()]}
    checked, wrong = 0, []
    for operation in sorted(POLICY):
        method, template = operation
        service = service_for(concrete(template, own_summit, None))
        if service not in apps or POLICY[operation].scope == "public":
            continue
        for caller in CALLERS:
            issued = None if caller is None else fresh_token(stack, caller, summits)
            decision = expected(stack, operation, caller, summits, issued.token if issued else None)
            if decision.allowed:
                continue
            headers = {} if issued is None else {"Authorization": f"Bearer {issued.token}"}
            kwargs = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
            response = apps[service].open(concrete(template, own_summit, None), method=method, headers=headers, **kwargs)
            checked += 1
            if response.status_code not in (401, 403, 404):
                wrong.append((method, template, caller_id(caller), response.status_code))
    assert checked > 0
    assert not wrong, "\n".join(map(str, wrong))


def declared_mismatches(document: dict, table: dict, verdicts) -> list[tuple]:
    """Every /v1 operation whose OpenAPI declarations differ from `table`'s rule: the `security`
    requirement (one alternative per role, `[]` when public), the scope and roles the
    x-g1000-access extension states, and, per caller, whether the declarations let it in where
    the enforced decision (`verdicts(operation, rule)`: caller id -> allowed) does or does not."""
    wrong = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in gw_openapi.METHODS or not path.startswith("/v1/"):
                continue
            key = (method.upper(), path)
            rule = table.get(key)
            if rule is None or "security" not in operation:
                wrong.append((*key, "no rule or no security declaration"))
                continue
            requirement = operation["security"]
            if not all(len(alt) == 1 and list(alt.values()) == [[]] for alt in requirement):
                wrong.append((*key, f"not one bearer role per alternative: {requirement}"))
                continue
            roles = frozenset(name for alt in requirement for name in alt)
            access = operation.get(gw_openapi.ACCESS_EXTENSION, {})
            if set(access.get("roles", ())) != roles:
                wrong.append((*key, f"x-g1000-access roles {access.get('roles')} != security {sorted(roles)}"))
                continue
            try:
                declared = Rule(access.get("scope", ""), roles)
            except ValueError as e:
                wrong.append((*key, f"declared rule invalid: {e}"))
                continue
            if declared != rule:
                wrong.append((*key, f"declared {declared} but the matrix has {rule}"))
            for caller, allowed in verdicts(key, rule).items():
                role, where = (None, None) if caller is None else caller
                lets_in = declared.scope == "public" or (
                    role in declared.roles and (declared.scope != SUMMIT_SCOPE or where == "own"))
                if lets_in != allowed:
                    wrong.append((*key, caller_id(caller), f"declared {lets_in}, enforced {allowed}"))
    return wrong


@pytest.fixture
def enforced(stack, world):
    """caller -> allowed for an operation under a rule, from the enforced decision (access.decide)
    with real issued tokens, on the own summit (the one the walk above sends every path to)."""
    _, summits = world
    tokens = {caller: fresh_token(stack, caller, summits).token for caller in CALLERS if caller is not None}

    def verdicts(operation, rule):
        result = {}
        for caller in CALLERS:
            issued = None if caller is None else tokens[caller]
            claims = None if issued is None else \
                TokenVerifier(stack.credentials().signer.public_key).verify(issued, __import__("time").time())
            own_summit, own_town = summits["own"]
            result[caller] = decide(rule, claims, own_summit if "{" in operation[1] else None, own_town).allowed
        return result
    return verdicts


def test_openapi_security_declares_exactly_the_enforced_matrix(world, enforced):
    client, _ = world
    document = client.get("/openapi.json").get_json()
    schemes = document["components"]["securitySchemes"]
    assert set(schemes) == {"organiser", "facilitator", "participant", "auditor"}
    assert all(s["type"] == "http" and s["scheme"] == "bearer" and s["description"] for s in schemes.values())
    assert declared_mismatches(document, POLICY, enforced) == []
    public_ops = [op for item in document["paths"].values() for m, op in item.items()
                  if m in gw_openapi.METHODS and op["security"] == []]
    assert public_ops and len(public_ops) < len(document["paths"])  # some public, not all
    own = [op for path, item in document["paths"].items() if not path.startswith("/v1/")
           for m, op in item.items() if m in gw_openapi.METHODS]
    assert own and all(op["security"] == [] for op in own)  # the gateway's own endpoints need no token


def test_a_matrix_that_differs_from_the_declarations_is_caught(world, enforced):
    """The comparison fails when one rule differs: here the matrix, not the document, is altered."""
    client, _ = world
    document = client.get("/openapi.json").get_json()
    altered = dict(POLICY)
    altered[("GET", "/v1/summits/{summit_id}/tokens")] = public()                 # opened up
    altered[("POST", "/v1/summits")] = token("organiser", "auditor")             # a role more
    altered[("POST", "/v1/summits/{summit_id}/lottery/rounds")] = token("organiser")  # scope widened
    del altered[("GET", "/v1/auth/whoami")]                                     # undeclared
    found = {(m, p) for m, p, *_ in declared_mismatches(document, altered, enforced)}
    assert found == {("GET", "/v1/summits/{summit_id}/tokens"), ("POST", "/v1/summits"),
                     ("POST", "/v1/summits/{summit_id}/lottery/rounds"), ("GET", "/v1/auth/whoami")}
    # and the other way: declarations generated (by the gateway's own generator) from the altered
    # matrix disagree with the enforced one at exactly those operations
    redeclared = copy.deepcopy(document)
    for path, item in redeclared["paths"].items():
        for method, operation in item.items():
            if method in gw_openapi.METHODS and path.startswith("/v1/"):
                del operation["security"], operation[gw_openapi.ACCESS_EXTENSION]
                if (method.upper(), path) in altered:
                    gw_openapi._declare_access(operation, altered[(method.upper(), path)])
    assert {(m, p) for m, p, *_ in declared_mismatches(redeclared, POLICY, enforced)} == found
