"""Check-in and token issuance attacked (issue 10, M3 / Build 5, L4): codes for members who
dropped out after the code was made, a dropped-out member's live token, a second live
participant token by racing a refresh against a new check-in, and a token issued by an
organiser whose cascade revocation landed between the gateway's check and the issue.

Real ledger, agenda and lottery services behind a real gateway (gateway_support.py).
"""

from __future__ import annotations

import threading

import pytest

from tests.support.gateway_calls import bearer, codes, new_summit

pytestmark = pytest.mark.integration


def drop_out(stack, client, summit: str, dropped: str, pool: str = "employers") -> None:
    """The organiser records a drop-out through the gateway (no reserve left: an empty seat)."""
    base = f"/v1/summits/{summit}/lottery/pools/{pool}"
    (dist,) = client.get(f"{base}/distributions").get_json()["distributions"]
    answer = client.post(f"{base}/replacements", headers=stack.auth(),
                         json={"distribution_id": dist["distribution_id"], "dropped": dropped,
                               "accept_vacancy": True})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    assert dropped not in client.get(f"{base}/panel").get_json()["members"]


def live_tokens(stack, summit: str, subject: str) -> int:
    ((count,),) = stack.gateway_rows("SELECT count(*) FROM issued_tokens WHERE summit_id = %s AND subject = %s"
                                     " AND role = 'participant' AND revoked_at IS NULL", summit, subject)
    return count


def test_a_code_made_before_a_drop_out_no_longer_checks_in(stack):
    """The code was made while the member was seated; after the drop-out the log no longer seats
    them, so the code must not give a participant token (and stays unused)."""
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    alice, bob = stack.seat(summit, 2)
    code_alice, code_bob = codes(client, stack.token, summit, [alice, bob])
    drop_out(stack, client, summit, alice)
    refused = client.post("/v1/auth/check-in", json={"code": code_alice})
    assert refused.status_code == 409 and refused.content_type == "application/problem+json"
    assert "not seated" in refused.get_json()["detail"]
    assert live_tokens(stack, summit, alice) == 0
    assert stack.gateway_rows("SELECT used_at FROM check_in_codes WHERE participant = %s", alice) == [(None,)]
    # the member still seated checks in as before
    assert client.post("/v1/auth/check-in", json={"code": code_bob}).status_code == 201
    # and a fresh code for the dropped member is refused as before
    again = client.post(f"/v1/summits/{summit}/check-in-codes", json={"participants": [alice]},
                        headers=stack.auth())
    assert again.status_code == 422


def test_a_dropped_out_members_token_stops_acting(stack):
    """A participant token issued while seated: the drop-out revokes it (and only theirs)."""
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    alice, bob = stack.seat(summit, 2)
    code_alice, code_bob = codes(client, stack.token, summit, [alice, bob])
    token = client.post("/v1/auth/check-in", json={"code": code_alice}).get_json()["token"]
    other = client.post("/v1/auth/check-in", json={"code": code_bob}).get_json()["token"]
    assert client.get("/v1/auth/whoami", headers=bearer(token)).status_code == 200
    drop_out(stack, client, summit, alice)
    assert client.get("/v1/auth/whoami", headers=bearer(token)).status_code == 401
    assert client.get("/v1/auth/whoami", headers=bearer(other)).status_code == 200
    assert stack.gateway_rows("SELECT revoked_by FROM issued_tokens WHERE summit_id = %s AND subject = %s",
                              summit, alice) == [("dropped-out",)]


def test_a_revocation_missed_at_a_drop_out_is_made_at_the_next_one(stack):
    """Alice dropped out at the lottery directly (as if the gateway failed to revoke then); the
    next drop-out recorded through the gateway revokes her token too."""
    from services.core.runtime import create_service_app
    from tests.helpers import vouching_client

    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    alice, bob = stack.seat(summit, 2)
    tokens = [client.post("/v1/auth/check-in", json={"code": c}).get_json()["token"]
              for c in codes(client, stack.token, summit, [alice, bob])]
    lottery = vouching_client(create_service_app(stack.lottery), stack.env)
    base = f"/v1/summits/{summit}/lottery/pools/employers"
    (dist,) = lottery.get(f"{base}/distributions").get_json()["distributions"]
    assert lottery.post(f"{base}/replacements", headers=stack.auth(), json={
        "distribution_id": dist["distribution_id"], "dropped": alice, "accept_vacancy": True}).status_code == 201
    assert client.get("/v1/auth/whoami", headers=bearer(tokens[0])).status_code == 200  # missed
    drop_out(stack, client, summit, bob)
    assert [client.get("/v1/auth/whoami", headers=bearer(t)).status_code for t in tokens] == [401, 401]


