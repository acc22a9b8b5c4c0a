"""The ballot's timer: append waiting casts every G1000_BALLOT_BATCH_SECONDS, close ballots at
their closes_at (with their last casts). Runs in the consume worker beside the consumer.

`run_once(rt)` does one pass (tests call it); `loop(rt)` repeats it until stopped. Each ballot is
handled in its own transaction under the summit's lock, like a request.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

from services.core.errors import CoreError

from . import repo
from .domain import due_to_close
from .uow import close, flush, now, writing

log = logging.getLogger(__name__)


def run_once(rt) -> dict[str, int]:
    """One pass over the open ballots: {"appended": casts, "closed": ballots}."""
    done = {"appended": 0, "closed": 0}
    with rt.db.transaction() as conn:
        due = repo.open_ballots(conn)
    for summit_id, ballot_id in due:
        with writing(summit_id, rt) as (tx, sid):
            b = repo.load_ballot(tx.conn, sid, ballot_id, lock=True)
            if b is None or b.state != "open":
                continue
            at = now(rt)
            if due_to_close(b, at):
                before = b.version
                close(tx, b, at, early=False)
                done["appended"] += b.version - before - 1
                done["closed"] += 1
            else:
                done["appended"] += flush(tx, b, at)
    return done


def loop(rt) -> Callable[[threading.Event], None]:
    """The timer loop: a pass every ballot_batch_seconds until `stop` is set; never dies of one pass."""

    def run(stop: threading.Event) -> None:
        while not stop.wait(rt.config.ballot_batch_seconds):
            try:
                run_once(rt)
            except CoreError as e:
                log.warning("ballot jobs: %s", e)

    return run
