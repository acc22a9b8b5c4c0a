"""Tokens through the gateway: organisers, staff tokens, check-in codes, expiry, revocation, refresh.

Real ledger and agenda services behind a real gateway on its own database (gateway_support.py).
"""

from __future__ import annotations

import time
from datetime import datetime, timezone

from tests.integration.gateway_support import SUMMIT, Clock
from tests.support.gateway_calls import bearer, codes, new_summit, staff

OTHER_TOWN = SUMMIT | {"municipality": "Anderstad"}


def test_an_organiser_acts_for_its_own_municipality_only(stack):
    client = stack.gateway().test_client()
    new_summit(client, stack.token)
    refused = client.post("/v1/summits", json=OTHER_TOWN, headers=stack.auth())
    assert refused.status_code == 403 and "Anderstad" in refused.get_json()["detail"]
    foreign = new_summit(client, stack.issue(tenant="Anderstad"), OTHER_TOWN)
    denied = client.post(f"/v1/summits/{foreign}/tokens", json={"role": "facilitator"}, headers=stack.auth())
    assert denied.status_code == 403 and denied.content_type == "application/problem+json"
    assert client.get(f"/v1/summits/{foreign}/tokens", headers=stack.auth()).status_code == 403
    assert stack.gateway_rows("SELECT count(*) FROM issued_tokens WHERE summit_id = %s", foreign) == [(0,)]


def test_the_day_of_a_participant(stack):
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    facilitator = staff(client, stack.token, summit, label="tafel 12")
    assert facilitator["role"] == "facilitator" and facilitator["summit_id"] == summit
    first, second = codes(client, facilitator["token"], summit, stack.seat(summit, 2))
    assert first != second and len(first) == 19 and first.count("-") == 3
    # the code is typed on a phone: lower case, no hyphens
    checked_in = client.post("/v1/auth/check-in", json={"code": first.lower().replace("-", " ")})
    assert checked_in.status_code == 201
    participant = checked_in.get_json()
    assert participant["role"] == "participant" and participant["summit_id"] == summit
    again = client.post("/v1/auth/check-in", json={"code": first})
    assert again.status_code == 409 and "already been used" in again.get_json()["detail"]
    unknown = client.post("/v1/auth/check-in", json={"code": "0000-0000-0000-0000"})
    assert unknown.status_code == 404 and unknown.content_type == "application/problem+json"
    assert client.post("/v1/auth/check-in", json={"code": "hello"}).status_code == 404
    assert client.post("/v1/auth/check-in", json={}).status_code == 422
    # the participant acts on its summit, as itself
    who = client.get("/v1/auth/whoami", headers=bearer(participant["token"])).get_json()
    assert who["role"] == "participant" and who["subject"] == participant["subject"]
    topic = client.post(f"/v1/summits/{summit}/topics", json={"title": "Bankjes in het park", "description": "Meer."},
                        headers=bearer(participant["token"]))
    assert topic.status_code == 201, topic.get_data(as_text=True)
    # but not as staff
    assert client.post(f"/v1/summits/{summit}/check-in-codes", json={"participants": [participant["subject"]]},
                       headers=bearer(participant["token"])).status_code == 403
    assert client.get(f"/v1/summits/{summit}/tokens", headers=bearer(participant["token"])).status_code == 403
    # the organiser sees every token of the summit, never the tokens themselves
    listed = client.get(f"/v1/summits/{summit}/tokens", headers=stack.auth()).get_json()["tokens"]
    assert {t["role"] for t in listed} == {"facilitator", "participant"}
    assert all("token" not in t for t in listed) and participant["token"] not in str(listed)
    assert second not in str(stack.gateway_rows("SELECT * FROM check_in_codes"))  # only hashes are kept


def test_a_token_for_one_summit_does_not_open_another(stack):
    client = stack.gateway().test_client()
    a, b = new_summit(client, stack.token), new_summit(client, stack.token)
    stack.announce(a)
    stack.announce(b)
    facilitator = staff(client, stack.token, a)["token"]
    assert client.post(f"/v1/summits/{b}/check-in-codes", json={"participants": ["emp-1"]},
                       headers=bearer(facilitator)).status_code == 403
    topic = {"title": "Elders", "description": "Niet hier."}
    assert client.post(f"/v1/summits/{b}/topics", json=topic, headers=bearer(facilitator)).status_code == 403
    assert client.post(f"/v1/summits/{a}/topics", json=topic, headers=bearer(facilitator)).status_code == 201
    assert stack.agenda_count(b) == 0 and stack.agenda_count(a) == 1