def _waiting_on_a_lock(stack) -> bool:
    rows = stack.gateway_rows("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                              " AND wait_event_type = 'Lock'")
    return rows[0][0] > 0


def test_a_refresh_racing_a_new_check_in_leaves_one_live_token(stack):
    """The participant refreshes token T1 while checking in again with a new code (a second
    phone). The refresh's transaction has revoked T1 and inserted T2 but not committed when the
    check-in revokes "every live token" of the person: it waits for T1's row, then skips it, and
    never sees T2. Both T2 and the check-in's T3 would be live: two ballots for one person."""
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    (alice,) = stack.seat(summit, 1)
    (first,) = codes(client, stack.token, summit, [alice])
    credentials = stack.credentials()
    t1 = credentials.redeem(first)
    (second,) = codes(client, stack.token, summit, [alice])

    inserted, release = threading.Event(), threading.Event()
    original = credentials._insert

    def paused_insert(conn, claims, *args, **kwargs):
        original(conn, claims, *args, **kwargs)
        if threading.current_thread().name == "refresh":
            inserted.set()
            assert release.wait(60), "the test never released the refresh"

    credentials._insert = paused_insert
    outcome: dict = {}

    def run(name, action):
        try:
            outcome[name] = action()
        except Exception as e:  # noqa: BLE001 - reported by the assertions below
            outcome[name] = e

    refresh = threading.Thread(target=run, name="refresh", args=("refresh", lambda: credentials.refresh(t1.claims)))
    check_in = threading.Thread(target=run, name="check-in", args=("check-in", lambda: credentials.redeem(second)))
    refresh.start()
    assert inserted.wait(60)
    check_in.start()
    for _ in range(600):  # until the check-in waits for the refresh's lock (or has finished)
        if _waiting_on_a_lock(stack) or not check_in.is_alive():
            break
        threading.Event().wait(0.05)
    release.set()
    refresh.join(60)
    check_in.join(60)
    assert not isinstance(outcome.get("refresh"), Exception), outcome
    assert not isinstance(outcome.get("check-in"), Exception), outcome
    assert live_tokens(stack, summit, alice) == 1
    t3 = outcome["check-in"]
    assert credentials.is_live(t3.claims.token_id) is not None


def test_a_token_revoked_with_cascade_cannot_issue_one_more_afterwards(stack):
    """Time of check, time of use: the gateway found the organiser's token live, then the operator
    revoked it with cascade, then the view issued the facilitator token it was asked for. The
    new token must not outlive the cascade that was meant to end everything the organiser issued."""
    from gateway.credentials import UnknownTokenError

    credentials = stack.credentials()
    organiser = credentials.issue(role="organiser", tenant="Teststad", subject="org-race", issued_by="admin")
    assert credentials.is_live(organiser.claims.token_id) is not None      # the gateway's check
    credentials.revoke(organiser.claims.token_id, "admin", cascade=True)    # meanwhile, the operator
    with pytest.raises(UnknownTokenError):                                   # then the view
        credentials.issue(role="facilitator", tenant="Teststad", subject="fac-race",
                          summit_id="6f1c1d9e-9a64-4c55-8b7e-2f4f8c2b0a13", issued_by=organiser.claims.token_id)
    assert stack.gateway_rows("SELECT count(*) FROM issued_tokens WHERE issued_by = %s",
                              organiser.claims.token_id) == [(0,)]


def test_a_check_in_that_asked_before_the_drop_out_gets_no_live_token(stack):
    """The check-in asked the lottery while the member was still seated; the drop-out and its
    revocation land before the check-in's transaction: the code has ended, no token is made."""
    from gateway.credentials import UnknownCodeError

    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    alice, bob = stack.seat(summit, 2)
    (code,) = codes(client, stack.token, summit, [alice])
    credentials = stack.credentials()

    def seated_then_dropped(summit_id: str) -> set[str]:
        seated = {alice, bob}                 # what the lottery answered
        drop_out(stack, client, summit, alice)  # ... and then, at once, the drop-out
        return seated

    with pytest.raises(UnknownCodeError):
        credentials.redeem(code, seated=seated_then_dropped)
    assert live_tokens(stack, summit, alice) == 0
