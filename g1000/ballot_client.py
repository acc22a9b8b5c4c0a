"""The voter's side of the ballot (docs/ballot.md): credential, sealed vote, cast, receipt.

Why this module exists: the demo, the tests, the bench and any Python app vote the same way, and
docs/ballot.md "For app developers" describes these steps byte for byte for apps in other
languages. Every step is a pure function over the g1000_proofs rules (no rule is rewritten here);
only :class:`BallotClient` talks to the gateway, through an injected ``http`` callable, so the
unit tests replace nothing but the network.

1. Credential (RFC 9474, RSABSSA-SHA384-PSS-Randomized): a random 32-byte token, a random 32-byte
   prefix (§4.1 Prepare: prepared = prefix || token), blinded (§4.2) under the ballot's credential
   key from its opening event; the participant sends only the blinded message, with their token,
   and finalizes (§4.4) the blind signature into a signature that verifies under that key
   (``g1000_proofs.ballot.check_credential``).
2. Seal (RFC 9180 HPKE, ``g1000_proofs.sealing.seal_vote``): the choice to the ballot's sealing key,
   bound to the summit and ballot.
3. Cast: ``{credential: {token, prefix, signature}, sealed}`` with no token and no identity at all.
4. Receipt: the ``ballot.vote.cast`` event carries our nullifier, credential and sealed bytes; its
   leaf hash is the RFC 9162 leaf of the event's RFC 8785 bytes; and the C2SP tlog-proof
   (``g1000_proofs.tlog_proof``) includes that leaf in a checkpoint signed by the log's key. While
   the ballot service answers only the event (not yet its log index and proof), the client finds
   the entry in the public log and asks the ledger for the inclusion proof against the latest
   checkpoint, then checks the receipt it assembled exactly as it would check a served one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Callable

from g1000_proofs import ballot, blind_rsa, checkpoint, jcs, merkle, sealing, tlog_proof
from g1000_proofs.ballot import Credential
from g1000_proofs.errors import ProofError

from .errors import BallotClientError, ReceiptRejected

__all__ = ["BallotClient", "CastReceipt", "Credential", "CredentialRequest", "Http", "cast_body",
           "check_cast_answer", "check_receipt", "finalize_credential", "request_credential", "seal_choice"]

# (method, path, JSON body or None, bearer token or None) -> (status, the body: parsed JSON, else text)
Http = Callable[[str, str, "dict | None", "str | None"], "tuple[int, Any]"]
VARIANT = blind_rsa.PSS_RANDOMIZED
PAGE = 1000  # the ledger's largest page of entries


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, what: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (TypeError, ValueError, binascii.Error):
        raise BallotClientError(f"{what} is not standard base64") from None


@dataclass(frozen=True)
class CredentialRequest:
    """What the client keeps between asking for a credential and finalizing it (all secret)."""

    token: bytes
    prefix: bytes
    inv: bytes
    blinded_msg: bytes

    def body(self) -> dict:
        """The body of ``POST .../ballots/{b}/credentials``."""
        return {"blinded_msg": b64(self.blinded_msg)}


def request_credential(credential_key: str) -> CredentialRequest:
    """A fresh token and prefix, prepared and blinded under the ballot's key (base64 DER SPKI)."""
    key = _key(credential_key)
    token = secrets.token_bytes(ballot.TOKEN_LEN)
    prefix = secrets.token_bytes(blind_rsa.PREFIX_LEN)
    blinded = blind_rsa.blind(key, blind_rsa.prepare(token, VARIANT, prefix), VARIANT)
    return CredentialRequest(token, prefix, blinded.inv, blinded.blinded_msg)


def finalize_credential(credential_key: str, request: CredentialRequest, blind_sig: str) -> Credential:
    """The credential from the service's blind signature, only once it verifies under the key."""
    key = _key(credential_key)
    try:
        signature = blind_rsa.finalize(key, request.prefix + request.token, unb64(blind_sig, "blind_sig"),
                                       request.inv, VARIANT)
        credential = Credential(request.token, request.prefix, signature)
        ballot.check_credential(key, credential)
    except ProofError as e:
        raise BallotClientError(f"the blind signature does not give a valid credential: {e}") from None
    return credential


def seal_choice(choice: Any, sealing_public_key: str, summit_id: str, ballot_id: str) -> bytes:
    """The choice sealed to the ballot's key (``g1000_proofs.sealing.seal_vote``)."""
    try:
        return sealing.seal_vote(choice, sealing_public_key, summit_id, ballot_id)
    except ProofError as e:
        raise BallotClientError(f"the choice cannot be sealed: {e}") from None


