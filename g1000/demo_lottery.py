"""The lottery stage of `g1000 demo`: both draws of docs/architecture.md §6 on a synthetic population.

Through the gateway only, with the organiser's and a facilitator's tokens: a pseudonymised
register extract of a made-up town is imported and committed; an invitation round is opened
that fixes the draw's parameters (how many invitations, stratified by neighbourhood); three
parties commit to secret values, a notary adds dice, the parties reveal, and the seed is final;
invitations go out
(stratified by neighbourhood, one per household); part of the invitees respond with their
invitation code; a fair (LEXIMIN) distribution of panels under quotas is committed; a second seed
round draws the panel from it; one panel member drops out and is replaced; an employers' seat
pool is filled the same way. The population is generated from a fixed seed, so every demo sees
the same town (the draws differ: their seeds come from fresh secrets).
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
from datetime import datetime, timedelta, timezone
from typing import Callable

from .errors import DemoError

AGE_BANDS = {"16-29": 0.22, "30-44": 0.24, "45-64": 0.32, "65+": 0.22}
GENDERS = {"vrouw": 0.51, "man": 0.49}
NEIGHBOURHOODS = {"centrum": 0.18, "noord": 0.27, "oost": 0.2, "zuid": 0.23, "west": 0.12}
# who answers an invitation: older and some neighbourhoods more often (as real response rates skew)
RESPONSE = {"16-29": 0.25, "30-44": 0.35, "45-64": 0.5, "65+": 0.6}
# nominated employers per neighbourhood they are based in: a stakeholder pool uses the charter's
# vocabulary too (no free-text sector names), and its quotas spread the seats over the town
EMPLOYERS = {"centrum": 4, "noord": 3, "oost": 3, "zuid": 3, "west": 3}
# the register's allow-list, declared in the demo summit's charter (ledger.summit.created v2)
VOCABULARY = {"age_band": list(AGE_BANDS), "gender": list(GENDERS), "neighbourhood": list(NEIGHBOURHOODS)}

POPULATION = 2_400
INVITATIONS = 360
PANEL = 48
EMPLOYER_SEATS = 5


def _pick(rng: random.Random, shares: dict[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def population_csv(size: int = POPULATION, seed: int = 1000, k: int = 5) -> str:
    """A pseudonymised register extract that passes the k-anonymity check of the import
    (services/lottery/privacy.py): coarse features only, households of one to four drawn from a
    catalogue of household kinds (neighbourhood and members' age band and gender), each kind
    lived in by at least k households, so no household's composition singles it out. Pseudonyms
    and household ids are fresh 128-bit random hex and the rows are in pseudonym order, so
    nothing in the file says in which order the municipality keeps its register. The features
    come from the fixed seed (every demo sees the same town); the ids are new each time."""
    rng = random.Random(seed)
    # the fallback kind comes first and at least k times, so any remainder can join it
    fallback = ("noord", (("45-64", "vrouw"),))
    homes: list[tuple[str, tuple]] = [fallback] * k
    left = size - k
    while left > 0:
        hood = _pick(rng, NEIGHBOURHOODS)
        members = tuple(sorted((_pick(rng, AGE_BANDS), _pick(rng, GENDERS))
                               for _ in range(rng.choice((1, 1, 2, 2, 3, 4)))))
        copies = rng.randint(k, k + 3)
        if copies * len(members) > left:
            homes += [fallback] * left
            break
        homes += [(hood, members)] * copies
        left -= copies * len(members)
    lines = []
    for hood, members in homes:
        household = secrets.token_hex(16)
        lines += [f"{secrets.token_hex(16)},{household},{age},{gender},{hood}" for age, gender in members]
    return "\n".join(["pseudonym,household,age_band,gender,neighbourhood", *sorted(lines)]) + "\n"


def quotas_for(counts: dict[str, dict[str, int]], shares: dict[str, dict[str, int]], panel: int,
               slack: float = 0.25) -> dict[str, dict[str, list[int]]]:
    """Quotas around the population's shares (`shares`: counts in the register), never asking for
    more people of a kind than responded (`counts`)."""
    out: dict[str, dict[str, list[int]]] = {}
    for feature, table in shares.items():
        total = sum(table.values())
        out[feature] = {}
        for value, n in table.items():
            target = panel * n / total
            available = counts.get(feature, {}).get(value, 0)
            low = min(available, max(0, math.floor(target * (1 - slack))))
            high = min(available, max(low, math.ceil(target * (1 + slack))))
            out[feature][value] = [low, high]
    return out


class LotteryDemo:
    def __init__(self, call: Callable[..., dict], wait: Callable[[str, Callable[[], bool]], None],
                 say: Callable[[str], None], summit_id: str, facilitator: str):
        self.call = call
        self.wait = wait
        self.say = say
        self.summit_id = summit_id
        self.base = f"/v1/summits/{summit_id}/lottery"
        self.facilitator = facilitator

    def _job(self, job: dict, what: str) -> dict:
        done: dict = {}

        def finished() -> bool:
            done.update(self.call("GET", f"{self.base}/jobs/{job['job_id']}", 200))
            return done["state"] in ("succeeded", "failed")

        self.wait(what, finished)
        if done["state"] != "succeeded":
            raise DemoError(f"{what} failed: {done.get('error')}")
        return done

    def seed_round(self, purpose: str, draw: dict | None = None) -> dict:
        """Three parties commit, the notary rolls dice, the parties reveal, the seed is final.
        An invitation round declares its draw (`n`, `stratify_by`) when it is opened, before
        anyone commits, so the draw's parameters cannot be chosen once the seed is known."""
        now = datetime.now(timezone.utc)
        parties = ["gemeente", "notaris", "burgerpanel"]
        body = {"purpose": purpose, "parties": parties,
                "commit_deadline": (now + timedelta(minutes=10)).isoformat(),
                "reveal_deadline": (now + timedelta(minutes=20)).isoformat()}
        if draw is not None:
            body["draw"] = draw
        rnd = self.call("POST", f"{self.base}/rounds", 201, json=body)
        path = f"{self.base}/rounds/{rnd['round_id']}"
        values = {party: secrets.token_hex(32) for party in parties}
        for party, value in values.items():  # each party hands over only the hash of its secret
            self.call("POST", f"{path}/commitments", 201, token=self.facilitator,
                      json={"party": party, "commitment": hashlib.sha256(value.encode()).hexdigest()})
        dice = " ".join(str(secrets.randbelow(6) + 1) for _ in range(10))
        self.call("POST", f"{path}/dice", 201, token=self.facilitator, json={"party": "notaris-dobbelstenen",
                                                                             "value": dice})
        for party, value in values.items():
            self.call("POST", f"{path}/reveals", 201, token=self.facilitator, json={"party": party, "value": value})
        final = self.call("POST", f"{path}/finalize", 200)
        self.say(f"{purpose} seed fixed by {len(parties)} parties and the notary's dice ({dice}):"
                 f" {final['seed'][:16]}…")
        return final

    def distribution(self, pool: str, panel_size: int, quotas: dict) -> dict:
        job = self.call("POST", f"{self.base}/pools/{pool}/distributions", 202,
                        json={"panel_size": panel_size, "quotas": quotas})
        done = self._job(job, f"the fair distribution of {pool} panels")
        dist = self.call("GET", f"{self.base}/pools/{pool}/distributions/{done['distribution_id']}", 200)
        fair = dist.get("fairness") or {}
        self.say(f"{pool}: distribution over {dist['panel_count']} panels committed; lowest chance"
                 f" {fair.get('minimum')} (LEXIMIN)")
        return dist

    def draw(self, pool: str, dist: dict, purpose_round: dict) -> dict:
        panel = self.call("POST", f"{self.base}/pools/{pool}/draws", 201,
                          json={"distribution_id": dist["distribution_id"], "round_id": purpose_round["round_id"]})
        self.say(f"{pool}: panel {panel['index']} of {dist['panel_count']} drawn ({len(panel['members'])} seats)")
        return panel

    def run(self) -> dict:
        csv = population_csv()
        job = self.call("POST", f"{self.base}/register", 202, json={"csv": csv})
        self._job(job, "the register extract to be committed")
        register = self.call("GET", f"{self.base}/register", 200)
        self.say(f"register of {register['count']} residents committed (root {register['root'][:16]}…)")

        rnd = self.seed_round("invitation", draw={"n": INVITATIONS, "stratify_by": "neighbourhood"})
        invited = self.call("POST", f"{self.base}/invitations", 201, json={"round_id": rnd["round_id"]})
        self.say(f"{len(invited['invitees'])} invitations drawn (one per household, by neighbourhood)")

        rng = random.Random(7)
        by_pseudonym = {line.split(",")[0]: line.split(",") for line in csv.splitlines()[1:]}
        responded = 0
        for entry in invited["codes"]:
            age = by_pseudonym[entry["pseudonym"]][2]
            if rng.random() < RESPONSE[age]:
                self.call("POST", f"{self.base}/respondents", 201, json={"code": entry["code"], "consent": True})
                responded += 1
        self.say(f"{responded} invitees registered with their invitation code")

        pool = self.call("GET", f"{self.base}/pools/respondents", 200)
        quotas = quotas_for(pool["feature_counts"], register["feature_counts"], PANEL)
        dist = self.distribution("respondents", PANEL, quotas)
        panel_round = self.seed_round("panel")
        panel = self.draw("respondents", dist, panel_round)
        nominees = [{"features": {"neighbourhood": hood}} for hood, n in EMPLOYERS.items() for _ in range(n)]
        self.call("POST", f"{self.base}/pools/employers/members", 201, json={"members": nominees})
        employer_quotas = {"neighbourhood": {hood: [1, 2] for hood in EMPLOYERS}}
        employers = self.distribution("employers", EMPLOYER_SEATS, employer_quotas)
        employers_panel = self.draw("employers", employers, self.seed_round("panel"))

        # the day before the summit, one panel member cancels (the last lottery event of the demo)
        dropped = panel["members"][0]
        after = self.call("POST", f"{self.base}/pools/respondents/replacements", 201,
                          json={"distribution_id": dist["distribution_id"], "dropped": dropped, "accept_vacancy": True})
        replacement = after["replacements"][-1]["replacement"]
        self.say(f"{dropped} dropped out; replaced by {replacement} (the next reserve keeping every quota)")
        return {"register": register["count"], "invited": len(invited["invitees"]), "respondents": responded,
                "panel": after["members"], "employers": employers_panel["members"],
                "last_seq": after["replacements"][-1]["seq"]}

