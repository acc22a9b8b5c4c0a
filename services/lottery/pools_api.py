"""Stage 2: pools (respondents and nominees), panel distributions (background jobs), the panel
draw and replacements of drop-outs."""

from __future__ import annotations

from flask.views import MethodView

from services.core.auth import requires
from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema
from services.core.events import NewEvent

from . import jobs, repo, rounds
from .uow import PREFIX, job_location, now, reading, vocabulary, writing
from .domain import (
    check_not_drawn, check_pool_name, check_quotas_fit, check_round_for, current_panel,
    member_event, nominee_row, panel_payload, replacement_payload, row_json,
)
from .errors import LotteryConflictError, LotteryInvalidError, LotteryNotFoundError
from .extract import feature_counts
from .schemas import (
    LotteryDistributionListSchema, LotteryDistributionRequestSchema, LotteryDistributionSchema,
    LotteryJobSchema, LotteryMembersAddedSchema, LotteryNomineesSchema, LotteryPanelDrawSchema,
    LotteryPanelSchema, LotteryPoolListSchema, LotteryPoolSchema, LotteryReplacementRequestSchema,
)

blp = Blueprint("lottery_pools", __name__, url_prefix=PREFIX,
                description="Pools, panel distributions (jobs), the panel draw and replacements")

_WRITE_ERRORS = (401, 403, 404, 409, 422)


def _documented(view):
    for status in _WRITE_ERRORS:
        view = blp.alt_response(status, schema=ProblemSchema)(view)
    return view


def _pool(pool: str) -> str:
    try:
        check_pool_name(pool)
    except LotteryInvalidError:
        raise LotteryNotFoundError(f"no pool {pool!r}: pool names are a-z 0-9 _") from None
    return pool


def _job_json(job: dict, summit_id: str) -> dict:
    job["location"] = job_location(summit_id, job["job_id"])
    return job


def _panel_json(panel: dict) -> dict:
    pairs = [(r["dropped"], r["replacement"]) for r in panel["replacements"]]
    return {**panel, "members": current_panel(panel["drawn"], pairs)}


@blp.route("/pools")
class Pools(MethodView):
    @blp.response(200, LotteryPoolListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id):
        """The summit's pools and their sizes (public)."""
        with reading(summit_id) as (conn, sid):
            return {"pools": [{"pool": p, "members": n} for p, n in repo.pools(conn, sid)]}


@blp.route("/pools/<pool>")
class Pool(MethodView):
    @blp.response(200, LotteryPoolSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id, pool):
        """A pool's members (pseudonymous, as in the log) and counts per feature value (public)."""
        with reading(summit_id) as (conn, sid):
            members = repo.pool_members(conn, sid, _pool(pool))
        features = sorted({f for m in members for f in m.features})
        return {"pool": pool, "count": len(members), "feature_counts": feature_counts(members, features),
                "members": [row_json(m) for m in members]}


@blp.route("/pools/<pool>/members")
class Members(MethodView):
    @requires("organiser")
    @blp.arguments(LotteryNomineesSchema)
    @blp.response(201, LotteryMembersAddedSchema)
    @_documented
    def post(self, body, summit_id, pool):
        """Add nominees to a stakeholder pool (organiser): employers, government, free_thinkers …
        (not `respondents`, which invitees join with their code). Pseudonyms and household
        ids are opaque (32 lowercase hex characters; a pseudonym is generated when none is
        given), features only the charter's declared names and values."""
        check_pool_name(pool, nominees=True)
        with writing(summit_id) as (tx, sid):
            declared = vocabulary(tx.conn, sid)
            rows = [nominee_row(m["pseudonym"], m["household"], m["features"], declared) for m in body["members"]]
            if len({r.pseudonym for r in rows}) != len(rows):
                raise LotteryInvalidError("a pseudonym occurs twice in the request")
            if repo.load_panel(tx.conn, sid, pool) is not None:
                raise LotteryConflictError(f"the panel of pool {pool!r} has been drawn")
            taken = [r.pseudonym for r in rows if repo.has_member(tx.conn, sid, pool, r.pseudonym)]
            if taken:
                raise LotteryConflictError(f"already in pool {pool!r}: {', '.join(taken[:10])}")
            recorded = tx.append(sid, [member_event(sid, pool, r) for r in rows])
            for row, event in zip(rows, recorded):
                repo.add_member(tx.conn, sid, pool, row, event.seq)
        return {"pool": pool, "added": [row_json(r) for r in rows]}


@blp.route("/pools/<pool>/distributions")
class Distributions(MethodView):
    @blp.response(200, LotteryDistributionListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id, pool):
        """The pool's committed panel distributions (public)."""
        with reading(summit_id) as (conn, sid):
            found = repo.distributions(conn, sid, _pool(pool))
        return {"distributions": [_distribution_json(d, with_probabilities=False) for d in found]}

    @requires("organiser")
    @blp.arguments(LotteryDistributionRequestSchema)
    @blp.response(202, LotteryJobSchema, headers={"Location": {
        "description": "the job, to poll", "schema": {"type": "string"}}})
    @_documented
    def post(self, body, summit_id, pool):
        """Ask for a fair panel distribution of the pool under quotas (organiser). Answers 202 with
        a job: the LEXIMIN computation runs in the background; when it succeeds the distribution
        is committed to the log; infeasible quotas end the job `failed` with a diagnosis."""
        with writing(summit_id) as (tx, sid):
            _pool(pool)
            members = repo.pool_members(tx.conn, sid, pool)
            quotas = check_quotas_fit(body["quotas"], body["panel_size"], members)
            _, last = repo.pool_head(tx.conn, sid, pool)
            job = jobs.enqueue_distribution(tx.conn, sid, pool, body["panel_size"], quotas, last)
        body = _job_json(job, sid)
        return body, 202, {"Location": body["location"]}


