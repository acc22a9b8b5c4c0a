"""The ballot stage of `g1000 demo` (docs/ballot.md): every checked-in participant votes in secret.

Through the gateway only: three trustees make the sealing key with the trustees' tool
(g1000/trustee.py, in a temporary directory the demo deletes), the organiser creates the ballot
with the public file and opens it (the roll of everyone checked in, a fresh credential key), each
participant obtains one blind credential with their token and casts a sealed approval vote with
no token at all over a fresh connection (g1000/ballot_client.py), the organiser closes it early,
two of the three trustees submit their shares, and the service reveals the key and publishes the
result. After the ledger has the whole ballot, each voter checks their receipt against the log.
"""

from __future__ import annotations

import random
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Callable

from . import trustee
from .ballot_client import BallotClient
from .ballot_http import anonymous_http
from .errors import DemoError

# the ballot's proposals: the agenda's topics (g1000/demo.py TOPICS), by option id
OPTIONS = {"fietsen": "Veilig fietsen naar school", "wonen": "Betaalbaar wonen voor starters",
           "ouderen": "Eenzaamheid onder ouderen", "groen": "Groen in de wijk",
           "werk": "Werk voor statushouders", "jongeren": "Jongeren een stem geven"}
TRUSTEES = ["notaris", "burgerdelegatie", "griffie"]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class BallotDemo:
    def __init__(self, gateway: str, call: Callable[..., dict], say: Callable[[str], None], summit_id: str,
                 participants: list[dict]):
        self.gateway = gateway
        self.call = call
        self.say = say
        self.summit_id = summit_id
        self.participants = participants
        self.base = f"/v1/summits/{summit_id}/ballots"
        self.voted: list[tuple[BallotClient, object, bytes]] = []

    def run(self) -> dict:
        with tempfile.TemporaryDirectory(prefix="g1000-trustees-") as keys:
            made = trustee.keygen(2, len(TRUSTEES), TRUSTEES, Path(keys) / "keys")
            self.say(f"{len(TRUSTEES)} trustees made the sealing key locally; 2 of their shares open the votes")
            ballot = self.create(made.public)
            ballot_id = ballot["ballot_id"]
            opened = self.call("POST", f"{self.base}/{ballot_id}/open", 200)
            self.say(f"ballot opened: roll of {opened['roll']['count']} checked-in participants committed")
            self.vote(ballot_id)
            self.call("POST", f"{self.base}/{ballot_id}/close", 200)
            self.say("the organiser closed the ballot")
            for share in made.share_files[:2]:
                trustee.submit(self.gateway, self.summit_id, ballot_id, share, trustee.http_post)
        final = self.call("GET", f"{self.base}/{ballot_id}", 200)
        if final["state"] != "tallied":
            raise DemoError(f"the ballot is {final['state']} after two shares, not tallied")
        result = final["result"]
        top = ", ".join(f"{r['rank']}. {OPTIONS[r['option']]} ({result['totals'][r['option']]})"
                        for r in result["ranking"][:3])
        self.say(f"two trustees handed in their shares; key revealed, {final['counted']} votes counted: {top}")
        return {"ballot_id": ballot_id, "votes": final["counted"], "result": result}

    def create(self, sealing: dict) -> dict:
        now = datetime.now(timezone.utc)
        return self.call("POST", self.base, 201, json={
            "title": [{"language": "nl", "text": "Welke voorstellen neemt de top mee naar de gemeenteraad?"}],
            "method": {"kind": "approval", "min": 1, "max": 3},
            "options": [{"option_id": o, "texts": [{"language": "nl", "text": t}]} for o, t in sorted(OPTIONS.items())],
            "opens_at": _stamp(now - timedelta(seconds=1)), "closes_at": _stamp(now + timedelta(minutes=30)),
            "sealing": sealing})

    def vote(self, ballot_id: str) -> None:
        rng = random.Random(13)
        http = anonymous_http(self.gateway)
        for participant in self.participants:
            voter = BallotClient(http, self.summit_id, ballot_id)
            credential = voter.obtain_credential(participant["token"])
            choice = {"approve": sorted(rng.sample(sorted(OPTIONS), rng.randint(1, 3)))}
            _, sealed = voter.cast(credential, choice)
            self.voted.append((voter, credential, sealed))
        self.say(f"{len(self.voted)} participants each obtained a blind credential and cast a sealed vote"
                 " without their token")

    def check_receipts(self, log_key: str) -> int:
        """Every voter checks their receipt against the log (call once the ledger has it all)."""
        for voter, credential, sealed in self.voted:
            if voter.receipt(credential, sealed, log_key) is None:
                raise DemoError("a vote's receipt is not in the log's latest checkpoint")
        self.say(f"{len(self.voted)} voters found their vote in the log (receipt, inclusion proof, signed checkpoint)")
        return len(self.voted)

    @staticmethod
    def events(participants: int) -> int:
        """The ballot stream's events of the demo: arrivals, created, opened, one credential and one
        cast per participant, closed, key revealed, tally published."""
        return participants + 2 + 2 * participants + 3

