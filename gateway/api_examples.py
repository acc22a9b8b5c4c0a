"""Request and response examples of the main flows, for the assembled OpenAPI document (issue 12,
Build item 3): what an integrator copies first. The order of the flows is the organiser's day
(docs/running-a-summit.md): create the summit, import the register, open the seed round, commit and
reveal, draw the invitations, issue staff tokens, make check-in codes, check in, nominate topics
(docs/agenda.md: the log holds only each text's sha256 and length), close nominations, withhold a text;
then the ballot (docs/ballot.md): create it, ask for a credential, cast, hand in a trustee's share.

Every value here is made up and pseudonymous (opaque 32-hex ids, no names); a test validates each
example against the schema of the operation it is attached to (OpenAPI 3.1 is JSON Schema 2020-12),
so an example cannot drift from what the services accept and answer.
"""

from __future__ import annotations

import base64
import hashlib

SUMMIT_ID = "3f2b8c1e-5d4a-4e7b-9c10-2a6f8d9e0b47"
ROUND_ID = "8a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
JOB_ID = "0c9b8a7d-6e5f-4d3c-8b2a-1f0e9d8c7b6a"
REGISTER_ID = "5e4d3c2b-1a0f-4e9d-8c7b-6a5f4e3d2c1b"
DRAW_ID = "7b6a5f4e-3d2c-4b1a-8f0e-9d8c7b6a5f4e"
TOKEN_ID = "2d1c0b9a-8f7e-4d6c-9b5a-4f3e2d1c0b9a"
PSEUDONYM = "9f86d081884c7d659a2feaa0c55ad015"
HOUSEHOLD = "a3f5c2e8b1d94f60e7a2c5b8d1f4e7a0"
FEATURES = {"age_band": ["16-29", "30-59", "60+"], "neighbourhood": ["centrum", "noord"]}
# SHA-256 of the UTF-8 bytes of VALUE, as the commit-reveal rule requires (docs/lottery.md)
VALUE = "c0ffee0ddba11d1ce5eed0fa11ca7e5c0ffee0ddba11d1ce5eed0fa11ca7e5ab"
COMMITMENT = "a62e48e32dfe4c3f84cee2e7fb0feb6c751ae4a9dbbf268baa0fade93800505d"
TOKEN = "g1000.eyJ2IjoxLCJqdGkiOiIuLi4ifQ.c2lnbmF0dXJl"
TOPIC_ID = "6c5b4a3f-2e1d-4c0b-9a8f-7e6d5c4b3a2f"
# g1000_proofs.texts: SHA-256 and UTF-8 length of the NFC text
TITLE, TITLE_SHA = "Veilig fietsen naar school", "257488354efd51d1aed8ea25fb94b6280a7e21ed0174e31db4e4510b0c69324d"
DESCRIPTION = "Meer vrijliggende fietspaden rond de scholen."
DESCRIPTION_SHA = "38f73fb41189ed5e42829b6282adc4a6fbf4a74880fce14e0fd9d9e0d9814e53"

BALLOT_ID = "6c5b4a39-2817-4f06-9e5d-4c3b2a190807"
SEALING_KEY = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
SHARE_HASHES = ["1f3870be274f6c49b3e31a0c6728957f7d6fa3e5c3b5f9a2e0d1c4b7a6958473",
                "2c624232cdd221771294dfbb310aca000a0df6ac8b66b696d90ef06fdefb64a3",
                "3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d"]
# a 2048-bit blinded message, blind signature and signature, and a sealed choice: bytes made up here
_SEALING = {"public_key": SEALING_KEY, "k": 2, "n": 3, "share_hashes": SHARE_HASHES}
_TITLE = "Welke voorstellen neemt de gemeenteraad over?"
_TITLE_SHA256 = hashlib.sha256(_TITLE.encode()).hexdigest()  # the texts are NFC already
_OPTIONS = [(o, t, hashlib.sha256(t.encode()).hexdigest()) for o, t in (
    ("fietspaden", "Vrije fietspaden"), ("groen", "Meer bomen in de wijk"), ("wonen", "Woningen voor starters"))]