def credential_json(credential: Credential) -> dict:
    return {"token": credential.token.hex(), "prefix": credential.prefix.hex(),
            "signature": b64(credential.signature)}


def cast_body(credential: Credential, sealed: bytes) -> dict:
    """The body of ``POST .../ballots/{b}/votes`` (sent with no token)."""
    return {"credential": credential_json(credential), "sealed": b64(sealed)}


def check_cast_answer(answer: Any, credential: Credential, sealed: bytes) -> str:
    """The 202 answer must name our nullifier and the SHA-256 of our sealed bytes; the nullifier."""
    expected = ballot.nullifier(credential)
    if not isinstance(answer, dict) or answer.get("nullifier") != expected:
        raise BallotClientError("the service's answer to the cast names another nullifier")
    if answer.get("sealed_sha256") != hashlib.sha256(sealed).hexdigest():
        raise BallotClientError("the service's answer to the cast names other sealed bytes")
    return expected


@dataclass(frozen=True)
class CastReceipt:
    """A checked receipt: the entry's index, the checkpoint's tree size and the event's time."""

    index: int
    tree_size: int
    occurred_at: str
    nullifier: str


def _cast_event_matches(event: Any, summit_id: str, ballot_id: str, credential: Credential,
                        sealed: bytes) -> None:
    if not isinstance(event, dict) or event.get("type") != "ballot.vote.cast":
        raise ReceiptRejected("the receipt's event is not a ballot.vote.cast")
    payload = event.get("payload") or {}
    if event.get("summit_id") != summit_id or event.get("stream") != "ballot" \
            or payload.get("ballot_id") != ballot_id:
        raise ReceiptRejected("the receipt's event belongs to another summit or ballot")
    if payload.get("nullifier") != ballot.nullifier(credential) \
            or payload.get("credential") != credential_json(credential):
        raise ReceiptRejected("the receipt's event carries another credential")
    if payload.get("sealed") != b64(sealed):
        raise ReceiptRejected("the receipt's event carries other sealed bytes than we cast")


def check_receipt(receipt: Any, summit_id: str, ballot_id: str, credential: Credential, sealed: bytes,
                  log_key: str) -> CastReceipt:
    """Check an appended receipt ``{index, leaf_hash, event, proof}`` against the log's verifier key
    (``GET /v1/logs/{summit}/key``); raises ReceiptRejected."""
    if not isinstance(receipt, dict):
        raise ReceiptRejected("a receipt is a JSON object")
    event = receipt.get("event")
    _cast_event_matches(event, summit_id, ballot_id, credential, sealed)
    try:
        entry = jcs.dumps(event)
    except ProofError:
        raise ReceiptRejected("the receipt's event has no canonical form") from None
    try:
        leaf = unb64(receipt.get("leaf_hash"), "leaf_hash")
    except BallotClientError as e:
        raise ReceiptRejected(str(e)) from None
    if leaf != merkle.leaf_hash(entry):
        raise ReceiptRejected("the receipt's leaf hash is not the RFC 9162 leaf of its event")
    try:
        proof, cp = tlog_proof.verify_proof(receipt.get("proof"), entry, log_key)
    except ProofError as e:
        raise ReceiptRejected(f"the receipt's proof does not hold: {e}") from None
    if proof.index != receipt.get("index"):
        raise ReceiptRejected("the receipt's index and its proof's index differ")
    return CastReceipt(proof.index, cp.size, event["occurred_at"], ballot.nullifier(credential))


def _key(credential_key: str):
    try:
        return ballot.credential_key(credential_key)
    except ProofError as e:
        raise BallotClientError(f"the ballot's credential key is unusable: {e}") from None


