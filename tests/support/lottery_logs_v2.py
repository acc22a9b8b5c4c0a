"""The register contract 2 lottery builder: :class:`V2Lottery` writes the register as the lottery
service must under contract 2 (docs/lottery.md "Register contract 2"): chunks of pseudonyms and
salted commitments, a commitment with ``contract: 2``, and before the invitation draw the reveals
it needs.  Like the v1 builder (tests/support/lottery_logs.py) it computes everything with
independent transcriptions (``hashlib``/``hmac``/``json``, never ``g1000_proofs``), so an honest
log verifying means the verifier agrees with the contract.
"""

from __future__ import annotations

import hashlib

from tests.support.draw_reference import RefShort, ref_apportion, ref_jcs, ref_R
from tests.support.lottery_logs import PARTIES_1, Lottery, ref_mth, register_rows


REVEALED = "lottery.register.revealed"


def ref_salt(pseudonym: str, what: str) -> bytes:
    return hashlib.sha256(f"test salt/{pseudonym}/{what}".encode()).digest()[:16]


def ref_commitments(row: tuple) -> dict:
    p, h, features = row
    household = hashlib.sha256(b"g1000/register/v2/household\x00" + ref_salt(p, "household")
                               + ref_jcs([p, h])).hexdigest()
    return {"household": household,
            "features": {n: hashlib.sha256(b"g1000/register/v2/feature\x00" + ref_salt(p, n)
                                           + ref_jcs([p, n, v])).hexdigest()
                         for n, v in features.items()}}


def ref_reached(seed: bytes, rows: list[tuple], n: int, stratify_by: str | None):
    """(invitees, reached pseudonyms): the contract's walk, written out again."""
    order = sorted(rows, key=lambda r: (ref_R(seed, "invite/" + r[0]), r[0]))
    if stratify_by is None:
        plan = [(order, n)]
    else:
        values = sorted({r[2][stratify_by] for r in rows})
        shares = ref_apportion(n, {v: sum(1 for r in rows if r[2][stratify_by] == v) for v in values})
        plan = [([r for r in order if r[2][stratify_by] == v], shares[v]) for v in values]
    used, out, reached = set(), [], []
    for members, want in plan:
        got = 0
        for p, h, _ in members:
            if got == want:
                break
            reached.append(p)
            if h not in used:
                used.add(h)
                out.append(p)
                got += 1
        if got < want:
            raise RefShort
    return out, reached


def opening(row: tuple, what: str) -> dict:
    p, h, features = row
    value = h if what == "household" else features[what]
    return {"pseudonym": p, "value": value, "salt": ref_salt(p, what).hex()}


class V2Lottery(Lottery):
    """The v1 builder with the register and invitation draw of contract 2."""

    reveal_chunk = 7   # small, so that reveals span several chunks

    def register(self, rows: list[tuple], chunk_size: int = 500, *, skip_chunk: int | None = None,
                 features: list[str] | None = None) -> None:
        self.rows = sorted(rows, key=lambda r: r[0])
        committed = [{"pseudonym": r[0], "commitments": ref_commitments(r)} for r in self.rows]
        chunks = [committed[i:i + chunk_size] for i in range(0, len(committed), chunk_size)]
        for number, chunk in enumerate(chunks):
            if number != skip_chunk:
                self.add("lottery.register.chunk", {"v": 2, "register_id": self.register_id,
                                                    "chunk": number, "rows": chunk})
        root = ref_mth([hashlib.sha256(b"\x00" + ref_jcs(c)).digest() for c in committed])
        self.add("lottery.register.committed", {
            "v": 2, "register_id": self.register_id, "count": len(self.rows), "root": root.hex(),
            "chunks": len(chunks), "features": features or sorted(self.rows[0][2]), "contract": 2})

    def invite(self, r, n: int, stratify_by: str | None = None,
               invitees: list[str] | None = None) -> int:
        self.invitees, self.reached = ref_reached(r.seed, self.rows, n, stratify_by)
        by_name = {row[0]: row for row in self.rows}
        parts = []
        if stratify_by is not None:
            parts.append(("feature", stratify_by, [opening(row, stratify_by) for row in self.rows]))
        parts.append(("household", None, [opening(by_name[p], "household") for p in sorted(self.reached)]))
        chunk = 0
        for field, feature, items in parts:
            for i in range(0, len(items), self.reveal_chunk):
                self.add(REVEALED, {"register_id": self.register_id, "draw_id": "inv-1", "chunk": chunk,
                                    "field": field, "feature": feature,
                                    "openings": items[i:i + self.reveal_chunk]})
                chunk += 1
        return super().invite(r, n, stratify_by, invitees)


def lottery_until_draw(stratify_by: str | None = "wijk", n: int = 12) -> V2Lottery:
    lot = V2Lottery()
    lot.register(register_rows(), chunk_size=20)
    r1 = lot.seed_round("round-invite", "invitation", PARTIES_1)
    lot.invite(r1, n, stratify_by)
    return lot