def _distribution_json(d: dict, *, with_probabilities: bool) -> dict:
    out = {k: d[k] for k in ("distribution_id", "pool", "panel_size", "quotas", "members", "members_root",
                             "panel_count", "total_weight", "weights", "panels_root", "chunks",
                             "committed_seq", "committed_at", "job_id")}
    out["fairness"] = d["report"]["fairness"]
    if with_probabilities:
        out["probabilities"] = []
        for pseudonym, text in sorted(d["report"]["probabilities"].items()):
            num, den = (int(x) for x in text.split("/"))
            out["probabilities"].append({"pseudonym": pseudonym, "probability": text,
                                         "per_million": (num * 1_000_000 + den // 2) // den})
    return out


@blp.route("/pools/<pool>/distributions/<uuid:distribution_id>")
class OneDistribution(MethodView):
    @blp.response(200, LotteryDistributionSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id, pool, distribution_id):
        """A committed distribution: weights, each member's exact selection probability and the
        fairness report (public)."""
        with reading(summit_id) as (conn, sid):
            d = repo.distribution(conn, sid, str(distribution_id))
        if d is None or d["pool"] != pool:
            raise LotteryNotFoundError(f"no distribution {distribution_id} of pool {pool!r}")
        return _distribution_json(d, with_probabilities=True)


@blp.route("/jobs/<uuid:job_id>")
class Job(MethodView):
    @blp.response(200, LotteryJobSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id, job_id):
        """A background job: its state, and when it failed, why (for infeasible quotas: the
        conflicting quotas and the smallest relaxation) (public)."""
        with reading(summit_id) as (conn, sid):
            job = jobs.job(conn, sid, str(job_id))
        if job is None:
            raise LotteryNotFoundError(f"no job {job_id} in summit {sid}")
        return _job_json(job, sid)


@blp.route("/pools/<pool>/draws")
class Draws(MethodView):
    @requires("organiser")
    @blp.arguments(LotteryPanelDrawSchema)
    @blp.response(201, LotteryPanelSchema)
    @_documented
    def post(self, body, summit_id, pool):
        """Draw the pool's panel from a committed distribution with a finalised panel round
        (organiser; once per pool)."""
        with writing(summit_id) as (tx, sid):
            _pool(pool)
            check_not_drawn(repo.load_panel(tx.conn, sid, pool) is not None, pool)
            d = repo.distribution(tx.conn, sid, str(body["distribution_id"]))
            if d is None or d["pool"] != pool:
                raise LotteryNotFoundError(f"no distribution {body['distribution_id']} of pool {pool!r}")
            rnd = repo.load_round(tx.conn, sid, str(body["round_id"]))
            if rnd is None:
                raise LotteryNotFoundError(f"no round {body['round_id']} in summit {sid}")
            designated = rounds.designated(repo.load_rounds(tx.conn, sid), "panel", d["committed_seq"], now())
            seed = check_round_for(rnd, "panel", "distribution", d["committed_seq"], designated)
            latest = rounds.designated_distribution(repo.distribution_commits(tx.conn, sid, pool),
                                                    rnd.first_contribution_seq)
            if latest != d["distribution_id"]:
                raise LotteryConflictError(f"the panel must be drawn from distribution {latest}, the pool's "
                                           "last one committed before the round's first contribution")
            payload = panel_payload(repo.as_distribution(d), rnd.round_id, seed)
            tx.append(sid, [NewEvent("lottery.panel.drawn", payload, repo.panel_aggregate(sid, pool), 1)])
            panel = repo.load_panel(tx.conn, sid, pool)
        return _panel_json(panel)


@blp.route("/pools/<pool>/panel")
class Panel(MethodView):
    @blp.response(200, LotteryPanelSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id, pool):
        """The drawn panel, its replacements and the panel now (public)."""
        with reading(summit_id) as (conn, sid):
            panel = repo.load_panel(conn, sid, _pool(pool))
        if panel is None:
            raise LotteryNotFoundError(f"the panel of pool {pool!r} has not been drawn")
        return _panel_json(panel)


@blp.route("/pools/<pool>/replacements")
class Replacements(MethodView):
    @requires("organiser")
    @blp.arguments(LotteryReplacementRequestSchema)
    @blp.response(201, LotteryPanelSchema)
    @_documented
    def post(self, body, summit_id, pool):
        """Replace a panel member who dropped out by the next eligible reserve that keeps every
        quota and the household rule (organiser); 409 when there is none."""
        with writing(summit_id) as (tx, sid):
            _pool(pool)
            panel = repo.load_panel(tx.conn, sid, pool)
            if panel is None:
                raise LotteryNotFoundError(f"the panel of pool {pool!r} has not been drawn")
            if panel["distribution_id"] != str(body["distribution_id"]):
                raise LotteryInvalidError(f"the panel of pool {pool!r} was drawn from distribution "
                                          f"{panel['distribution_id']}")
            d = repo.distribution(tx.conn, sid, panel["distribution_id"])
            rnd = repo.load_round(tx.conn, sid, panel["round_id"])
            members = repo.pool_members(tx.conn, sid, pool, d["members_through_seq"])
            pairs = [(r["dropped"], r["replacement"]) for r in panel["replacements"]]
            payload = replacement_payload(repo.as_distribution(d), rnd.round_id, bytes.fromhex(rnd.seed), members,
                                          panel["drawn"], pairs, body["dropped"], body["accept_vacancy"])
            tx.append(sid, [NewEvent("lottery.panel.replaced", payload, repo.panel_aggregate(sid, pool),
                                     panel["version"] + 1)])
            panel = repo.load_panel(tx.conn, sid, pool)
        return _panel_json(panel)