class BallotClient:
    """One voter's client for one ballot, over an injected ``http`` (see :data:`Http`)."""

    def __init__(self, http: Http, summit_id: str, ballot_id: str):
        self.http = http
        self.summit_id = summit_id
        self.ballot_id = ballot_id
        self.base = f"/v1/summits/{summit_id}/ballots/{ballot_id}"
        self.opened: dict | None = None  # the ballot as read before the credential request

    def _call(self, method: str, path: str, expect: int, body: dict | None = None,
              token: str | None = None) -> Any:
        status, answer = self.http(method, self.base + path, body, token)
        if status != expect:
            detail = answer.get("detail") if isinstance(answer, dict) else None
            raise BallotClientError(f"{method} {self.base}{path} answered {status}: {detail or answer}")
        return answer

    def ballot(self) -> dict:
        return self._call("GET", "", 200)

    def obtain_credential(self, participant_token: str) -> Credential:
        """Ask for the one credential this participant gets (the only step with their token). The
        ballot read here is kept, so that the cast later needs no request but the cast itself."""
        self.opened = self.ballot()
        key = self.opened["credential_key"]
        request = request_credential(key)
        answer = self._call("POST", "/credentials", 201, request.body(), participant_token)
        return finalize_credential(key, request, answer.get("blind_sig") if isinstance(answer, dict) else None)

    def cast(self, credential: Credential, choice: Any) -> tuple[str, bytes]:
        """Seal and cast anonymously (no token); (nullifier, sealed bytes) to fetch the receipt with."""
        public_key = (self.opened or self.ballot())["sealing"]["public_key"]
        sealed = seal_choice(choice, public_key, self.summit_id, self.ballot_id)
        answer = self._call("POST", "/votes", 202, cast_body(credential, sealed))
        return check_cast_answer(answer, credential, sealed), sealed

    def receipt(self, credential: Credential, sealed: bytes, log_key: str) -> CastReceipt | None:
        """The checked receipt once the vote's batch is in the log (and a checkpoint covers it);
        None while it is pending."""
        answer = self._call("GET", f"/votes/{ballot.nullifier(credential)}", 200)
        if not isinstance(answer, dict) or answer.get("status") == "pending":
            return None
        if "proof" not in answer:
            _cast_event_matches(answer.get("event"), self.summit_id, self.ballot_id, credential, sealed)
            answer = self.log_receipt(answer["event"]["event_id"], log_key)
            if answer is None:
                return None
        return check_receipt(answer, self.summit_id, self.ballot_id, credential, sealed, log_key)

    def log_receipt(self, event_id: str, log_key: str) -> dict | None:
        """``{index, leaf_hash, event, proof}`` of an event from the public log: its entry, found
        from the newest down, with the ledger's inclusion proof against the latest checkpoint
        (None while no checkpoint covers it yet). Only public reads, by index, name the event."""
        log = f"/v1/logs/{self.summit_id}"
        status, note = self.http("GET", f"{log}/checkpoint", None, None)
        if status == 404:
            return None
        if status != 200 or not isinstance(note, str):
            raise BallotClientError(f"GET {log}/checkpoint answered {status}")
        try:
            size = checkpoint.open_checkpoint(note, log_key).size
        except ProofError as e:
            raise ReceiptRejected(f"the log's checkpoint does not verify: {e}") from None
        for end in range(size, 0, -PAGE):
            status, page = self.http("GET", f"{log}/entries?start={max(0, end - PAGE)}&end={end}", None, None)
            if status != 200:
                raise BallotClientError(f"GET {log}/entries answered {status}")
            for entry in reversed(page["entries"]):
                if (entry.get("event") or {}).get("event_id") == event_id:
                    return self._with_proof(entry, size, note)
        return None

    def _with_proof(self, entry: dict, size: int, note: str) -> dict:
        log = f"/v1/logs/{self.summit_id}"
        status, proof = self.http("GET", f"{log}/proofs/inclusion?index={entry['index']}&tree_size={size}", None, None)
        if status != 200:
            raise BallotClientError(f"GET {log}/proofs/inclusion answered {status}")
        hashes = [unb64(h, "a proof hash") for h in proof["hashes"]]
        return {"index": entry["index"], "leaf_hash": entry["leaf_hash"], "event": entry["event"],
                "proof": tlog_proof.format_proof(entry["index"], hashes, note)}


def save_vote(path, summit_id: str, ballot_id: str, credential: Credential, sealed: bytes) -> None:
    """What a voter keeps to check the receipt later (secret: the credential votes once), mode 0600."""
    import json
    import os

    text = json.dumps({"summit_id": summit_id, "ballot_id": ballot_id, "credential": credential_json(credential),
                       "sealed": b64(sealed)})
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text + "\n")


def load_vote(path) -> tuple[str, str, Credential, bytes]:
    """(summit, ballot, credential, sealed) from a file save_vote wrote."""
    import json
    from pathlib import Path

    try:
        kept = json.loads(Path(path).read_text(encoding="utf-8"))
        c = kept["credential"]
        credential = Credential(bytes.fromhex(c["token"]), bytes.fromhex(c["prefix"]), unb64(c["signature"], "signature"))
        return kept["summit_id"], kept["ballot_id"], credential, unb64(kept["sealed"], "sealed")
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BallotClientError(f"{path} is not a vote saved by `g1000 ballot vote --save`: {e}") from None
