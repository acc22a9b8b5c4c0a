"""An in-memory stand-in for the ballot service's HTTP answers, for the client module's unit tests.

It answers with what the contract (docs/ballot.md) says the service answers, computed with the
same g1000_proofs rules the service uses (blind_sign, check_credential, merkle, checkpoint), so
only the network is faked. A cast is appended to a one-summit log at once (the real service
batches). The receipt is the service's `{nullifier, sealed_sha256, status, index, event_id,
event}` and the log's entries, inclusion proofs and checkpoint are served as the ledger serves
them; with `serve_proof` the receipt carries its C2SP tlog-proof itself, as the contract intends.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

from cryptography.hazmat.primitives.asymmetric import rsa, x25519

from g1000_proofs import ballot, blind_rsa, checkpoint, jcs, merkle, note_keys, tlog_proof
from g1000_proofs.errors import ProofError


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class FakeBallotService:
    """The answers of GET ballot, POST credentials/votes and GET receipt for one open ballot."""

    def __init__(self, summit_id: str | None = None, ballot_id: str | None = None, key_bits: int = 2048):
        self.summit_id = summit_id or str(uuid.uuid4())
        self.ballot_id = ballot_id or str(uuid.uuid4())
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=key_bits)
        self.sealing_private = x25519.X25519PrivateKey.generate()
        self.origin = f"example.org/g1000/{self.summit_id}"
        self.log_signer, self.log_key = note_keys.generate_signer_key(self.origin)
        self.entries: list[bytes] = []
        self.receipts: dict[str, int] = {}
        self.issued: set[str] = set()
        self.requests: list[tuple[str, str, dict | None, str | None]] = []
        self.tamper = None  # a function(receipt) -> receipt, for the tests of the receipt check
        self.hold = False  # True: casts wait (pending), as before their batch is appended
        self.serve_proof = False  # True: the receipt carries its log index, leaf hash and tlog-proof

    @property
    def base(self) -> str:
        return f"/v1/summits/{self.summit_id}/ballots/{self.ballot_id}"

    def ballot_json(self) -> dict:
        public = self.sealing_private.public_key().public_bytes_raw().hex()
        return {"ballot_id": self.ballot_id, "state": "open",
                "credential_key": ballot.encode_credential_key(self.key.public_key()),
                "sealing": {"public_key": public, "k": 2, "n": 3, "share_hashes": []}}

    def __call__(self, method: str, path: str, body: dict | None, token: str | None):
        self.requests.append((method, path, body, token))
        if method == "GET" and path == self.base:
            return 200, self.ballot_json()
        if method == "POST" and path == self.base + "/credentials":
            return self._credential(body, token)
        if method == "POST" and path == self.base + "/votes":
            return self._cast(body, token)
        if method == "GET" and path.startswith(self.base + "/votes/"):
            return self._receipt(path.rsplit("/", 1)[1])
        if method == "GET" and path.startswith(f"/v1/logs/{self.summit_id}/"):
            return self._log(path.split(f"/v1/logs/{self.summit_id}/", 1)[1])
        return 404, {"detail": f"no such resource: {path}"}

    def _credential(self, body, token):
        if token is None:
            return 401, {"detail": "this needs a token"}
        if token in self.issued:
            return 409, {"detail": "a credential was already issued"}
        self.issued.add(token)
        blind_sig = blind_rsa.blind_sign(self.key, base64.b64decode(body["blinded_msg"]))
        return 201, {"blind_sig": b64(blind_sig)}

    def _cast(self, body, token):
        if token is not None:
            return 400, {"detail": "a vote is cast without a token"}
        c = body["credential"]
        credential = ballot.Credential(bytes.fromhex(c["token"]), bytes.fromhex(c["prefix"]),
                                       base64.b64decode(c["signature"]))
        try:
            nullifier = ballot.check_credential(self.key.public_key(), credential)
        except ProofError as e:
            return 422, {"detail": str(e)}
        if nullifier in self.receipts:
            return 409, {"detail": "this credential has voted"}
        sealed = base64.b64decode(body["sealed"])
        event = {"v": 1, "event_id": str(uuid.uuid4()), "type": "ballot.vote.cast", "summit_id": self.summit_id,
                 "stream": "ballot", "seq": len(self.entries) + 1, "occurred_at": "2027-03-14T15:00:00.000Z",
                 "payload": {"v": 1, "ballot_id": self.ballot_id, "batch": str(uuid.uuid4()),
                             "nullifier": nullifier, "credential": c, "sealed": body["sealed"]},
                 "key_id": "k", "sig": b64(b"\0" * 64)}
        self.receipts[nullifier] = len(self.entries)
        self.entries.append(jcs.dumps(event))
        return 202, {"nullifier": nullifier, "sealed_sha256": hashlib.sha256(sealed).hexdigest(),
                     "status": "pending"}

    def _leaves(self) -> list[bytes]:
        return [merkle.leaf_hash(e) for e in self.entries]

    def _proof(self, index: int, size: int) -> list[bytes]:
        leaves = self._leaves()[:size]

        def node(level: int, i: int) -> bytes:
            return merkle.root_from_leaves(leaves[i << level:(i + 1) << level])

        return merkle.inclusion_proof(index, size, node)

    def _note(self) -> str:
        leaves = self._leaves()
        cp = checkpoint.Checkpoint(self.origin, len(leaves), merkle.root_from_leaves(leaves))
        return checkpoint.sign_checkpoint(cp, self.log_signer)

    def _receipt(self, nullifier: str):
        if nullifier not in self.receipts:
            return 404, {"detail": "no such vote"}
        if self.hold:
            return 200, {"nullifier": nullifier, "status": "pending", "index": None, "event_id": None,
                         "event": None}
        index = self.receipts[nullifier]
        event = jcs_loads(self.entries[index])
        receipt = {"nullifier": nullifier, "status": "appended", "index": event["seq"],
                   "event_id": event["event_id"], "event": event}
        if self.serve_proof:
            receipt = {"status": "appended", "index": index, "leaf_hash": b64(self._leaves()[index]), "event": event,
                       "proof": tlog_proof.format_proof(index, self._proof(index, len(self.entries)), self._note())}
        return 200, (self.tamper(receipt) if self.tamper else receipt)

    def _log(self, rest: str):
        """The ledger's public reads: checkpoint (text), entries and inclusion proofs (JSON)."""
        from urllib.parse import parse_qs, urlsplit

        parts = urlsplit(rest)
        query = {k: int(v[0]) for k, v in parse_qs(parts.query).items()}
        if parts.path == "checkpoint":
            return (200, self._note()) if self.entries else (404, {"detail": "no checkpoint yet"})
        if parts.path == "entries":
            leaves = self._leaves()
            return 200, {"entries": [{"index": i, "event": jcs_loads(self.entries[i]), "leaf_hash": b64(leaves[i])}
                                     for i in range(query["start"], min(query["end"], len(leaves)))]}
        if parts.path == "proofs/inclusion":
            hashes = self._proof(query["index"], query["tree_size"])
            return 200, {"index": query["index"], "tree_size": query["tree_size"], "hashes": [b64(h) for h in hashes]}
        return 404, {"detail": f"no such resource: {rest}"}


def jcs_loads(data: bytes) -> dict:
    import json

    return json.loads(data)
