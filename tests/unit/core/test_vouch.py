"""The gateway's vouch attacked as a pure function (services/core/vouch.py; issue 10, M1).

A captured or crafted vouch must fit exactly the request the service received: method (no HEAD
for GET, no GET for POST), target (trailing slash, query order, a query added), body (empty,
one byte more), token, and time (the edges of the freshness window). A token can never pass
as a vouch, nor a vouch as a token: the two are signed under different domains with one key.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from services.core import vouch as v
from services.core.signing import Signer
from services.core.tokens import TokenError, TokenVerifier, issue, new_claims

SIGNER = Signer.from_seed(bytes(range(32)))
NOW = 1_800_000_000.0
TOPICS = "/v1/summits/1f0c/topics"
BODY = b'{"title":"Groen"}'


def signed(*, method="POST", target=TOPICS, body=BODY, token_id="tok-1", now=NOW) -> str:
    return v.sign_vouch(SIGNER, method=method, target=target, body=body, token_id=token_id, now=now)


def check(header, *, method="POST", target=TOPICS, body=BODY, token_id="tok-1", now=NOW):
    return v.verify_vouch(SIGNER.public_key, header, method=method, target=target, body=body,
                          token_id=token_id, now=now)


def crafted(claims: dict) -> str:
    """A vouch with these claims, signed with the gateway's key (what only a bug could make)."""
    data = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    return v.PREFIX + b64(data) + "." + b64(SIGNER.sign(v.DOMAIN + data))


def refused(header, fragment: str, **request) -> None:
    with pytest.raises(v.VouchError) as caught:
        check(header, **request)
    assert fragment in str(caught.value)


def test_the_request_it_was_made_for_passes():
    got = check(signed())
    assert (got.method, got.target, got.token_id) == ("POST", TOPICS, "tok-1")
    assert got.body_sha256 == hashlib.sha256(BODY).hexdigest()


@pytest.mark.parametrize("method, used_as", [("GET", "POST"), ("GET", "HEAD"), ("HEAD", "GET"),
                                             ("POST", "PUT"), ("DELETE", "POST")])
def test_a_vouch_for_one_method_is_refused_for_another(method, used_as):
    refused(signed(method=method), "another request", method=used_as)


def test_method_case_does_not_matter_on_either_side():
    assert check(signed(method="post"), method="POST").method == "POST"
    assert check(signed(method="POST"), method="post").method == "POST"


@pytest.mark.parametrize("target, used_for", [
    (TOPICS, TOPICS + "/"),                             # trailing slash
    (TOPICS + "/", TOPICS),
    (TOPICS + "?a=1&b=2", TOPICS + "?b=2&a=1"),         # query order
    (TOPICS, TOPICS + "?a=1"),                          # a query added
    (TOPICS + "?a=1", TOPICS),                          # ... or dropped
    (TOPICS, TOPICS.upper()),                           # case
    (TOPICS, TOPICS.replace("/topics", "/%74opics")),   # an encoding of the same name
    ("/v1/summits/1f0c/topics", "/v1/summits/1f0c/lottery/respondents"),
])
def test_a_vouch_for_one_target_is_refused_for_another(target, used_for):
    refused(signed(target=target), "another request", target=used_for)


def test_target_of_keeps_the_query_string_as_received():
    assert v.target_of("/p", b"") == "/p"
    assert v.target_of("/p", b"b=2&a=1") == "/p?b=2&a=1"
    assert v.target_of("/p", "a=%2F") == "/p?a=%2F"


@pytest.mark.parametrize("body, used_with", [(b"", b"{}"), (BODY, BODY + b" "), (BODY, b""),
                                             (b"", b"\x00")])
def test_a_vouch_for_one_body_is_refused_for_another(body, used_with):
    refused(signed(body=body), "another request", body=used_with)


def test_an_empty_body_and_no_body_are_the_same_request():
    assert check(signed(body=b""), body=None).body_sha256 == hashlib.sha256(b"").hexdigest()
    assert check(signed(body=None), body=b"").body_sha256 == hashlib.sha256(b"").hexdigest()


@pytest.mark.parametrize("token_id, used_with", [("tok-1", "tok-2"), (None, "tok-1"), ("tok-1", None)])
def test_a_vouch_for_one_token_is_refused_for_another(token_id, used_with):
    refused(signed(token_id=token_id), "another token", token_id=used_with)


def test_a_public_view_accepts_the_vouch_of_any_token_but_still_binds_the_request():
    assert check(signed(token_id="tok-1"), token_id=v.ANY_TOKEN).token_id == "tok-1"
    refused(signed(token_id=None, method="GET"), "another request", token_id=v.ANY_TOKEN)


@pytest.mark.parametrize("skew", [-v.FRESH_SECONDS, v.FRESH_SECONDS, 0.999])
def test_a_vouch_is_fresh_up_to_the_window_edge(skew):
    assert check(signed(now=NOW), now=NOW + skew)


@pytest.mark.parametrize("skew", [-v.FRESH_SECONDS - 1, v.FRESH_SECONDS + 1, 10 ** 9])
def test_a_vouch_past_the_window_edge_is_stale(skew):
    refused(signed(now=NOW), "not fresh", now=NOW + skew)


def _claims(**changes) -> dict:
    base = {"m": "POST", "p": TOPICS, "b": hashlib.sha256(BODY).hexdigest(), "jti": "tok-1",
            "t": int(NOW), "n": "ab" * 16}
    return {k: val for k, val in {**base, **changes}.items() if val is not ...}


@pytest.mark.parametrize("changes", [
    {"t": True}, {"t": float(NOW)}, {"t": str(int(NOW))}, {"n": "AB" * 16}, {"n": "ab" * 15},
    {"n": ...}, {"b": hashlib.sha256(BODY).hexdigest().upper()}, {"x": 1},
])
def test_signed_but_malformed_claims_are_refused(changes):
    refused(crafted(_claims(**changes)), "malformed")


def test_the_crafted_claims_of_the_right_shape_pass():
    assert check(crafted(_claims())).nonce == "ab" * 16


@pytest.mark.parametrize("mangle", [
    lambda h: h + "=",                       # padding
    lambda h: h.replace("v1.", "v2.", 1),
    lambda h: h + ".x",
    lambda h: h[:-2],
    lambda h: "v1." + "A" * (v.MAX_CHARS),
    lambda h: "",
])
def test_mangled_headers_are_refused(mangle):
    with pytest.raises(v.VouchError):
        check(mangle(signed()))


def test_a_token_never_passes_as_a_vouch_nor_a_vouch_as_a_token():
    claims = new_claims(role="organiser", tenant="Teststad", subject="org-1", now=int(NOW),
                        ttl_seconds=3600)
    token = issue(SIGNER, claims)
    # the same key, the token's body re-wrapped as a vouch: the signature is over another domain
    refused(v.PREFIX + token.split(".", 1)[1], "does not verify")
    as_token = "g1000." + signed().split(".", 1)[1]
    with pytest.raises(TokenError):
        TokenVerifier(SIGNER.public_key).verify(as_token, NOW)


def test_a_vouch_signed_by_another_key_is_refused():
    other = Signer.from_seed(bytes(32))
    header = v.sign_vouch(other, method="POST", target=TOPICS, body=BODY, token_id="tok-1", now=NOW)
    refused(header, "does not verify")


def test_every_vouch_has_its_own_nonce():
    nonces = {check(signed()).nonce for _ in range(50)}
    assert len(nonces) == 50
