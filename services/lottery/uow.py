"""What every lottery view shares: its path prefix, the service clock, and one unit of work per
request (a transaction on a known summit, holding the summit's lottery lock for writes).

Views (register_api, seed_api, invitations_api, pools_api) import this, and api.py imports the
views to list them; keeping the shared part here is what keeps the imports one-way.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from typing import Iterator

from services.core.runtime import runtime
from services.core.store import Transaction
from services.core.summits import summit_exists, summit_vocabulary

from . import repo
from .errors import LotteryNotFoundError, PhaseError
from .rounds import stamp

PREFIX = "/v1/summits/<uuid:summit_id>/lottery"
CLOCK = "lottery_clock"


def now() -> str:
    """The service clock as the log writes times (tests may set `runtime().extras[CLOCK]`)."""
    clock = runtime().extras.get(CLOCK)
    return stamp(clock() if clock else datetime.now(timezone.utc))


def job_location(summit_id: str, job_id: str) -> str:
    return f"/v1/summits/{summit_id}/lottery/jobs/{job_id}"


def check_summit(conn, summit_id) -> str:
    sid = str(summit_id)
    if not summit_exists(conn, sid):
        raise LotteryNotFoundError(f"no summit {sid}")
    return sid


def vocabulary(conn, sid: str) -> dict[str, list[str]]:
    """The register vocabulary of the summit's charter (issue 10 H1/H2); a summit chartered with
    `ledger.summit.created` v1 declares none, so nothing with features can be accepted (409)."""
    declared = summit_vocabulary(conn, sid)
    if declared is None:
        raise PhaseError(f"the charter of summit {sid} declares no register vocabulary (it predates "
                         "charter v2), so no register or pool member can be accepted for it")
    return declared


@contextlib.contextmanager
def writing(summit_id) -> Iterator[tuple[Transaction, str]]:
    """One request's unit of work on a known summit, holding the summit's lottery lock."""
    with runtime().store.transaction() as tx:
        sid = check_summit(tx.conn, summit_id)
        repo.lock_summit(tx.conn, sid)
        yield tx, sid


@contextlib.contextmanager
def reading(summit_id) -> Iterator[tuple[object, str]]:
    with runtime().db.transaction() as conn:
        yield conn, check_summit(conn, summit_id)
