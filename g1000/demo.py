"""`g1000 demo`: a walking skeleton of a G1000 day, driven through the public gateway only.

With the organiser's token (from `g1000 admin organiser`) it charters a summit, issues a
facilitator token, lets the facilitator print check-in codes, checks participants in with those
codes (each gets a participant token), lets each participant nominate a topic for the own agenda
under their own token (the log holds only the texts' hashes; the organiser then closes
nominations), runs a secret ballot in which every checked-in participant votes
(g1000/demo_ballot.py: trustees' key, blind credentials, sealed anonymous casts, early closing,
two shares, the result), and waits until the ledger has received every event of every stream it
produced; then it verifies the log, the draws and the agenda's served texts as an outsider would,
and each voter checks their receipt. Each later stage of the day is added here as it is built. The last line
of output is one JSON object describing what was done (at least `summit_id`).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import date, timedelta
from typing import Callable

import requests

from .demo_ballot import BallotDemo
from .demo_lottery import VOCABULARY, LotteryDemo
from .errors import DemoError

TOPICS = [
    ("Veilig fietsen naar school", "Meer vrijliggende fietspaden rond de scholen."),
    ("Betaalbaar wonen voor starters", "Jongeren vinden geen woning in hun eigen wijk."),
    ("Eenzaamheid onder ouderen", "Ontmoetingsplekken in elke buurt."),
    ("Groen in de wijk", "Minder tegels, meer bomen en wadi's."),
    ("Werk voor statushouders", "Werkgevers en gemeente samen aan de slag."),
    ("Jongeren een stem geven", "Een jongerenraad met echte invloed."),
]


class Demo:
    def __init__(self, gateway: str, token: str, say: Callable[[str], None] = print, timeout: float = 60.0):
        self.gateway = gateway.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token}"
        self.say = say
        self.timeout = timeout

    def _call(self, method: str, path: str, expect: int, token: str | None = None, **kwargs) -> dict:
        headers = kwargs.setdefault("headers", {})
        if method == "POST":  # as a careful client does: a retry can never record twice
            headers["Idempotency-Key"] = str(uuid.uuid4())
        if token is not None:  # act as someone else than the organiser
            headers["Authorization"] = f"Bearer {token}"
        response = self.session.request(method, self.gateway + path, timeout=15, **kwargs)
        if response.status_code != expect:
            raise DemoError(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        return response.json()

    def _wait(self, what: str, check: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            if check():
                return
            time.sleep(0.2)
        raise DemoError(f"timed out after {self.timeout:.0f} s waiting for {what}")

    def run(self) -> dict:
        day = date.today() + timedelta(days=60)
        summit = self._call("POST", "/v1/summits", 201, json={
            "theme": "Samen leven in onze stad", "municipality": "Demostad", "date": day.isoformat(),
            "seats": {"citizens": 800, "employers": 70, "government": 50, "free_thinkers": 80},
            "register": {"features": VOCABULARY},
        })
        summit_id = summit["summit_id"]
        self.say(f"chartered summit {summit_id}: {summit['theme']} ({summit['municipality']}, {summit['date']})")

        topics_path = f"/v1/summits/{summit_id}/topics"
        self._wait("the agenda service to learn of the summit",
                   lambda: self.session.get(self.gateway + topics_path, timeout=5).status_code == 200)
        facilitator = self._call("POST", f"/v1/summits/{summit_id}/tokens", 201,
                                 json={"role": "facilitator", "label": "welkomstbalie"})
        self._wait("the lottery service to learn of the summit",
                   lambda: self.session.get(f"{self.gateway}/v1/summits/{summit_id}/lottery/rounds",
                                            timeout=5).status_code == 200)
        lottery = LotteryDemo(self._call, self._wait, self.say, summit_id, facilitator["token"]).run()
        seated = lottery["panel"][:len(TOPICS)]
        self._wait("the ballot service to learn of the summit",  # check-in records arrivals there
                   lambda: self.session.get(f"{self.gateway}/v1/summits/{summit_id}/ballots",
                                            timeout=5).status_code == 200)
        codes = self._call("POST", f"/v1/summits/{summit_id}/check-in-codes", 201, token=facilitator["token"],
                           json={"participants": seated})["codes"]
        self.say(f"a facilitator printed check-in codes for {len(codes)} drawn panel members")
        participants = [self._call("POST", "/v1/auth/check-in", 201, json={"code": c["code"]}) for c in codes]
        self.say(f"{len(participants)} participants checked in, each with a participant token")
        for (title, description), participant in zip(TOPICS, participants):
            self._call("POST", topics_path, 201, token=participant["token"],
                       json={"title": title, "description": description, "language": "nl"})
        self.say(f"participants nominated {len(TOPICS)} topics for the own agenda (in the log: only their"
                 " hashes, docs/agenda.md)")
        self._call("POST", f"{topics_path}/nominations", 200, json={"open": False})
        self.say("the organiser closed nominations")
        ballot_demo = BallotDemo(self.gateway, self._call, self.say, summit_id, participants)
        ballot = ballot_demo.run()

        expected = {"agenda": len(TOPICS) + 1, "lottery": lottery["last_seq"],
                    "ballot": BallotDemo.events(len(participants))}
        progress: dict = {}

        def ledger_has_all() -> bool:
            body = self._call("GET", f"/v1/summits/{summit_id}/streams", 200)
            progress.clear()
            progress.update({s["stream"]: s["received"] for s in body["streams"]})
            return all(progress.get(k, 0) >= v for k, v in expected.items()) and progress.get("ledger", 0) >= 2

        self._wait("the ledger to receive every event", ledger_has_all)
        self.say(f"ledger received: {', '.join(f'{k} {v}' for k, v in sorted(progress.items()))}")
        verified = self.verify_log(summit_id, sum(progress.values()))
        ballot["receipts_checked"] = ballot_demo.check_receipts(verified["log_key"])
        draw = self.verify_draw(summit_id)
        agenda = self.verify_agenda(summit_id)
        return {"summit_id": summit_id, "topics": len(TOPICS), "participants": len(participants), "agenda": agenda,
                "ballot": {k: v for k, v in ballot.items() if k != "result"} | {"ranking": ballot["result"]["ranking"]},
                "lottery": {k: v for k, v in lottery.items() if k not in ("panel", "employers", "last_seq")}
                | {"panel_seats": len(lottery["panel"]), "employer_seats": len(lottery["employers"])},
                "ledger_received": dict(sorted(progress.items())), "log": verified, "draw": draw}

    def verify_log(self, summit_id: str, entries: int) -> dict:
        """Wait for a checkpoint that covers every entry, then run the auditor's verifier on the
        log through the gateway, as an outsider would (with a receipt for the charter entry)."""
        import contextlib
        import io

        from g1000_verify.cli import main as verify

        log = f"/v1/logs/{summit_id}"

        def covered() -> bool:
            kept = self._call("GET", f"{log}/checkpoints", 200)["checkpoints"]
            return bool(kept) and kept[-1]["tree_size"] >= entries

        self._wait("a checkpoint covering the whole log", covered)
        key = self.session.get(self.gateway + f"{log}/key", timeout=5).text.strip()
        first = self._call("GET", f"{log}/entries?start=0&end=1", 200)["entries"][0]
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = verify(["log", "--gateway", self.gateway, "--summit", summit_id, "--json", "--log-key", key,
                           "--receipt", f"0:{first['leaf_hash']}"])
        report = json.loads(out.getvalue())
        if code != 0:
            raise DemoError(f"the log did not verify: {report.get('failure')}")
        self.say(f"g1000-verify: log of {report['tree_size']} entries verified"
                 f" ({report['checked']['signatures']} signatures, {report['checked']['checkpoints']} checkpoints)")
        return {"tree_size": report["tree_size"], "verified": True, "log_key": key}


    def verify_draw(self, summit_id: str) -> dict:
        """`g1000-verify draw` through the gateway: every draw recomputed from the log alone."""
        import contextlib
        import io

        from g1000_verify.cli import main as verify

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = verify(["draw", "--gateway", self.gateway, "--summit", summit_id, "--json"])
        report = json.loads(out.getvalue())
        if code != 0:
            raise DemoError(f"the draw did not verify: {report.get('failure')}")
        draw = report["draw"]
        self.say(f"g1000-verify draw: every draw recomputes from the log ({len(draw['seeds'])} seeds,"
                 f" {len(draw['draws'])} draws; warnings: {len(draw['warnings'])})")
        return {"verified": True, "seeds": len(draw["seeds"]), "warnings": draw["warnings"]}


    def verify_agenda(self, summit_id: str) -> dict:
        """`g1000-verify agenda` through the gateway: every served topic text matches its hash in the log."""
        import contextlib
        import io

        from g1000_verify.cli import main as verify

        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = verify(["agenda", "--gateway", self.gateway, "--summit", summit_id, "--json"])
        report = json.loads(out.getvalue())
        if code != 0:
            raise DemoError(f"the agenda's texts did not verify: {report.get('failure')}")
        self.say(f"g1000-verify agenda: {report['agenda']['texts']} served texts match their hashes in the log")
        return {"verified": True, "texts": report["agenda"]["texts"]}


def run_demo(gateway: str, token: str, timeout: float = 60.0) -> dict:
    result = Demo(gateway, token, timeout=timeout).run()
    print(json.dumps(result, sort_keys=True))
    return result
