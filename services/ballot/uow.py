"""What every ballot view shares: its path prefix, the service clock, and one unit of work per
request (a transaction on a known summit, holding the summit's ballot lock for writes), plus the
batch flush that the cast path, the job and closing all use.

Views import this, and api.py imports the views to list them, so imports stay one-way.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timezone
from typing import Iterator

from services.core.runtime import runtime
from services.core.store import Transaction
from services.core.summits import summit_exists

from . import repo
from .domain import Ballot, batch_events, batch_time, closed_event, stamp
from .errors import BallotNotFoundError

PREFIX = "/v1/summits/<uuid:summit_id>/ballots"
CLOCK = "ballot_clock"


def now(rt=None) -> str:
    """The service clock as the log writes times (tests may set `runtime().extras[CLOCK]`)."""
    clock = (rt or runtime()).extras.get(CLOCK)
    return stamp(clock() if clock else datetime.now(timezone.utc))


def check_summit(conn, summit_id) -> str:
    sid = str(summit_id)
    if not summit_exists(conn, sid):
        raise BallotNotFoundError(f"no summit {sid}")
    return sid


@contextlib.contextmanager
def writing(summit_id, rt=None) -> Iterator[tuple[Transaction, str]]:
    """One request's unit of work on a known summit, holding the summit's ballot lock."""
    with (rt or runtime()).store.transaction() as tx:
        sid = check_summit(tx.conn, summit_id)
        repo.lock_summit(tx.conn, sid)
        yield tx, sid


@contextlib.contextmanager
def reading(summit_id) -> Iterator[tuple[object, str]]:
    with runtime().db.transaction() as conn:
        yield conn, check_summit(conn, summit_id)


def ballot_of(conn, sid: str, ballot_id, *, lock: bool = False) -> Ballot:
    b = repo.load_ballot(conn, sid, str(ballot_id), lock=lock)
    if b is None:
        raise BallotNotFoundError(f"no ballot {ballot_id} in summit {sid}")
    return b


def flush(tx: Transaction, b: Ballot, at: str, end: str | None = None) -> int:
    """Append the ballot's pending casts as one shuffled batch sharing one time; the count."""
    pending = repo.take_pending(tx.conn, b.ballot_id)
    if not pending:
        return 0
    events = batch_events(b, pending)
    recorded = tx.append(b.summit_id, events, occurred_at=batch_time(b, at, end))
    repo.save_batch(tx.conn, b, recorded)
    b.version += len(recorded)
    return len(recorded)


def close(tx: Transaction, b: Ballot, at: str, early: bool) -> None:
    """Flush what is pending (inside the window), then record the closing."""
    last = max((e.occurred_at for e in repo.cast_events(tx.conn, b.summit_id, b.ballot_id)), default=None)
    event = closed_event(b, at, early, last)
    closed_at = event.payload["closed_at"]
    flush(tx, b, at, end=closed_at)
    # built again: the flush moved the ballot's aggregate version, which the event carries
    (recorded,) = tx.append(b.summit_id, [closed_event(b, at, early, last)], occurred_at=max(at, closed_at))
    repo.save_closed(tx.conn, b, recorded)
    b.version += 1
    b.state = "closed"