_RSA_BYTES = base64.b64encode(bytes(range(256))).decode()
_SEALED = base64.b64encode(bytes(range(48)) + bytes(256)).decode()

_ROUND = {
    "round_id": ROUND_ID, "purpose": "invitation", "parties": ["municipality", "notary"],
    "commit_deadline": "2027-03-01T12:00:00Z", "reveal_deadline": "2027-03-01T14:00:00Z",
    "draw": {"n": 10000, "stratify_by": "neighbourhood"}, "opened_seq": 4, "state": "committing",
    "commitments": [], "contributions": [], "not_revealed": ["municipality", "notary"],
    "first_contribution_seq": None, "finalized_seq": None, "seed": None, "seed_contributions": None,
}

_TOPIC = {
    "topic_id": TOPIC_ID, "summit_id": SUMMIT_ID, "payload_v": 2, "language": "nl", "title": TITLE,
    "description": DESCRIPTION, "seq": 3, "nominated_at": "2027-03-14T10:15:00+00:00",
    "state": "open", "merged_into": None, "merged_from": [], "split_from": None, "split_into": [],
    "texts": [{"field": "description", "language": "nl", "sha256": DESCRIPTION_SHA, "length": 45,
               "text": DESCRIPTION, "withheld": None},
              {"field": "title", "language": "nl", "sha256": TITLE_SHA, "length": 26, "text": TITLE,
               "withheld": None}],
}

_TOKEN = {"token": TOKEN, "token_id": TOKEN_ID, "role": "facilitator", "tenant": "Teststad",
          "summit_id": SUMMIT_ID, "subject": "table-12", "expires_at": "2027-03-14T20:00:00Z"}

