"""The voter's client module (g1000/ballot_client.py) against a fake of the service's HTTP answers."""

from __future__ import annotations

import base64
import copy

import pytest

from g1000.ballot_client import (BallotClient, cast_body, check_receipt, finalize_credential,
                                 request_credential)
from g1000.errors import BallotClientError, ReceiptRejected
from cryptography.hazmat.primitives.asymmetric import rsa

from g1000_proofs import ballot, blind_rsa, checkpoint, note_keys, sealing, tlog_proof
from tests.support.ballot_fake import FakeBallotService


@pytest.fixture(scope="module")
def service() -> FakeBallotService:
    return FakeBallotService()


def fresh(service: FakeBallotService) -> FakeBallotService:
    """A service with the module's keys (RSA key generation is the slow part) and an empty log."""
    other = copy.copy(service)
    other.entries, other.receipts, other.issued, other.requests = [], {}, set(), []
    other.tamper, other.hold, other.serve_proof = None, False, False
    return other


def vote(service: FakeBallotService, token: str = "participant-1", choice=None):
    client = BallotClient(service, service.summit_id, service.ballot_id)
    credential = client.obtain_credential(token)
    nullifier, sealed = client.cast(credential, choice if choice is not None else {"approve": ["a"]})
    return client, credential, nullifier, sealed


def test_the_service_signs_only_a_blinded_message_and_the_credential_verifies(service):
    svc = fresh(service)
    client, credential, nullifier, sealed = vote(svc)
    key = ballot.credential_key(svc.ballot_json()["credential_key"])
    assert ballot.check_credential(key, credential) == nullifier == ballot.nullifier(credential)
    (_, _, body, token), = [r for r in svc.requests if r[1].endswith("/credentials")]
    assert token == "participant-1"
    sent = base64.b64decode(body["blinded_msg"])
    assert len(sent) == 256 and credential.token not in sent and credential.prefix not in sent
    assert sent != credential.signature


def test_the_cast_carries_no_token_and_the_sealed_vote_opens_with_the_ballots_key(service):
    svc = fresh(service)
    _, credential, nullifier, sealed = vote(svc, choice={"approve": ["b", "c"]})
    (_, _, body, token), = [r for r in svc.requests if r[0] == "POST" and r[1].endswith("/votes")]
    assert token is None
    assert set(body) == {"credential", "sealed"}
    assert body == cast_body(credential, sealed)
    private = svc.sealing_private.private_bytes_raw().hex()
    assert sealing.open_vote(base64.b64decode(body["sealed"]), private, svc.summit_id, svc.ballot_id) \
        == {"approve": ["b", "c"]}


@pytest.mark.parametrize("serve_proof", [False, True])
def test_a_receipt_is_none_while_pending_and_checks_once_appended(service, serve_proof):
    svc = fresh(service)
    svc.serve_proof = serve_proof
    vote(svc, "someone-else")  # our vote is not the first entry
    client, credential, nullifier, sealed = vote(svc)
    svc.hold = True
    assert client.receipt(credential, sealed, svc.log_key) is None
    svc.hold = False
    receipt = client.receipt(credential, sealed, svc.log_key)
    assert (receipt.index, receipt.tree_size, receipt.nullifier) == (1, 2, nullifier)


def _tampered(svc, credential, sealed, change):
    svc.tamper = change
    svc.serve_proof = True
    with pytest.raises(ReceiptRejected) as caught:
        BallotClient(svc, svc.summit_id, svc.ballot_id).receipt(credential, sealed, svc.log_key)
    return str(caught.value)


def _other_sealed(r):
    r["event"]["payload"]["sealed"] = base64.b64encode(b"x" * 100).decode()
    return r


def _other_nullifier(r):
    r["event"]["payload"]["nullifier"] = "0" * 64
    return r


def _wrong_leaf(r):
    r["leaf_hash"] = base64.b64encode(bytes(32)).decode()
    return r


def _another_index(r):
    r["index"] = r["index"] + 1
    return r


def _proof_of_another_entry(r):
    lines = r["proof"].split("\n")
    lines[1] = "index 0"
    r["proof"] = "\n".join(lines)
    return r


def _other_ballot(r):
    r["event"]["payload"]["ballot_id"] = "00000000-0000-4000-8000-000000000000"
    return r


