"""REST adapter of the ledger: summits (create, list, read) and per-stream progress."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort

from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema
from services.core.auth import current_claims, requires
from services.core.runtime import runtime

from .progress import stream_progress
from .summits import open_summit
from .schemas import StreamsSchema, SummitCreateSchema, SummitListSchema, SummitSchema

blp = Blueprint("summits", __name__, url_prefix="/v1/summits", description="Summits and their charters")

_COLUMNS = "summit_id, theme, municipality, date, seats, created_at, register"


def _row(r) -> dict:
    return {"summit_id": r[0], "theme": r[1], "municipality": r[2], "date": r[3],
            "seats": r[4], "created_at": r[5].isoformat(), "register": r[6]}


@blp.route("")
class Summits(MethodView):
    @blp.response(200, SummitListSchema)
    def get(self):
        """List summits (public)."""
        with runtime().db.transaction() as conn:
            rows = conn.execute(f"SELECT {_COLUMNS} FROM summits ORDER BY created_at, summit_id").fetchall()
        return {"summits": [_row(r) for r in rows]}

    @requires("organiser")
    @blp.arguments(SummitCreateSchema)
    @blp.response(201, SummitSchema)
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    def post(self, body):
        """Create a summit: its charter and the service keys become the genesis of its log.

        Organisers only, and only for the municipality their token names.
        """
        tenant = current_claims().tenant
        if body["municipality"] != tenant:
            abort(403, message=f"an organiser of {tenant!r} may not create a summit for {body['municipality']!r}")
        rt = runtime()
        summit_id = open_summit(rt, theme=body["theme"], municipality=body["municipality"],
                                day=body["date"], seats=body["seats"],
                                features=body["register"]["features"])
        with rt.db.transaction() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM summits WHERE summit_id = %s", (summit_id,)).fetchone()
        return _row(row)


@blp.route("/<uuid:summit_id>")
class Summit(MethodView):
    @blp.response(200, SummitSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id):
        """Read one summit's charter (public)."""
        with runtime().db.transaction() as conn:
            row = conn.execute(f"SELECT {_COLUMNS} FROM summits WHERE summit_id = %s", (summit_id,)).fetchone()
        if row is None:
            abort(404, message=f"no summit {summit_id}")
        return _row(row)


@blp.route("/<uuid:summit_id>/streams")
class Streams(MethodView):
    @blp.response(200, StreamsSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id):
        """How many events of each stream the ledger has received for a summit (public)."""
        with runtime().db.transaction() as conn:
            if conn.execute("SELECT 1 FROM summits WHERE summit_id = %s", (summit_id,)).fetchone() is None:
                abort(404, message=f"no summit {summit_id}")
            progress = stream_progress(conn, str(summit_id))
        return {"summit_id": summit_id, "streams": progress}
