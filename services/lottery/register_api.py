"""The register extract: import it once per summit (organiser), read its commitment (public)."""

from __future__ import annotations

from flask.views import MethodView

from services.core.auth import requires
from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema
from services.core.runtime import runtime

from . import jobs, repo
from .uow import PREFIX, job_location, reading, vocabulary, writing
from .errors import AlreadyDoneError, KAnonymityError, LotteryNotFoundError
from .extract import parse_extract
from .privacy import check as k_anonymity
from .schemas import (
    LotteryExtractProblemSchema, LotteryJobSchema, LotteryRegisterImportSchema, LotteryRegisterSchema,
)

blp = Blueprint("lottery_register", __name__, url_prefix=f"{PREFIX}/register",
                description="The pseudonymised population-register extract of a summit's lottery")


def require_k_anonymous(extract, k: int) -> None:
    """Refuse (422) a register whose published rows would single out a resident or a household.
    Register contract 2 reveals only the stratum feature and the reached households, but the
    stratum feature is chosen only at the draw, so all features are checked together."""
    report = k_anonymity(extract.rows, extract.features, k)
    if report.ok:
        return
    messages = report.messages()
    raise KAnonymityError(
        f"the register would single people out (k-anonymity with k = {k}): " + "; ".join(messages)
        + ". Coarsen the feature bands (or merge small values) and import again; nothing was stored",
        errors=[{"line": 1, "column": None, "message": m} for m in messages],
        extensions={"k_anonymity": report.as_json()})


def _public(reg: dict) -> dict:
    return {k: reg[k] for k in ("register_id", "count", "root", "chunks", "features", "feature_counts",
                                "committed_seq", "committed_at")}


@blp.route("")
class Register(MethodView):
    @blp.response(200, LotteryRegisterSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id):
        """The committed register: count, Merkle root and counts per feature value (public; the
        log holds each row as a pseudonym and salted commitments, `lottery.register.chunk` v2,
        and only what the invitation draw reaches is revealed, docs/lottery.md)."""
        with reading(summit_id) as (conn, sid):
            reg = repo.register(conn, sid)
            pending = jobs.open_job(conn, sid, "register") if reg is None else None
        if reg is None:
            waiting = f" (job {pending} is committing it)" if pending else ""
            raise LotteryNotFoundError(f"summit {sid} has no register yet{waiting}")
        return _public(reg)

    @requires("organiser")
    @blp.arguments(LotteryRegisterImportSchema)
    @blp.response(202, LotteryJobSchema, headers={"Location": {
        "description": "the job that commits the register, to poll", "schema": {"type": "string"}}})
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    @blp.alt_response(422, schema=LotteryExtractProblemSchema, content_type="application/problem+json")
    def post(self, body, summit_id):
        """Import the register extract (organiser; once per summit). It is checked now: refused
        whole (422), with every error's line and column, unless its columns are exactly
        `pseudonym`, `household` and the charter's declared features, every feature value one
        of its declared values and every pseudonym and household id opaque (32 lowercase hex
        characters); or when its published features would single out a resident or a
        household (k-anonymity; the problem's `k_anonymity` member has the counts). A good
        extract is committed to the log by a background job (202, with the job to poll):
        signing a large register takes longer than a request may."""
        with reading(summit_id) as (conn, sid):
            declared = vocabulary(conn, sid)
        extract = parse_extract(body["csv"], declared)
        require_k_anonymous(extract, runtime().config.register_k_anonymity)
        with writing(summit_id) as (tx, sid):
            if repo.register(tx.conn, sid) is not None:
                raise AlreadyDoneError(f"summit {sid} already has a register; it cannot be replaced")
            pending = jobs.open_job(tx.conn, sid, "register")
            if pending:
                raise AlreadyDoneError(f"the register of summit {sid} is being committed (job {pending})")
            job = jobs.enqueue_register(tx.conn, sid, extract.rows, extract.features)
        job["location"] = job_location(sid, job["job_id"])
        return job, 202, {"Location": job["location"]}