# (METHOD, path template) -> {"request": {name: (summary, value)}, "responses": {status: {name: ...}}}
EXAMPLES: dict[tuple[str, str], dict] = {
    ("POST", "/v1/summits"): {
        "request": {"summit": ("A summit with two published register features", {
            "theme": "Hoe maken we de binnenstad autoluw?", "municipality": "Teststad",
            "date": "2027-03-14", "seats": {"citizens": 120, "employers": 20, "government": 10},
            "register": {"features": FEATURES}})},
        "responses": {"201": {"summit": ("The summit, whose charter is the genesis of its log", {
            "summit_id": SUMMIT_ID, "theme": "Hoe maken we de binnenstad autoluw?",
            "municipality": "Teststad", "date": "2027-03-14",
            "seats": {"citizens": 120, "employers": 20, "government": 10},
            "register": {"features": FEATURES}, "created_at": "2027-01-10T09:00:00Z"})}},
    },
    ("POST", "/v1/summits/{summit_id}/lottery/register"): {
        "request": {"register": ("A pseudonymised extract (`g1000 register prepare` writes it)", {
            "csv": "pseudonym,household,age_band,neighbourhood\n"
                   f"{PSEUDONYM},{HOUSEHOLD},30-59,centrum\n"
                   "1b4f0e9866a3c2d7e5f8a1b0c9d8e7f6,5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f,60+,noord\n"})},
        "responses": {"202": {"queued": ("The import job, to poll at its location", {
            "job_id": JOB_ID, "kind": "register", "state": "queued", "attempts": 0,
            "location": f"/v1/summits/{SUMMIT_ID}/lottery/jobs/{JOB_ID}",
            "created_at": "2027-01-20T10:00:00Z", "started_at": None, "finished_at": None,
            "register_id": None, "pool": None, "panel_size": None, "distribution_id": None,
            "error": None})}},
    },
    ("POST", "/v1/summits/{summit_id}/lottery/rounds"): {
        "request": {"invitation": ("An invitation round: the draw's n and stratify_by fixed up front", {
            "purpose": "invitation", "parties": ["municipality", "notary"],
            "commit_deadline": "2027-03-01T12:00:00Z", "reveal_deadline": "2027-03-01T14:00:00Z",
            "draw": {"n": 10000, "stratify_by": "neighbourhood"}})},
        "responses": {"201": {"opened": ("The round, waiting for the parties' commitments", _ROUND)}},
    },
    ("POST", "/v1/summits/{summit_id}/lottery/rounds/{round_id}/commitments"): {
        "request": {"notary": ("The notary commits to the value of the dice: SHA-256 of its UTF-8 bytes",
                               {"party": "notary", "commitment": COMMITMENT})},
        "responses": {"201": {"committed": ("The round with the commitment logged", _ROUND | {
            "commitments": [{"party": "notary", "commitment": COMMITMENT, "seq": 5,
                             "occurred_at": "2027-03-01T11:00:00Z"}]})}},
    },
    ("POST", "/v1/summits/{summit_id}/lottery/rounds/{round_id}/reveals"): {
        "request": {"notary": ("The notary reveals the committed value, exactly",
                               {"party": "notary", "value": VALUE})},
        "responses": {"201": {"revealed": ("The round with the reveal logged", _ROUND | {
            "state": "revealing", "not_revealed": ["municipality"],
            "contributions": [{"party": "notary", "kind": "reveal", "value": VALUE, "source": None,
                               "seq": 7, "occurred_at": "2027-03-01T12:30:00Z"}]})}},
    },
    ("POST", "/v1/summits/{summit_id}/lottery/invitations"): {
        "request": {"draw": ("Draw with the finalised round (its declared n and stratify_by)",
                             {"round_id": ROUND_ID})},
        "responses": {"201": {"drawn": ("The invitees, with each letter's one-time code (shown only here)", {
            "draw_id": DRAW_ID, "round_id": ROUND_ID, "register_id": REGISTER_ID, "n": 10000,
            "stratify_by": "neighbourhood", "seq": 12, "drawn_at": "2027-03-01T15:00:00Z",
            "invitees": [PSEUDONYM], "responded": 0,
            "codes": [{"pseudonym": PSEUDONYM, "code": "7K2M-Q9XD-4HTV-C1RB"}]})}},
    },
    ("POST", "/v1/summits/{summit_id}/tokens"): {
        "request": {"facilitator": ("A facilitator token for one table",
                                    {"role": "facilitator", "label": "table 12", "subject": "table-12"})},
        "responses": {"201": {"issued": ("The token; send it as `Authorization: Bearer <token>`", _TOKEN)}},
    },
    ("POST", "/v1/summits/{summit_id}/check-in-codes"): {
        "request": {"seated": ("Codes for seated panel members", {"participants": [PSEUDONYM]})},
        "responses": {"201": {"codes": ("One code per participant, shown once", {
            "summit_id": SUMMIT_ID, "expires_at": "2027-03-14T20:00:00Z",
            "codes": [{"participant": PSEUDONYM, "code": "7K2M-Q9XD-4HTV-C1RB"}]})}},
    },
    ("POST", "/v1/summits/{summit_id}/ballots"): {
        "request": {"approval": ("Approve one to three proposals; `sealing` is `g1000 trustee keygen`'s public file", {
            "title": [{"language": "nl", "text": _TITLE}],
            "method": {"kind": "approval", "min": 1, "max": 3},
            "options": [{"option_id": o, "texts": [{"language": "nl", "text": t}]} for o, t, _ in _OPTIONS],
            "opens_at": "2027-03-14T15:00:00.000Z", "closes_at": "2027-03-14T16:00:00.000Z",
            "sealing": _SEALING})},
        "responses": {"201": {"created": ("The ballot; the log holds only its texts' SHA-256 and length", {
            "ballot_id": BALLOT_ID, "summit_id": SUMMIT_ID, "state": "created",
            "title": [{"language": "nl", "sha256": _TITLE_SHA256, "length": len(_TITLE.encode()), "text": _TITLE}],
            "method": {"kind": "approval", "min": 1, "max": 3},
            "options": [{"option_id": o, "texts": [{"language": "nl", "sha256": h, "length": len(t.encode()),
                                                    "text": t}]} for o, t, h in _OPTIONS],
            "opens_at": "2027-03-14T15:00:00.000Z", "closes_at": "2027-03-14T16:00:00.000Z",
            "sealing": _SEALING, "roll": None, "credential_key": None, "issued": 0, "cast": None,
            "closed_at": None, "early": None, "private_key": None, "counted": None, "result": None})}},
    },
    ("POST", "/v1/summits/{summit_id}/ballots/{ballot_id}/credentials"): {
        "request": {"blinded": ("The blinded token (RFC 9474); the service never sees the token itself",
                                {"blinded_msg": _RSA_BYTES})},
        "responses": {"201": {"signed": ("The blind signature, to finalize on the participant's device",
                                         {"blind_sig": _RSA_BYTES})}},
    },
    ("POST", "/v1/summits/{summit_id}/ballots/{ballot_id}/votes"): {
        "request": {"cast": ("A sealed vote with its anonymous credential, sent without any token", {
            "credential": {"token": "5a" * 32, "prefix": "c3" * 32, "signature": _RSA_BYTES},
            "sealed": _SEALED})},
        "responses": {"202": {"pending": ("Accepted; it waits for its shuffled batch", {
            "nullifier": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "sealed_sha256": "5feceb66ffc86f38d952786c6d696c79c2dbc239dd4e91b46729d73a27fb57e9",
            "status": "pending"})}},
    },
    ("POST", "/v1/summits/{summit_id}/ballots/{ballot_id}/shares"): {
        "request": {"share": ("A trustee's share, as `g1000 trustee submit` sends it after closing",
                              {"share": "g1000-share-v1:2:1:" + "9f" * 32})},
        "responses": {"202": {"first": ("The first of the two shares needed", {
            "received": 1, "k": 2, "state": "closed"})}},
    },
    ("POST", "/v1/summits/{summit_id}/topics"): {
        "request": {"topic": ("A participant nominates a topic, in Dutch (the default)",
                              {"title": TITLE, "description": DESCRIPTION, "language": "nl"})},
        "responses": {"201": {"nominated": ("The topic; the log holds only its texts' sha256 and length", _TOPIC)}},
    },
    ("POST", "/v1/summits/{summit_id}/topics/nominations"): {
        "request": {"close": ("The organiser closes nominations", {"open": False})},
        "responses": {"200": {"closed": ("Nominations closed by the event at seq 9", {"open": False, "seq": 9})}},
    },
    ("POST", "/v1/summits/{summit_id}/topics/{topic_id}/withholdings"): {
        "request": {"personal-data": ("A facilitator withholds a description that names someone",
                                      {"field": "description", "reason": "personal-data"})},
        "responses": {"201": {"withheld": ("The words are gone; the hash stays, with the reason", _TOPIC | {
            "description": None,
            "texts": [_TOPIC["texts"][0] | {"text": None, "withheld": {"reason": "personal-data", "seq": 10}},
                      _TOPIC["texts"][1]]})}},
    },
    ("POST", "/v1/auth/check-in"): {
        "request": {"code": ("The code printed on the invitation", {"code": "7K2M-Q9XD-4HTV-C1RB"})},
        "responses": {"201": {"participant": ("A participant token for this summit", _TOKEN | {
            "role": "participant", "subject": PSEUDONYM})}},
    },
}


def _examples(named: dict) -> dict:
    return {name: {"summary": summary, "value": value} for name, (summary, value) in named.items()}


def attach(method: str, template: str, operation: dict) -> None:
    """Put the examples of this operation (if any) on its JSON request body and answers."""
    found = EXAMPLES.get((method.upper(), template))
    if found is None:
        return
    body = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if body is not None and "request" in found:
        body["examples"] = _examples(found["request"])
    for status, named in found.get("responses", {}).items():
        media = operation.get("responses", {}).get(status, {}).get("content", {}).get("application/json")
        if media is not None:
            media["examples"] = _examples(named)