def _checkpoint_of_another_key(r):
    proof = tlog_proof.parse_proof(r["proof"])
    cp = checkpoint.parse_checkpoint(proof.checkpoint_note.split("\n\n")[0] + "\n")
    signer, _ = note_keys.generate_signer_key(cp.origin)
    r["proof"] = tlog_proof.format_proof(proof.index, list(proof.hashes), checkpoint.sign_checkpoint(cp, signer))
    return r


@pytest.mark.parametrize("change, says", [
    (_other_sealed, "sealed bytes"), (_other_nullifier, "another credential"), (_wrong_leaf, "leaf hash"),
    (_another_index, "index"), (_proof_of_another_entry, "proof"), (_other_ballot, "another summit or ballot"),
    (_checkpoint_of_another_key, "proof"),
])
def test_a_receipt_that_does_not_prove_our_vote_is_rejected(service, change, says):
    svc = fresh(service)
    vote(svc, "first")
    _, credential, _, sealed = vote(svc)
    vote(svc, "third")
    assert says in _tampered(svc, credential, sealed, change)


def test_a_receipt_assembled_from_the_log_checks_the_services_event_too(service):
    svc = fresh(service)
    _, credential, _, sealed = vote(svc)

    def other_sealed(r):
        r["event"] = dict(r["event"], payload=dict(r["event"]["payload"], sealed=base64.b64encode(b"y" * 64).decode()))
        return r

    svc.tamper = other_sealed
    with pytest.raises(ReceiptRejected, match="sealed bytes"):
        BallotClient(svc, svc.summit_id, svc.ballot_id).receipt(credential, sealed, svc.log_key)


def test_a_receipt_checks_against_the_log_key_only(service):
    svc = fresh(service)
    svc.serve_proof = True
    _, credential, _, sealed = vote(svc)
    _, receipt = svc("GET", f"{svc.base}/votes/{ballot.nullifier(credential)}", None, None)
    check_receipt(receipt, svc.summit_id, svc.ballot_id, credential, sealed, svc.log_key)
    _, other_key = note_keys.generate_signer_key(svc.origin)
    with pytest.raises(ReceiptRejected):
        check_receipt(receipt, svc.summit_id, svc.ballot_id, credential, sealed, other_key)


def test_a_blind_signature_from_another_key_is_refused(service):
    svc = fresh(service)
    key = svc.ballot_json()["credential_key"]
    request = request_credential(key)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    n = stranger.public_key().public_numbers().n
    below = (int.from_bytes(request.blinded_msg, "big") % n).to_bytes(256, "big")
    forged = base64.b64encode(blind_rsa.blind_sign(stranger, below)).decode()
    with pytest.raises(BallotClientError, match="valid credential"):
        finalize_credential(key, request, forged)


def test_a_cast_answer_naming_another_nullifier_is_refused(service):
    svc = fresh(service)
    client = BallotClient(svc, svc.summit_id, svc.ballot_id)
    credential = client.obtain_credential("p")

    def lying(method, path, body, token):
        status, answer = svc(method, path, body, token)
        if method == "POST" and path.endswith("/votes"):
            answer = dict(answer, nullifier="f" * 64)
        return status, answer

    with pytest.raises(BallotClientError, match="another nullifier"):
        BallotClient(lying, svc.summit_id, svc.ballot_id).cast(credential, {"approve": ["a"]})


def test_a_refused_request_names_status_and_detail(service):
    svc = fresh(service)
    client = BallotClient(svc, svc.summit_id, svc.ballot_id)
    client.obtain_credential("p")
    with pytest.raises(BallotClientError, match="409: a credential was already issued"):
        client.obtain_credential("p")


def test_a_saved_vote_is_private_and_checks_its_receipt_later(service, tmp_path):
    from g1000.ballot_client import load_vote, save_vote

    svc = fresh(service)
    _, credential, _, sealed = vote(svc)
    path = tmp_path / "vote.json"
    save_vote(path, svc.summit_id, svc.ballot_id, credential, sealed)
    assert path.stat().st_mode & 0o777 == 0o600
    summit_id, ballot_id, kept, kept_sealed = load_vote(path)
    assert (summit_id, ballot_id, kept, kept_sealed) == (svc.summit_id, svc.ballot_id, credential, sealed)
    assert BallotClient(svc, summit_id, ballot_id).receipt(kept, kept_sealed, svc.log_key).index == 0
    with pytest.raises(FileExistsError):
        save_vote(path, svc.summit_id, svc.ballot_id, credential, sealed)
    path.write_text("{}")
    with pytest.raises(BallotClientError, match="not a vote saved"):
        load_vote(path)
