"""The ballot attacked as an outsider would, through the gateway (issue 13's refusal list and more):
each refused with problem+json and no state change in the ballot service (events, nullifiers,
pending casts, shares, issuances) — double vote, replayed credential, forged credential, vote
after closing, a cast or receipt with a participant token, oversize sealed blobs, a ballot named
under another summit, a facilitator closing, a participant creating or opening a ballot, a share
before closing, a forged share; and the cast's answer carries nothing that orders casts.
"""

from __future__ import annotations

import base64
import uuid

import pytest

from g1000.ballot_client import BallotClient, cast_body, seal_choice
from g1000_proofs import sealing, shamir
from tests.integration.gateway_support import SUMMIT
from tests.support.ballot_secrecy import http_for, open_ballot

pytestmark = pytest.mark.integration

TABLES = ("events", "ballot_nullifiers", "ballot_pending_casts", "ballot_issuances", "ballot_shares")


def state(stack) -> dict:
    with stack.ballot.db.transaction() as conn:
        out = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}
        out["ballots"] = conn.execute("SELECT ballot_id, state, version, issued FROM ballots ORDER BY 1").fetchall()
    return out


def refused(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == "application/problem+json"
    return response.get_json()


@pytest.fixture
def ballot(stack, tmp_path):
    b = open_ballot(stack, tmp_path, 3)
    credentials = []
    for v in b.voters:
        voter = BallotClient(http_for(b.client, v.address), b.summit_id, b.ballot_id)
        credentials.append((voter, voter.obtain_credential(v.token)))
    b.credentials = credentials
    return b


def sealed_for(b, choice=None) -> bytes:
    return seal_choice(choice or {"approve": ["groen"]}, b.keys.public["public_key"], b.summit_id, b.ballot_id)


def test_double_vote_and_replayed_credential_are_409(stack, ballot):
    b = ballot
    voter, credential = b.credentials[0]
    voter.cast(credential, {"approve": ["groen"]})
    before = state(stack)
    # the same credential again, with the same or another sealed vote (a replay of the cast)
    for sealed in (sealed_for(b), sealed_for(b, {"approve": ["wonen"]})):
        refused(b.client.post(f"{b.base}/votes", json=cast_body(credential, sealed)), 409)
    assert state(stack) == before


def test_forged_credentials_are_422(stack, ballot):
    b = ballot
    _, credential = b.credentials[0]
    good = cast_body(credential, sealed_for(b))
    before = state(stack)
    forged = [
        dict(good, credential=dict(good["credential"], token="00" * 32)),            # another token, same signature
        dict(good, credential=dict(good["credential"], prefix="00" * 32)),
        dict(good, credential=dict(good["credential"],
                                   signature=base64.b64encode(bytes(len(credential.signature))).decode())),
        dict(good, credential=dict(good["credential"], signature=base64.b64encode(b"\x01" * 8).decode())),
        dict(good, credential=dict(good["credential"], signature="not base64!")),
    ]
    for body in forged:
        answer = b.client.post(f"{b.base}/votes", json=body)
        assert answer.status_code in (400, 422), answer.get_data(as_text=True)
        assert answer.content_type == "application/problem+json"
    assert state(stack) == before


def test_oversize_or_undersize_sealed_blobs_are_refused(stack, ballot):
    b = ballot
    _, credential = b.credentials[1]
    before = state(stack)
    for size in (0, 48, sealing.MAX_SEALED + 1, 4 * sealing.MAX_SEALED, 2_000_000):
        body = cast_body(credential, b"\x00" * size)
        answer = b.client.post(f"{b.base}/votes", json=body)
        assert answer.status_code in (400, 413, 422), (size, answer.status_code)
        assert answer.content_type == "application/problem+json"
    assert state(stack) == before
    b.credentials[1][0].cast(credential, {"approve": ["groen"]})  # the credential is still unused


def test_a_cast_or_receipt_with_the_participants_token_is_refused(stack, ballot):
    b = ballot
    voter, credential = b.credentials[2]
    before = state(stack)
    auth = {"Authorization": f"Bearer {b.voters[2].token}"}
    refused(b.client.post(f"{b.base}/votes", json=cast_body(credential, sealed_for(b)), headers=auth), 400)
    assert state(stack) == before
    nullifier, _ = voter.cast(credential, {"approve": ["groen"]})
    refused(b.client.get(f"{b.base}/votes/{nullifier}", headers=auth), 400)


def test_a_ballot_named_under_another_summit_is_404(stack, ballot):
    b = ballot
    other = b.client.post("/v1/summits", json=SUMMIT, headers=b.organiser).get_json()["summit_id"]
    stack.announce(other)
    elsewhere = f"/v1/summits/{other}/ballots/{b.ballot_id}"
    _, credential = b.credentials[0]
    before = state(stack)
    refused(b.client.get(elsewhere), 404)
    refused(b.client.post(f"{elsewhere}/votes", json=cast_body(credential, sealed_for(b))), 404)
    refused(b.client.post(f"{elsewhere}/close", headers=b.organiser), 404)
    stranger = stack.issue("participant", summit_id=other, subject="p-stranger")
    refused(b.client.post(f"{elsewhere}/credentials", json={"blinded_msg": base64.b64encode(b"x" * 384).decode()},
                          headers={"Authorization": f"Bearer {stranger}"}), 404)
    # the other summit's participant on this summit's path: the token names another summit
    refused(b.client.post(f"{b.base}/credentials", json={"blinded_msg": base64.b64encode(b"x" * 384).decode()},
                          headers={"Authorization": f"Bearer {stranger}"}), 403)
    assert state(stack) == before


def test_roles_a_facilitator_cannot_close_and_a_participant_cannot_create_or_open(stack, ballot):
    b = ballot
    facilitator = {"Authorization": f"Bearer {stack.issue('facilitator', summit_id=b.summit_id)}"}
    participant = {"Authorization": f"Bearer {b.voters[0].token}"}
    before = state(stack)
    refused(b.client.post(f"{b.base}/close", headers=facilitator), 403)
    refused(b.client.post(f"{b.base}/close", headers=participant), 403)
    refused(b.client.post(f"{b.base}/close"), 401)
    refused(b.client.post(f"{b.base}/open", headers=participant), 403)
    body = {"title": [{"language": "nl", "text": "x"}], "method": {"kind": "schulze"},
            "options": [{"option_id": o, "texts": [{"language": "nl", "text": o}]} for o in ("a", "b")],
            "opens_at": "2027-03-14T09:00:00.000Z", "closes_at": "2027-03-14T10:00:00.000Z",
            "sealing": b.keys.public}
    for headers in (participant, facilitator):
        refused(b.client.post(f"/v1/summits/{b.summit_id}/ballots", json=body, headers=headers), 403)
    assert state(stack) == before


def test_shares_before_closing_and_forged_shares_change_nothing(stack, ballot):
    b = ballot
    share = b.keys.share_files[0].read_text(encoding="utf-8").strip()
    before = state(stack)
    refused(b.client.post(f"{b.base}/shares", json={"share": share}), 409)
    assert state(stack) == before
    assert b.client.post(f"{b.base}/close", headers=b.organiser).status_code == 200
    closed = state(stack)
    real = shamir.Share.decode(share)
    forged = shamir.Share(real.k, real.x, (real.y + 1) % shamir.PRIME)   # well-formed, not one of share_hashes
    candidates = [forged.encode(), shamir.Share(real.k, 3 if real.x != 3 else 2, real.y).encode(),
                  share.replace("g1000-share-v1", "g1000-share-v2"), "nonsense"]
    for text in candidates:
        answer = b.client.post(f"{b.base}/shares", json={"share": text})
        assert answer.status_code in (400, 409, 422), (text, answer.status_code)
        assert answer.content_type == "application/problem+json"
    assert state(stack) == closed


def test_a_vote_after_closing_is_409(stack, ballot):
    b = ballot
    assert b.client.post(f"{b.base}/close", headers=b.organiser).status_code == 200
    _, credential = b.credentials[0]
    before = state(stack)
    refused(b.client.post(f"{b.base}/votes", json=cast_body(credential, sealed_for(b))), 409)
    assert state(stack) == before


def test_cast_answers_carry_nothing_that_orders_them(stack, ballot):
    b = ballot
    answers = []
    for voter, credential in b.credentials:
        sealed = sealed_for(b)
        answers.append(b.client.post(f"{b.base}/votes", json=cast_body(credential, sealed)))
    for a in answers:
        assert a.status_code == 202 and set(a.get_json()) == {"nullifier", "sealed_sha256", "status"}
        assert a.get_json()["status"] == "pending"
        assert not [h for h in a.headers.keys() if h.lower().startswith(("ratelimit", "x-ratelimit", "etag",
                                                                          "location", "last-modified"))]
    names = [sorted(h for h in a.headers.keys()) for a in answers]
    assert names.count(names[0]) == len(names)
    # the public ballot shows no count of casts while it is open
    assert b.client.get(b.base).get_json().get("cast") is None
    assert uuid.UUID(b.ballot_id)


def adversary_pairs(stack, ballot_id: str) -> dict[str, list[tuple[str, str]]]:
    """What the operator's dump of the ballot database, before the batch is appended, pairs up: the
    issuances in their (public) log order beside the pending casts in the order the dump shows them
    (as stored, and by the rows' transaction ids)."""
    with stack.ballot.db.transaction() as conn:
        issued = [r[0] for r in conn.execute("SELECT pseudonym FROM ballot_issuances WHERE ballot_id = %s"
                                             " ORDER BY seq", (ballot_id,)).fetchall()]
        orders = {
            "pending as stored": "SELECT nullifier FROM ballot_pending_casts WHERE ballot_id = %s",
            "pending by ctid": "SELECT nullifier FROM ballot_pending_casts WHERE ballot_id = %s ORDER BY ctid",
            "pending by xmin": "SELECT nullifier FROM ballot_pending_casts WHERE ballot_id = %s"
                               " ORDER BY xmin::text::bigint, ctid",
            "nullifiers as stored": "SELECT nullifier FROM ballot_nullifiers WHERE ballot_id = %s",
            "nullifiers by xmin": "SELECT nullifier FROM ballot_nullifiers WHERE ballot_id = %s"
                                  " ORDER BY xmin::text::bigint, ctid",
        }
        return {name: list(zip(issued, [r[0] for r in conn.execute(q, (ballot_id,)).fetchall()]))
                for name, q in orders.items()}


def test_the_stored_order_of_pending_casts_does_not_pair_them_with_issuances(stack, tmp_path):
    """The worst case: each voter casts right after obtaining their credential, so the order of
    casts is the order of issuances (public in the log). A dump taken while the batch waits must
    not give that order back: the pairing it suggests is right for at most a few voters (a random
    order gets all eight right with probability 1/8!). Before the fix, the pending casts and the
    nullifiers, written one row per cast, came out in exactly the order of issuance."""
    from tests.support.ballot_secrecy import cast_all

    b = open_ballot(stack, tmp_path, 8)
    cast_all(b)
    truth = {(v.pseudonym, v.nullifier) for v in b.voters}
    with stack.ballot.db.transaction() as conn:
        assert conn.execute("SELECT count(*) FROM ballot_pending_casts").fetchone()[0] == 8
    for name, pairs in adversary_pairs(stack, b.ballot_id).items():
        assert len(pairs) == (8 if name.startswith("pending") else 0), name  # nullifiers enter with their batch
        assert len(truth & set(pairs)) < 8, f"the dump's {name} order pairs every cast with its issuance"


def test_second_credential_and_someone_not_on_the_roll_are_refused(stack, ballot):
    b = ballot
    blinded = {"blinded_msg": base64.b64encode(b"\x01" * 384).decode()}
    before = state(stack)
    again = {"Authorization": f"Bearer {b.voters[0].token}"}
    refused(b.client.post(f"{b.base}/credentials", json=blinded, headers=again), 409)
    # a valid participant token of this summit whose pseudonym never checked in (not on the roll)
    late = {"Authorization": f"Bearer {stack.issue('participant', summit_id=b.summit_id, subject='p-late')}"}
    refused(b.client.post(f"{b.base}/credentials", json=blinded, headers=late), 403)
    assert state(stack) == before


def test_a_receipt_for_an_unknown_nullifier_is_404_and_tells_nothing(stack, ballot):
    b = ballot
    before = state(stack)
    answer = refused(b.client.get(f"{b.base}/votes/{'ab' * 32}"), 404)
    assert "ab" * 32 not in answer.get("detail", "")
    assert state(stack) == before
