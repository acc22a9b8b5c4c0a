"""REST adapter of the agenda: topic nominations."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import abort

from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema
from services.core.auth import requires
from services.core.runtime import runtime
from services.core.summits import summit_exists

from .domain import nominate_topic
from .schemas import TopicCreateSchema, TopicListSchema, TopicSchema

blp = Blueprint("topics", __name__, url_prefix="/v1/summits/<uuid:summit_id>/topics",
                description="Topics nominated for a summit's own agenda")

_COLUMNS = "topic_id, summit_id, title, description, seq, nominated_at"


def _row(r) -> dict:
    return {"topic_id": r[0], "summit_id": r[1], "title": r[2], "description": r[3], "seq": r[4],
            "nominated_at": r[5].isoformat()}


@blp.route("")
class Topics(MethodView):
    @blp.response(200, TopicListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id):
        """The nominated topics of a summit, in nomination order (public)."""
        with runtime().db.transaction() as conn:
            if not summit_exists(conn, str(summit_id)):
                abort(404, message=f"no summit {summit_id}")
            rows = conn.execute(f"SELECT {_COLUMNS} FROM topics WHERE summit_id = %s ORDER BY seq",
                                (summit_id,)).fetchall()
        return {"topics": [_row(r) for r in rows]}

    @requires("participant", "facilitator", "organiser")
    @blp.arguments(TopicCreateSchema)
    @blp.response(201, TopicSchema)
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def post(self, body, summit_id):
        """Nominate a topic for the summit's own agenda (its participants, facilitators, organisers)."""
        rt = runtime()
        topic_id, event = nominate_topic(str(summit_id), body["title"], body["description"])
        with rt.store.transaction() as tx:
            if not summit_exists(tx.conn, str(summit_id)):
                abort(404, message=f"no summit {summit_id}")
            (recorded,) = tx.append(str(summit_id), [event])
            row = tx.conn.execute(
                f"INSERT INTO topics (topic_id, summit_id, title, description, seq)"
                f" VALUES (%s, %s, %s, %s, %s) RETURNING {_COLUMNS}",
                (topic_id, summit_id, recorded.payload["title"], recorded.payload["description"], recorded.seq),
            ).fetchone()
        return _row(row)
