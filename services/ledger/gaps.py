"""The gap filler: asks a producer to re-publish its stream from the first missing `seq`.

A gap means an event was lost on the way (a message withheld or dropped, a broker that lost its
memory). The producer's outbox still has it, so the ledger asks that producer's relay to send the
summit's stream again from the missing `seq` (`POST /internal/outbox/republish`). Requests are
repeated with a growing pause until the gap closes; every request is logged.
"""

from __future__ import annotations

import logging
from typing import Callable, Protocol

import requests

from services.core.db import Database

log = logging.getLogger(__name__)


class Republisher(Protocol):
    def __call__(self, stream: str, summit_id: str, from_seq: int) -> None: ...


class HttpRepublisher:
    """Calls the producer service's internal republish endpoint."""

    def __init__(self, urls: dict[str, str], token: str, timeout: float = 5.0):
        self.urls = urls
        self.token = token
        self.timeout = timeout

    def __call__(self, stream: str, summit_id: str, from_seq: int) -> None:
        url = self.urls.get(stream)
        if url is None:
            raise LookupError(f"no URL configured for the {stream} service")
        response = requests.post(f"{url}/internal/outbox/republish", timeout=self.timeout,
                                 json={"summit_id": summit_id, "from_seq": from_seq},
                                 headers={"Authorization": f"Bearer {self.token}"})
        response.raise_for_status()


class HttpHeads:
    """Reads the producers' stream heads (`GET /internal/outbox/heads`)."""

    def __init__(self, urls: dict[str, str], token: str, timeout: float = 5.0):
        self.urls = urls
        self.token = token
        self.timeout = timeout

    def __call__(self) -> list[dict]:
        heads = []
        for stream, url in sorted(self.urls.items()):
            try:
                response = requests.get(f"{url}/internal/outbox/heads", timeout=self.timeout,
                                        headers={"Authorization": f"Bearer {self.token}"})
                response.raise_for_status()
                heads += [h for h in response.json()["heads"] if h["stream"] == stream]
            except (requests.RequestException, ValueError, KeyError) as e:
                log.warning("cannot read the %s stream heads: %s", stream, e)
        return heads


class TailReconciler:
    """Finds tails lost in transit: a producer whose stream is ahead of the log while the log
    makes no progress on it between two looks. Such a tail opens a gap at the log's next seq,
    which the gap filler then asks the producer to re-publish. (A gap in the middle of a stream
    is found by the next event that arrives; a lost tail has no next event to reveal it.)"""

    def __init__(self, db: Database, heads: Callable[[], list[dict]]):
        self.db = db
        self.heads = heads
        self._behind: dict[tuple[str, str], int] = {}  # (summit, stream) -> log's next seq last time

    def run_once(self) -> int:
        """One look; returns how many gaps it opened."""
        behind = {}
        with self.db.transaction() as conn:
            for head in self.heads():
                row = conn.execute(
                    "SELECT coalesce((SELECT next_seq FROM log_streams WHERE summit_id = h.summit_id"
                    " AND stream = %(stream)s), 1) FROM log_heads h WHERE h.summit_id = %(summit)s",
                    {"stream": head["stream"], "summit": head["summit_id"]}).fetchone()
                if row is None or row[0] > head["last_seq"]:
                    continue  # no such log here, or the log has it all
                behind[(head["summit_id"], head["stream"])] = row[0]
        opened = 0
        for (summit_id, stream), next_seq in behind.items():
            if self._behind.get((summit_id, stream)) != next_seq:
                continue  # first sight, or the log is still moving: events may be in flight
            with self.db.transaction() as conn:
                cur = conn.execute(
                    "INSERT INTO log_gaps (summit_id, stream, from_seq) VALUES (%s, %s, %s)"
                    " ON CONFLICT (summit_id, stream) DO NOTHING", (summit_id, stream, next_seq))
                opened += cur.rowcount
            log.warning("%s of summit %s: the producer is ahead of the log at seq %d with no progress;"
                        " treating the tail as lost in transit", stream, summit_id, next_seq)
        self._behind = behind
        return opened


def fill_gaps(db: Database, republish: Republisher | Callable[[str, str, int], None],
              base_wait: float = 1.0, max_wait: float = 60.0) -> int:
    """One round: request re-publication for every open gap that is due; returns requests made."""
    with db.transaction() as conn:
        due = conn.execute(
            "SELECT summit_id, stream, from_seq, requests FROM log_gaps"
            " WHERE last_requested_at IS NULL"
            "    OR last_requested_at < now() - make_interval(secs => least(%s * power(2, requests), %s))",
            (base_wait, max_wait)).fetchall()
    made = 0
    for summit_id, stream, from_seq, _ in due:
        try:
            republish(stream, str(summit_id), from_seq)
            made += 1
            log.warning("gap in %s of summit %s at seq %d: asked the producer to re-publish", stream, summit_id, from_seq)
        except (requests.RequestException, LookupError) as e:
            log.warning("gap in %s of summit %s at seq %d: request failed: %s", stream, summit_id, from_seq, e)
        with db.transaction() as conn:
            conn.execute("UPDATE log_gaps SET last_requested_at = now(), requests = requests + 1"
                         " WHERE summit_id = %s AND stream = %s", (summit_id, stream))
    return made