def test_revoked_tokens_are_refused_at_once(stack):
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    facilitator = staff(client, stack.token, summit)
    headers = bearer(facilitator["token"])
    assert client.get("/v1/auth/whoami", headers=headers).status_code == 200
    revoked = client.delete(f"/v1/auth/tokens/{facilitator['token_id']}", headers=stack.auth())
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    after = client.get("/v1/auth/whoami", headers=headers)
    assert after.status_code == 401 and "revoked" in after.get_json()["detail"]
    assert after.headers["WWW-Authenticate"].startswith("Bearer")
    assert client.post(f"/v1/summits/{summit}/check-in-codes", json={"participants": ["emp-1"]},
                       headers=headers).status_code == 401
    # revoking twice changes nothing; an unknown id is 404
    assert client.delete(f"/v1/auth/tokens/{facilitator['token_id']}", headers=stack.auth()).status_code == 200
    assert client.delete("/v1/auth/tokens/00000000-0000-4000-8000-000000000000", headers=stack.auth()).status_code == 404


def test_who_may_revoke_what(stack):
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    one, two = staff(client, stack.token, summit), staff(client, stack.token, summit)
    stack.announce(summit)
    seated = stack.seat(summit, 1)
    participant = client.post("/v1/auth/check-in", json={"code": codes(client, one["token"], summit, seated)[0]}).get_json()
    # a facilitator may not revoke another facilitator, but may revoke a participant of its summit
    assert client.delete(f"/v1/auth/tokens/{two['token_id']}", headers=bearer(one["token"])).status_code == 403
    assert client.delete(f"/v1/auth/tokens/{participant['token_id']}", headers=bearer(one["token"])).status_code == 200
    # an organiser of another municipality does not even see the token
    stranger = stack.issue(tenant="Anderstad")
    assert client.delete(f"/v1/auth/tokens/{two['token_id']}", headers=bearer(stranger)).status_code == 404
    # anyone may log out
    assert client.delete(f"/v1/auth/tokens/{two['token_id']}", headers=bearer(two["token"])).status_code == 200
    assert client.get("/v1/auth/whoami", headers=bearer(two["token"])).status_code == 401


def test_expired_tokens_are_refused(stack):
    clock = Clock(time.time())
    client = stack.gateway(clock).test_client()
    token = stack.issue(clock=clock, ttl_seconds=600)
    assert client.get("/v1/auth/whoami", headers=bearer(token)).status_code == 200
    clock.now += 600
    expired = client.get("/v1/auth/whoami", headers=bearer(token))
    assert expired.status_code == 401 and "expired" in expired.get_json()["detail"]
    # an expired token cannot refresh itself either
    assert client.post("/v1/auth/refresh", headers=bearer(token)).status_code == 401
    # public reads do not need it and are not spoiled by it
    assert client.get("/v1/summits", headers=bearer(token)).status_code == 200


def test_the_services_check_expiry_themselves(stack):
    """A token that expired is refused by a service even when a request reaches it directly."""
    from services.core.runtime import create_service_app

    past = time.time() - 7200
    token = stack.issue(clock=Clock(past), ttl_seconds=600)
    ledger = create_service_app(stack.ledger).test_client()
    refused = ledger.post("/v1/summits", json=SUMMIT, headers=bearer(token))
    assert refused.status_code == 401 and "expired" in refused.get_json()["detail"]
    assert ledger.post("/v1/summits", json=SUMMIT, headers=bearer("g1000.forged.token")).status_code == 401


def test_refresh_gives_a_new_token_and_retires_the_old(stack):
    client = stack.gateway().test_client()
    old = stack.issue(label="desk")
    fresh = client.post("/v1/auth/refresh", headers=bearer(old))
    assert fresh.status_code == 201
    body = fresh.get_json()
    assert body["role"] == "organiser" and body["tenant"] == "Teststad" and body["token"] != old
    assert client.get("/v1/auth/whoami", headers=bearer(old)).status_code == 401
    assert client.get("/v1/auth/whoami", headers=bearer(body["token"])).status_code == 200


