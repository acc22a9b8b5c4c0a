"""Register contract 2 through the real lottery service (issue 10 H3, Build 2).

Import a register, draw the invitations, read the log: it holds commitments for every row, the
stratum feature of every row (when stratified) and the households the draw reached -- and no
household id, feature value or salt of any other row. ``g1000-verify draw``'s replay passes on
the log, and fails once one reveal is changed.
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from g1000_proofs.draw import Row
from g1000_proofs.register import reveal_plan
from g1000_verify.draw_checks import verify_draw

from services.core.runtime import create_service_app
from tests.helpers import opaque, open_test_summit, runtime_for, vouching_client
from tests.support.lottery_flow import (
    Lottery, audit, import_register, learn_summits, quick_round, seed_from_log, token_signer,
)

pytestmark = pytest.mark.integration

HOODS = ("noord", "oost", "zuid", "west")
TAGS = [f"t{i:04d}q" for i in range(99)]


@pytest.fixture
def lottery(service_env):
    """The lottery of a summit whose charter declares `neighbourhood` and a `tag` per resident."""
    rt = runtime_for("lottery", service_env)
    rt.config = replace(rt.config, register_k_anonymity=1)   # a made-up register of unique tags
    ledger = runtime_for("ledger", service_env)
    summit = open_test_summit(ledger, features={"neighbourhood": list(HOODS), "tag": TAGS})
    learn_summits(rt, ledger, summit)
    yield Lottery(rt, ledger, vouching_client(create_service_app(rt), service_env), summit,
                  token_signer(service_env))
    rt.db.close()
    ledger.db.close()


def register_csv(n: int = 99) -> tuple[str, list[Row]]:
    """n residents (at most 100: the extract caps distinct values per feature), every third
    living with the one before; `tag` differs for every resident,
    so any value of it in the log would be found by a plain text search."""
    lines, rows = ["pseudonym,household,neighbourhood,tag"], []
    for i in range(n):
        household = opaque(f"hh{(i - 1 if i % 3 == 2 else i):04d}x")
        row = Row(opaque(f"p{i:04d}"), household, {"neighbourhood": HOODS[(i * 7) % 4], "tag": TAGS[i]})
        rows.append(row)
        lines.append(f"{row.pseudonym},{row.household},{row.features['neighbourhood']},{row.features['tag']}")
    return "\n".join(lines) + "\n", rows


@pytest.mark.parametrize("stratify_by", [None, "neighbourhood"])
def test_the_log_holds_only_what_the_draw_reaches(lottery, stratify_by):
    lot = lottery
    csv, rows = register_csv()
    import_register(lot, csv)
    round_id = quick_round(lot, "invitation", draw={"n": 12, "stratify_by": stratify_by})
    invited = lot.ok(lot.post("/invitations", {"round_id": round_id, "n": 12, "stratify_by": stratify_by}), 201)
    events = lot.events()
    (drawn,) = [e for e in events if e.type == "lottery.invitations.drawn"]
    reveals = [e for e in events if e.type == "lottery.register.revealed"]
    assert reveals and all(e.seq < drawn.seq for e in reveals)
    assert drawn.payload["invitees"] == invited["invitees"]

    seed, _ = seed_from_log(events, lot.summit, round_id)
    plan = reveal_plan(seed, rows, 12, stratify_by)
    reached = set(plan.household_rows)
    assert plan.invitees == invited["invitees"] and len(reached) < len(rows)
    opened = {(o["pseudonym"], e.payload["feature"] or "household") for e in reveals for o in e.payload["openings"]}
    assert opened == {(p, "household") for p in reached} | (
        {(r.pseudonym, stratify_by) for r in rows} if stratify_by else set())

    logged = b"".join(e.body for e in events).decode()
    hidden = {r.household for r in rows} - {r.household for r in rows if r.pseudonym in reached}
    assert hidden and not [h for h in hidden if f'"{h}"' in logged]              # unreached households
    assert not [r for r in rows if f'"{r.features["tag"]}"' in logged]           # a feature never revealed
    if stratify_by is None:
        assert not any(f'"{hood}"' in logged for hood in HOODS)
    with lot.rt.db.transaction() as conn:
        salts = conn.execute("SELECT pseudonym, encode(household_salt, 'hex') FROM lottery_register_rows"
                             " WHERE summit_id = %s", (lot.summit,)).fetchall()
    assert len(salts) == len(rows)
    assert not [p for p, salt in salts if p not in reached and salt in logged]  # salts stay in the database
    assert all(salt in logged for p, salt in salts if p in reached)

    result = audit(lot)                                  # g1000-verify draw's replay passes
    assert result.counts["register_reveals"] == len(opened)
    public = lot.ok(lot.get("/register"))
    assert "salt" not in str(public) and public["count"] == len(rows)


def test_one_changed_reveal_fails_the_verifier(lottery):
    lot = lottery
    csv, rows = register_csv(60)
    import_register(lot, csv)
    round_id = quick_round(lot, "invitation", draw={"n": 8, "stratify_by": None})
    lot.ok(lot.post("/invitations", {"round_id": round_id, "n": 8, "stratify_by": None}), 201)
    pairs = [(i, e.as_dict()) for i, e in enumerate(lot.events())]
    i, event = next((i, e) for i, e in pairs if e["type"] == "lottery.register.revealed")
    event["payload"]["openings"][0]["value"] = "hh9999x"            # another household id
    result = verify_draw(lot.summit, pairs)
    assert result.failure is not None and result.failure.check == "register_reveal"
    assert result.failure.index == i and "does not open its commitment" in result.failure.reason
