"""Background jobs of the lottery: work too long for a request (docs/architecture.md §6 measured LEXIMIN
at minutes; a 200,000-row register takes tens of seconds to commit and sign).

Two kinds: `register` (commit a checked register extract: its chunks and commitment) and
`distribution` (compute a fair panel distribution and commit it). Life of a job:
1. `enqueue_*` writes the job row (`queued`) in the transaction of the POST that asked for it,
   so an accepted job is never lost. A distribution job snapshots its pool by seq
   (`members_through_seq`); a register job holds the checked rows.
2. A worker loop (`loop`, run by the consume worker beside the consumer: ServiceSpec.background)
   claims the oldest open job with `FOR UPDATE SKIP LOCKED` and a lease; a heartbeat thread
   extends the lease while the job runs. A worker that is killed leaves a lease that runs out,
   and the next worker claims the job again (at most MAX_ATTEMPTS claims in all).
3. The result is committed in one transaction with the job's new state -- the events, the read
   model, `succeeded` -- and only if this worker still holds the job and the subject is as it
   was (the pool unchanged since the snapshot, no register yet); else the job fails and says
   why. Infeasible quotas end a distribution job `failed` with the diagnosis: the conflicting
   quotas and the smallest relaxation.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import threading
import uuid
from fractions import Fraction
from typing import Callable, Iterator

from g1000_proofs.draw import Row

from services.core.errors import CoreError, TransientError

from . import repo
from .domain import (
    distribution_events, fairness, new_salts, normalise_distribution, register_events, selection_probabilities,
)
from .errors import InvalidDistributionError, SelectionFailed
from .extract import feature_counts

log = logging.getLogger(__name__)

LEASE_SECONDS = 60
HEARTBEAT_SECONDS = 15
MAX_ATTEMPTS = 3
POLL_SECONDS = 1.0


@dataclasses.dataclass(frozen=True)
class Claimed:
    job_id: str
    summit_id: str
    kind: str
    pool: str | None
    params: dict
    attempt: int
    worker: str


def _insert(conn, summit_id: str, kind: str, pool: str | None, params: dict) -> str:
    job_id = str(uuid.uuid4())
    conn.execute("INSERT INTO lottery_jobs (job_id, summit_id, kind, pool, params, state)"
                 " VALUES (%s, %s, %s, %s, %s, 'queued')", (job_id, summit_id, kind, pool, json.dumps(params)))
    return job_id


def enqueue_distribution(conn, summit_id: str, pool: str, panel_size: int, quotas: dict,
                         through_seq: int) -> dict:
    """A queued distribution job (in the caller's transaction); returns it as JSON."""
    params = {"panel_size": panel_size, "quotas": quotas, "distribution_id": str(uuid.uuid4()),
              "members_through_seq": through_seq}
    return job(conn, summit_id, _insert(conn, summit_id, "distribution", pool, params))


def enqueue_register(conn, summit_id: str, rows, features) -> dict:
    """A queued register commit of checked rows (in the caller's transaction)."""
    params = {"register_id": str(uuid.uuid4()), "features": list(features),
              "rows": [[r.pseudonym, r.household, dict(r.features)] for r in rows]}
    return job(conn, summit_id, _insert(conn, summit_id, "register", None, params))


def open_job(conn, summit_id: str, kind: str) -> str | None:
    """The id of a queued or running job of this kind for the summit."""
    r = conn.execute("SELECT job_id FROM lottery_jobs WHERE summit_id = %s AND kind = %s"
                     " AND state IN ('queued', 'running') ORDER BY created_at LIMIT 1", (summit_id, kind)).fetchone()
    return str(r[0]) if r else None


def job(conn, summit_id: str, job_id: str) -> dict | None:
    """A job as JSON (its parameters, not a register job's rows)."""
    r = conn.execute(
        "SELECT job_id, kind, pool, state, attempts, result, created_at, started_at, finished_at,"
        " params->'panel_size', params->'quotas', params->>'distribution_id', params->>'register_id'"
        " FROM lottery_jobs WHERE summit_id = %s AND job_id = %s", (summit_id, job_id)).fetchone()
    if r is None:
        return None
    done = r[3] == "succeeded"
    return {"job_id": str(r[0]), "kind": r[1], "pool": r[2], "state": r[3], "attempts": r[4],
            "panel_size": r[9], "quotas": r[10],
            "distribution_id": r[11] if done and r[1] == "distribution" else None,
            "register_id": r[12] if done and r[1] == "register" else None,
            "error": (r[5] or {}).get("error") if r[3] == "failed" else None,
            "created_at": r[6].isoformat(), "started_at": r[7].isoformat() if r[7] else None,
            "finished_at": r[8].isoformat() if r[8] else None}


def claim(db, worker: str) -> Claimed | None:
    """Lease the oldest queued job, or a running one whose lease ran out."""
    with db.transaction() as conn:
        r = conn.execute(
            "UPDATE lottery_jobs SET state = 'running', attempts = attempts + 1, worker = %s,"
            " lease_until = now() + make_interval(secs => %s), started_at = coalesce(started_at, now())"
            " WHERE job_id = (SELECT job_id FROM lottery_jobs WHERE state = 'queued'"
            "   OR (state = 'running' AND lease_until < now())"
            "   ORDER BY created_at FOR UPDATE SKIP LOCKED LIMIT 1)"
            " RETURNING job_id, summit_id, kind, pool, params, attempts", (worker, LEASE_SECONDS)).fetchone()
    if r is None:
        return None
    return Claimed(str(r[0]), str(r[1]), r[2], r[3], r[4], r[5], worker)


def _still_mine(conn, claimed: Claimed) -> bool:
    r = conn.execute("SELECT 1 FROM lottery_jobs WHERE job_id = %s AND state = 'running' AND worker = %s"
                     " AND attempts = %s FOR UPDATE", (claimed.job_id, claimed.worker, claimed.attempt)).fetchone()
    return r is not None


def _finish(conn, claimed: Claimed, state: str, result: dict) -> None:
    conn.execute("UPDATE lottery_jobs SET state = %s, result = %s, finished_at = now(), lease_until = NULL"
                 " WHERE job_id = %s", (state, json.dumps(_jsonable(result)), claimed.job_id))


def fail(db, claimed: Claimed, error: dict) -> None:
    with db.transaction() as conn:
        if _still_mine(conn, claimed):
            _finish(conn, claimed, "failed", {"error": error})


@contextlib.contextmanager
def heartbeat(db, claimed: Claimed) -> Iterator[None]:
    """Extend the lease every HEARTBEAT_SECONDS while the block runs."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT_SECONDS):
            try:
                with db.transaction() as conn:
                    conn.execute("UPDATE lottery_jobs SET lease_until = now() + make_interval(secs => %s)"
                                 " WHERE job_id = %s AND worker = %s AND attempts = %s AND state = 'running'",
                                 (LEASE_SECONDS, claimed.job_id, claimed.worker, claimed.attempt))
            except CoreError as e:
                log.warning("job %s: heartbeat failed: %s", claimed.job_id, e)

    thread = threading.Thread(target=beat, name=f"lottery-job-{claimed.job_id[:8]}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


def _jsonable(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _jsonable(dataclasses.asdict(value))
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, Fraction):
        return f"{value.numerator}/{value.denominator}"
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return str(value)


def diagnosis_json(diagnosis) -> dict:
    return {"message": str(getattr(diagnosis, "message", diagnosis)),
            "conflicts": _jsonable(list(getattr(diagnosis, "conflicts", []))),
            "relaxation": _jsonable(getattr(diagnosis, "relaxation", None))}


def select(people_rows, panel_size: int, quotas: dict):
    """(panels, weights, extra) of the LEXIMIN distribution (services.lottery.selection), or
    SelectionFailed with the diagnosis of infeasible quotas."""
    from .selection import InfeasibleQuotasError, Person, find_distribution  # heavy: numpy, HiGHS
    from .selection.errors import SelectionError

    people = [Person(m.pseudonym, dict(m.features), m.household) for m in people_rows]
    try:
        found = find_distribution(people, panel_size, quotas)
    except InfeasibleQuotasError as e:
        raise SelectionFailed({"kind": "infeasible", "message": str(e),
                               "diagnosis": diagnosis_json(e.diagnosis)}) from None
    except SelectionError as e:
        raise SelectionFailed({"kind": "invalid", "message": str(e)}) from None
    extra = {"lp_minimum": getattr(found, "lp_minimum", None), "stats": getattr(found, "stats", None)}
    return found.panels, found.weights, extra


def _compute(rt, claimed: Claimed):
    p = claimed.params
    with rt.db.transaction() as conn:
        members = repo.pool_members(conn, claimed.summit_id, claimed.pool, p["members_through_seq"])
    try:
        panels, weights, extra = select(members, p["panel_size"], p["quotas"])
    except SelectionFailed as e:
        return None, e.error
    panels, weights = normalise_distribution(panels, weights)
    return (members, panels, weights, extra), None


def _commit(rt, claimed: Claimed, members, panels, weights, extra) -> None:
    p = claimed.params
    with rt.store.transaction() as tx:
        repo.lock_summit(tx.conn, claimed.summit_id)
        if not _still_mine(tx.conn, claimed):
            log.warning("job %s: lease lost while computing; another worker owns it", claimed.job_id)
            return
        count, last = repo.pool_head(tx.conn, claimed.summit_id, claimed.pool)
        if last != p["members_through_seq"]:
            _finish(tx.conn, claimed, "failed", {"error": {
                "kind": "pool_changed", "message": f"pool {claimed.pool!r} changed while the distribution "
                "was computed; request it again"}})
            return
        try:
            events = distribution_events(claimed.summit_id, p["distribution_id"], claimed.pool,
                                         p["panel_size"], p["quotas"], members, panels, weights)
        except InvalidDistributionError as e:
            log.error("job %s: the selection produced an invalid distribution: %s", claimed.job_id, e)
            _finish(tx.conn, claimed, "failed", {"error": {"kind": "internal", "message": str(e)}})
            return
        recorded = tx.append(claimed.summit_id, events)
        probabilities = selection_probabilities(panels, weights, [m.pseudonym for m in members])
        report = _jsonable({"probabilities": probabilities, "fairness": fairness(probabilities), **extra})
        repo.save_distribution(tx.conn, claimed.summit_id, claimed.job_id, recorded[-1], panels,
                               p["members_through_seq"], report)
        _finish(tx.conn, claimed, "succeeded", {"distribution_id": p["distribution_id"]})


def _run_distribution(rt, claimed: Claimed) -> None:
    outcome, error = _compute(rt, claimed)
    if error is not None:
        fail(rt.db, claimed, error)
    else:
        _commit(rt, claimed, *outcome)


def _run_register(rt, claimed: Claimed) -> None:
    p = claimed.params
    rows = [Row(pseudonym, household, features) for pseudonym, household, features in p["rows"]]
    with rt.store.transaction() as tx:
        repo.lock_summit(tx.conn, claimed.summit_id)
        if not _still_mine(tx.conn, claimed):
            return
        if repo.register(tx.conn, claimed.summit_id) is not None:
            _finish(tx.conn, claimed, "failed", {"error": {
                "kind": "conflict", "message": "the summit has a register already"}})
            return
        salts = new_salts(rows)
        recorded = tx.append(claimed.summit_id, register_events(claimed.summit_id, p["register_id"], rows,
                                                                p["features"], salts))
        repo.save_register(tx.conn, claimed.summit_id, recorded[-1], rows, feature_counts(rows, p["features"]),
                           salts)
        _finish(tx.conn, claimed, "succeeded", {"register_id": p["register_id"]})


RUNNERS = {"distribution": _run_distribution, "register": _run_register}


def run_once(rt, worker: str | None = None) -> str | None:
    """Claim and run one job; returns its id, or None when there was nothing to do."""
    claimed = claim(rt.db, worker or _worker_name())
    if claimed is None:
        return None
    if claimed.attempt > MAX_ATTEMPTS:
        fail(rt.db, claimed, {"kind": "gave_up", "message": f"gave up after {MAX_ATTEMPTS} attempts "
                              "(the worker stopped during the job each time)"})
        return claimed.job_id
    with heartbeat(rt.db, claimed):
        try:
            RUNNERS[claimed.kind](rt, claimed)
        except TransientError:
            raise  # the lease runs out and the job is claimed again
        except Exception as e:  # a bug must neither stop the loop nor leave the job hanging
            log.exception("job %s failed", claimed.job_id)
            fail(rt.db, claimed, {"kind": "internal", "message": f"internal error ({type(e).__name__})"})
    return claimed.job_id


def _worker_name() -> str:
    return f"{os.uname().nodename}:{os.getpid()}:{threading.get_ident()}"


def loop(rt) -> Callable[[threading.Event], None]:
    """The worker loop: run jobs until `stop` is set; never dies of one job's failure."""

    def run(stop: threading.Event) -> None:
        worker = f"{_worker_name()}:{uuid.uuid4().hex[:8]}"
        while not stop.is_set():
            try:
                busy = run_once(rt, worker) is not None
            except CoreError as e:
                log.warning("lottery jobs: %s", e)
                busy = False
            if not busy:
                stop.wait(POLL_SECONDS)

    return run