def test_check_in_codes_are_for_seated_participants_only(stack):
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    path = f"/v1/summits/{summit}/check-in-codes"
    for body in ({}, {"count": 2}, {"count": 1, "participants": ["a"]}, {"participants": []},
                 {"participants": ["a", "a"]}, {"participants": ["Jan Jansen"]}):
        response = client.post(path, json=body, headers=stack.auth())
        assert response.status_code == 422 and response.content_type == "application/problem+json", body
    # nobody is seated before a panel is drawn
    assert client.post(path, json={"participants": ["emp-00000001"]}, headers=stack.auth()).status_code == 422
    seated = stack.seat(summit, 2)
    named = client.post(path, json={"participants": seated}, headers=stack.auth()).get_json()
    assert [c["participant"] for c in named["codes"]] == seated
    token = client.post("/v1/auth/check-in", json={"code": named["codes"][1]["code"]}).get_json()
    assert token["subject"] == seated[1]
    assert stack.gateway_rows("SELECT count(*) FROM check_in_codes WHERE summit_id = %s", summit) == [(2,)]


def test_an_invented_participant_or_a_clone_gets_no_code(stack):
    """Issue 10, M3: no codes for invented pseudonyms, and never two live ones for one person."""
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    facilitator = staff(client, stack.token, summit)
    path, headers = f"/v1/summits/{summit}/check-in-codes", bearer(facilitator["token"])
    alice, bob = stack.seat(summit, 2)
    invented = client.post(path, json={"participants": [alice, "emp-invented"]}, headers=headers)
    assert invented.status_code == 422 and invented.content_type == "application/problem+json"
    assert invented.get_json()["errors"]["participants"] == ["not seated: emp-invented"]
    (first,) = codes(client, facilitator["token"], summit, [alice])
    clone = client.post(path, json={"participants": [alice]}, headers=headers)
    assert clone.status_code == 409 and alice in clone.get_json()["detail"]
    assert client.post(path, json={"participants": [bob, alice]}, headers=headers).status_code == 409
    assert stack.gateway_rows("SELECT count(*) FROM check_in_codes WHERE summit_id = %s", summit) == [(1,)]
    # once the code is used, a new one may be made (a lost phone); checking in with it revokes the
    # earlier token, so a person never holds two live participant tokens
    earlier = client.post("/v1/auth/check-in", json={"code": first}).get_json()
    (second,) = codes(client, facilitator["token"], summit, [alice])
    later = client.post("/v1/auth/check-in", json={"code": second}).get_json()
    assert later["subject"] == earlier["subject"] == alice
    assert client.get("/v1/auth/whoami", headers=bearer(earlier["token"])).status_code == 401
    assert client.get("/v1/auth/whoami", headers=bearer(later["token"])).status_code == 200
    live = stack.gateway_rows("SELECT count(*) FROM issued_tokens WHERE summit_id = %s AND subject = %s"
                              " AND revoked_at IS NULL", summit, alice)
    assert live == [(1,)]


def test_staff_token_requests_are_validated(stack):
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    path = f"/v1/summits/{summit}/tokens"
    for body in ({"role": "organiser"}, {"role": "participant"}, {"role": "facilitator", "ttl_seconds": 10},
                 {"role": "facilitator", "subject": "Jan Jansen"}, {"role": "facilitator", "extra": 1}):
        response = client.post(path, json=body, headers=stack.auth())
        assert response.status_code == 422, body
    assert stack.gateway_rows("SELECT count(*) FROM issued_tokens WHERE summit_id = %s", summit) == [(0,)]
    auditor = staff(client, stack.token, summit, role="auditor", ttl_seconds=3600)
    assert auditor["role"] == "auditor"


def test_text_that_cannot_be_stored_or_signed_is_422_not_500(stack):
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    for body in ({"title": "a\u0000b"}, {"title": "\ud800"}, {"title": "ok", "description": "x\u0000"}):
        response = client.post(f"/v1/summits/{summit}/topics", json=body, headers=stack.auth())
        assert response.status_code == 422 and response.content_type == "application/problem+json", body
    assert client.post("/v1/summits", json=SUMMIT | {"theme": "a\u0000b"}, headers=stack.auth()).status_code == 422
    label = client.post(f"/v1/summits/{summit}/tokens", json={"role": "facilitator", "label": "\ud800"},
                        headers=stack.auth())
    assert label.status_code == 422
    assert stack.agenda_count(summit) == 0


