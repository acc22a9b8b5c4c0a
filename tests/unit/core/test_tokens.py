"""Bearer tokens (services/core/tokens.py) and the access matrix's decision (gateway/access.py)."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.access import POLICY, PUBLIC, SUMMIT, TOKEN, Policy, Rule, decide, public, summit, token
from services.core.canonical import canonical_bytes
from services.core.signing import Signer
from services.core.tokens import (LEEWAY_SECONDS, BadTokenSignatureError, Claims, ExpiredTokenError,
                                  MalformedTokenError, TokenVerifier, bearer, issue, new_claims)

SIGNER = Signer.from_seed(bytes(range(32)))
OTHER = Signer.from_seed(bytes(32))
NOW = 1_790_000_000
A, B = str(uuid.UUID(int=1)), str(uuid.UUID(int=2))


def claims(role="organiser", summit_id=None, tenant="Teststad", ttl=3600, now=NOW):
    return new_claims(role=role, tenant=tenant, subject="s-1", now=now, ttl_seconds=ttl, summit_id=summit_id)


def verify(tok, now=NOW + 1):
    return TokenVerifier(SIGNER.public_key).verify(tok, now)


def test_round_trip_keeps_every_claim():
    c = claims("facilitator", A)
    assert verify(issue(SIGNER, c)) == c


def test_another_key_does_not_verify():
    with pytest.raises(BadTokenSignatureError):
        verify(issue(OTHER, claims()))


@given(st.data())
@settings(max_examples=200, deadline=None)
def test_any_changed_character_is_refused(data):
    tok = issue(SIGNER, claims("participant", A))
    i = data.draw(st.integers(0, len(tok) - 1))
    replacement = data.draw(st.sampled_from("AZaz09-_.=+/ "))
    changed = tok[:i] + replacement + tok[i + 1:]
    if changed == tok:
        return
    with pytest.raises((MalformedTokenError, BadTokenSignatureError)):
        verify(changed)


def test_time_window():
    tok = issue(SIGNER, claims(ttl=600))
    assert verify(tok, NOW - LEEWAY_SECONDS).role == "organiser"
    assert verify(tok, NOW + 599).role == "organiser"
    with pytest.raises(ExpiredTokenError, match="expired"):
        verify(tok, NOW + 600)
    with pytest.raises(ExpiredTokenError, match="not valid yet"):
        verify(tok, NOW - LEEWAY_SECONDS - 1)


def _forge(obj: dict) -> str:
    body = canonical_bytes(obj)
    b64 = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()  # noqa: E731
    return "g1000." + b64(body) + "." + b64(SIGNER.sign(b"g1000-token/v1\n" + body))


@pytest.mark.parametrize("change", [
    {"role": "admin"}, {"v": 2}, {"summit": None, "role": "participant"}, {"sub": "Jan Jansen"},
    {"exp": NOW - 5}, {"iat": "1"}, {"jti": "not-a-uuid"}, {"tenant": " Teststad"}, {"extra": 1},
])
def test_signed_but_invalid_claims_are_refused(change):
    obj = claims("participant", A).as_json() | change
    with pytest.raises(MalformedTokenError):
        verify(_forge(obj))


def test_claims_must_be_canonical_json():
    obj = claims().as_json()
    body = json.dumps(obj, indent=1).encode()  # same claims, other bytes
    b64 = lambda d: base64.urlsafe_b64encode(d).rstrip(b"=").decode()  # noqa: E731
    tok = "g1000." + b64(body) + "." + b64(SIGNER.sign(b"g1000-token/v1\n" + body))
    with pytest.raises(MalformedTokenError, match="canonical"):
        verify(tok)


@pytest.mark.parametrize("tok", ["", "g1000.", "g1000.a.b.c", "Bearer x", "g1000.!!!.AAAA", "x" * 3000])
def test_malformed_tokens(tok):
    with pytest.raises(MalformedTokenError):
        verify(tok)


def test_bearer_header_parsing():
    assert bearer("Bearer abc") == "abc" and bearer("bearer  abc ") == "abc"
    assert bearer(None) is None and bearer("Basic abc") is None and bearer("Bearer ") is None


def test_summit_roles_are_bound_to_one_summit():
    with pytest.raises(MalformedTokenError):
        claims("participant", None)
    c = claims("facilitator", A)
    assert c.acts_on(A, "Teststad") and not c.acts_on(B, "Teststad") and not c.acts_on(A, "Anderstad")
    org = claims("organiser")
    assert org.acts_on(A, "Teststad") and not org.acts_on(A, "Anderstad") and not org.acts_on(A, None)


# ---- the access matrix's decision ---------------------------------------------------------------

ROLES = ("organiser", "facilitator", "participant", "auditor")


@pytest.mark.parametrize("rule_", [public(), summit("organiser", "facilitator"), token("organiser")])
@pytest.mark.parametrize("role", (None, *ROLES))
@pytest.mark.parametrize("where", ["own", "foreign", "unknown"])
def test_decide_matches_the_rule(rule_, role, where):
    tenant = {"own": "Teststad", "foreign": "Anderstad", "unknown": None}[where]
    c = None if role is None else claims(role, A if role in ("facilitator", "participant") else None)
    d = decide(rule_, c, A, tenant, summit_known=tenant is not None)
    if rule_.scope == PUBLIC:
        assert d.allowed
    elif c is None:
        assert d.status == 401
    elif role not in rule_.roles:
        assert d.status == 403
    elif rule_.scope == SUMMIT and where == "unknown":
        assert d.status == 404
    elif rule_.scope == SUMMIT and where == "foreign":
        assert d.status == 403
    else:
        assert d.allowed


def test_rules_are_well_formed():
    with pytest.raises(ValueError):
        Rule(PUBLIC, frozenset({"organiser"}))
    with pytest.raises(ValueError):
        Rule(TOKEN)
    with pytest.raises(ValueError):
        Rule(SUMMIT, frozenset({"mayor"}))
    for (method, template), rule_ in POLICY.items():
        assert method in ("GET", "POST", "PUT", "PATCH", "DELETE") and template.startswith("/v1/")
        if rule_.scope == SUMMIT:
            assert "{summit_id}" in template or "{log_id}" in template, template


def test_policy_matching_prefers_literal_segments():
    p = Policy()
    m = p.match("POST", f"/v1/summits/{A}/topics")
    assert m.template == "/v1/summits/{summit_id}/topics" and m.summit_id == A
    assert p.match("GET", "/v1/summits").template == "/v1/summits"
    assert p.match("PUT", "/v1/summits").rule is None  # declared path, undeclared method: 405
    assert p.match("GET", "/v1/nothing") is None and p.match("GET", f"/v1/summits/{A}/x/y/z") is None