def test_malformed_json_is_400_with_an_errors_object(stack):
    client = stack.gateway().test_client()
    response = client.post("/v1/summits", data="{", content_type="application/json", headers=stack.auth())
    assert response.status_code == 400 and response.content_type == "application/problem+json"
    assert isinstance(response.get_json().get("errors", {}), dict)


def test_an_oversized_body_is_413_problem_json(stack):
    from services.core.bodylimits import body_limit

    client = stack.gateway().test_client()
    response = client.post("/v1/summits", data=b"x" * (body_limit("POST", "/v1/summits") + 1), content_type="application/json",
                           headers=stack.auth())
    assert response.status_code == 413 and response.content_type == "application/problem+json"
    assert stack.gate.posts == 0


def test_a_refresh_chain_ends_at_its_absolute_lifetime(stack):
    """Issue 10, L4: refreshing cannot renew a token forever."""
    clock = Clock(time.time())
    start = int(clock.now)
    client = stack.gateway(clock=clock, G1000_TOKEN_CHAIN_ORGANISER="7200").test_client()
    token = stack.issue(clock=clock)
    for _ in range(2):
        fresh = client.post("/v1/auth/refresh", headers=bearer(token))
        assert fresh.status_code == 201, fresh.get_data(as_text=True)
        token = fresh.get_json()["token"]
        who = client.get("/v1/auth/whoami", headers=bearer(token)).get_json()
        assert who["expires_at"] == datetime.fromtimestamp(start + 7200, timezone.utc).isoformat()
        clock.now += 3000
    clock.now = start + 7200 - 30
    ended = client.post("/v1/auth/refresh", headers=bearer(token))
    assert ended.status_code == 401 and "chain ended" in ended.get_json()["detail"]
    assert ended.content_type == "application/problem+json"
    # the refused refresh revoked nothing; the token lives out its (capped) lifetime
    assert client.get("/v1/auth/whoami", headers=bearer(token)).status_code == 200
    clock.now = start + 7200
    assert client.get("/v1/auth/whoami", headers=bearer(token)).status_code == 401


def test_refresh_does_not_reset_the_rate_limit_budget(stack):
    clock = Clock(time.time())
    client = stack.gateway(clock=clock, G1000_RATE_LIMIT_PER_MINUTE="3").test_client()
    token = stack.issue(clock=clock)
    assert client.get("/v1/auth/whoami", headers=bearer(token)).status_code == 200
    fresh = client.post("/v1/auth/refresh", headers=bearer(token))
    assert fresh.status_code == 201
    renewed = bearer(fresh.get_json()["token"])
    assert client.get("/v1/auth/whoami", headers=renewed).status_code == 200   # the 3rd of 3
    limited = client.get("/v1/auth/whoami", headers=renewed)
    assert limited.status_code == 429 and "Retry-After" in limited.headers
    again = client.post("/v1/auth/refresh", headers=renewed)
    assert again.status_code == 429


def test_revoking_an_organiser_can_revoke_what_it_issued(stack):
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)

    def issued_by_a_refreshed_organiser():
        organiser = stack.issue(subject="org-cascade")
        first = staff(client, organiser, summit)
        auditor = staff(client, organiser, summit, role="auditor")
        renewed = client.post("/v1/auth/refresh", headers=bearer(organiser)).get_json()
        second = staff(client, renewed["token"], summit)
        grandchild = client.post("/v1/auth/refresh", headers=bearer(second["token"])).get_json()
        return renewed, [first["token"], auditor["token"], grandchild["token"]]

    def alive(token: str) -> bool:
        return client.get("/v1/auth/whoami", headers=bearer(token)).status_code == 200

    # without cascade (the default) the tokens it issued stay
    kept, children = issued_by_a_refreshed_organiser()
    assert client.delete(f"/v1/auth/tokens/{kept['token_id']}", headers=stack.auth()).status_code == 200
    assert not alive(kept["token"]) and all(alive(t) for t in children)
    # with cascade=true they go with it: issued before or after its refresh, and what those issued
    gone, children = issued_by_a_refreshed_organiser()
    path = f"/v1/auth/tokens/{gone['token_id']}"
    assert client.delete(path + "?cascade=yes", headers=stack.auth()).status_code == 422
    revoked = client.delete(path + "?cascade=true", headers=stack.auth())
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    assert not alive(gone["token"]) and not any(alive(t) for t in children)
    assert alive(stack.token)
