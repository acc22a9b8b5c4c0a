"""REST adapter of the agenda: topic nominations, the nominations window, withholdings and the
texts export (docs/agenda.md).

Every change appends its event and updates the read model in one transaction; an AgendaError
raised inside it rolls both back and becomes a problem+json answer (install below), so a refused
request changes nothing.
"""

from __future__ import annotations

from flask import Flask
from flask.views import MethodView

from services.core import problem_types
from services.core.auth import requires
from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema, problem
from services.core.runtime import runtime
from services.core.summits import summit_exists

from .domain import merge_topics, nominate_topic, nominations_must_be_open, set_nominations, split_topic, withhold_text
from .errors import AgendaConflictError, AgendaError, AgendaNotFoundError  # noqa: F401 (the map)
from .schemas import (
    MergeCreateSchema,
    NominationsSchema,
    NominationsStateSchema,
    SplitCreateSchema,
    SplitResultSchema,
    TextsExportSchema,
    TopicCreateSchema,
    TopicListSchema,
    TopicSchema,
    WithholdingCreateSchema,
)

blp = Blueprint("topics", __name__, url_prefix="/v1/summits/<uuid:summit_id>/topics",
                description="Topics nominated for a summit's own agenda")

# The one place where the agenda's errors meet HTTP (nearest class in the MRO wins).
PROBLEM_TYPES: dict[type, str] = {
    AgendaNotFoundError: "not-found",       # 404
    AgendaConflictError: "conflict",        # 409
    AgendaError: "bad-request",             # 400
}


def install(app: Flask) -> None:
    @app.errorhandler(AgendaError)
    def _agenda_error(e: AgendaError):
        slug = next(PROBLEM_TYPES[cls] for cls in type(e).__mro__ if cls in PROBLEM_TYPES)
        kind = problem_types.by_slug(slug)
        return problem(kind.status, kind.title, e.message, kind=kind.slug)


_COLUMNS = ("topic_id, summit_id, title, description, seq, nominated_at, payload_v, language, version,"
            " merged_into, split, split_from")
_TEXT_COLUMNS = "topic_id, field, language, sha256, length, text, withheld, withheld_seq"


def _known(conn, summit_id: str) -> None:
    if not summit_exists(conn, summit_id):
        raise AgendaNotFoundError(f"no summit {summit_id}")


def _text(r) -> dict:
    return {"field": r[1], "language": r[2], "sha256": r[3], "length": r[4], "text": r[5],
            "withheld": None if r[6] is None else {"reason": r[6], "seq": r[7]}}


def _state(merged_into, split) -> str:
    return "merged" if merged_into is not None else "split" if split else "open"


def _topics(conn, summit_id: str, topic_ids: list[str] | None = None) -> list[dict]:
    """The summit's topics in log order (or those of `topic_ids`), with texts and provenance."""
    rows = conn.execute(f"SELECT {_COLUMNS} FROM topics WHERE summit_id = %s ORDER BY seq, topic_id",
                        (summit_id,)).fetchall()
    merged_from: dict = {}
    split_into: dict = {}
    for r in rows:
        if r[9] is not None:
            merged_from.setdefault(r[9], []).append(str(r[0]))
        if r[11] is not None:
            split_into.setdefault(r[11], []).append(str(r[0]))
    if topic_ids is not None:
        wanted = {str(t) for t in topic_ids}
        rows = [r for r in rows if str(r[0]) in wanted]
    texts: dict = {}
    if rows:
        for r in conn.execute(f"SELECT {_TEXT_COLUMNS} FROM topic_texts WHERE topic_id = ANY(%s) ORDER BY field",
                              ([r[0] for r in rows],)).fetchall():
            texts.setdefault(r[0], []).append(_text(r))
    out = []
    for r in rows:
        mine = texts.get(r[0], [])
        by_field = {t["field"]: t["text"] for t in mine}   # the words, None once withheld
        v2 = r[6] >= 2
        out.append({"topic_id": r[0], "summit_id": r[1], "payload_v": r[6], "language": r[7], "seq": r[4],
                    "nominated_at": r[5].isoformat(), "texts": mine,
                    "title": by_field.get("title") if v2 else r[2],
                    # a v2 topic without a description has no row for it
                    "description": by_field.get("description", "") if v2 else r[3],
                    "state": _state(r[9], r[10]), "merged_into": r[9], "merged_from": merged_from.get(r[0], []),
                    "split_from": r[11], "split_into": split_into.get(r[0], [])})
    return out


def _states(conn, summit_id: str) -> tuple[dict[str, str], dict[str, int]]:
    """Each topic's state and aggregate version, the summit's topics locked (merges and splits
    of one summit are serialised)."""
    rows = conn.execute("SELECT topic_id, merged_into, split, version FROM topics WHERE summit_id = %s"
                        " ORDER BY topic_id FOR UPDATE", (summit_id,)).fetchall()
    return {str(r[0]): _state(r[1], r[2]) for r in rows}, {str(r[0]): r[3] for r in rows}


def _store_texts(conn, topic_id: str, texts: list[dict], words: dict[str, str]) -> None:
    with conn.cursor() as cur:
        cur.executemany("INSERT INTO topic_texts (topic_id, field, language, sha256, length, text)"
                        " VALUES (%s, %s, %s, %s, %s, %s)",
                        [(topic_id, t["field"], t["language"], t["sha256"], t["length"], words[t["field"]])
                         for t in texts])


def _window(conn, summit_id: str, lock: bool = False) -> tuple[bool, int, int | None]:
    """(open, version, seq) of the summit's nominations; open since the charter when no row."""
    if lock:
        conn.execute("INSERT INTO agenda_nominations (summit_id, open, version, seq) VALUES (%s, true, 0, 0)"
                     " ON CONFLICT (summit_id) DO NOTHING", (summit_id,))
    row = conn.execute("SELECT open, version, seq FROM agenda_nominations WHERE summit_id = %s"
                       + (" FOR UPDATE" if lock else ""), (summit_id,)).fetchone()
    if row is None or row[1] == 0:
        return True, 0, None
    return row[0], row[1], row[2]


@blp.route("")
class Topics(MethodView):
    @blp.response(200, TopicListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id):
        """The nominated topics of a summit, in nomination order, with their texts (public).

        A withheld text has `text` null and `withheld` its reason; `title`/`description` are
        then null too."""
        sid = str(summit_id)
        with runtime().db.transaction() as conn:
            _known(conn, sid)
            return {"topics": _topics(conn, sid)}

    @requires("participant", "facilitator", "organiser")
    @blp.arguments(TopicCreateSchema)
    @blp.response(201, TopicSchema)
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    def post(self, body, summit_id):
        """Nominate a topic in nl, en or fr (default nl) while nominations are open (409 after
        closing). The log holds only each text's language, sha256 and length (agenda.topic.nominated v2)."""
        rt, sid = runtime(), str(summit_id)
        topic_id, event, words = nominate_topic(sid, body["title"], body["description"], body["language"])
        with rt.store.transaction() as tx:
            _known(tx.conn, sid)
            (recorded,) = tx.append(sid, [event])
            # read after appending: the append holds the stream's head, so a closing is either
            # committed (seen here) or appended after this nomination
            nominations_must_be_open(sid, _window(tx.conn, sid)[0])
            tx.conn.execute("INSERT INTO topics (topic_id, summit_id, seq, payload_v, language)"
                            " VALUES (%s, %s, %s, 2, %s)", (topic_id, sid, recorded.seq, body["language"]))
            _store_texts(tx.conn, topic_id, recorded.payload["texts"], words)
            (topic,) = _topics(tx.conn, sid, [topic_id])
        return topic


@blp.route("/<uuid:topic_id>")
class Topic(MethodView):
    @blp.response(200, TopicSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id, topic_id):
        """One topic with its texts (public)."""
        sid = str(summit_id)
        with runtime().db.transaction() as conn:
            _known(conn, sid)
            found = _topics(conn, sid, [str(topic_id)])
        if not found:
            raise AgendaNotFoundError(f"no topic {topic_id} in summit {sid}")
        return found[0]


@blp.route("/<uuid:topic_id>/withholdings")
class Withholdings(MethodView):
    @requires("facilitator", "organiser")
    @blp.arguments(WithholdingCreateSchema)
    @blp.response(201, TopicSchema)
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    def post(self, body, summit_id, topic_id):
        """Withhold one text of a topic (moderation or an erasure request): its words are deleted
        from the store, the log records agenda.text.withheld with the reason and keeps the hash."""
        rt, sid, tid = runtime(), str(summit_id), str(topic_id)
        with rt.store.transaction() as tx:
            _known(tx.conn, sid)
            row = tx.conn.execute("SELECT payload_v, version FROM topics WHERE summit_id = %s AND topic_id = %s"
                                  " FOR UPDATE", (sid, tid)).fetchone()
            if row is None:
                raise AgendaNotFoundError(f"no topic {tid} in summit {sid}")
            texts = dict(tx.conn.execute("SELECT field, withheld FROM topic_texts WHERE topic_id = %s",
                                         (tid,)).fetchall())
            event = withhold_text(sid, {"topic_id": tid, "payload_v": row[0], "version": row[1], "texts": texts},
                                  body["field"], body["reason"])
            (recorded,) = tx.append(sid, [event])
            tx.conn.execute("UPDATE topics SET version = %s WHERE topic_id = %s", (event.version, tid))
            tx.conn.execute("UPDATE topic_texts SET text = NULL, withheld = %s, withheld_seq = %s"
                            " WHERE topic_id = %s AND field = %s", (body["reason"], recorded.seq, tid, body["field"]))
            (topic,) = _topics(tx.conn, sid, [tid])
        return topic


@blp.route("/merges")
class Merges(MethodView):
    @requires("facilitator", "organiser")
    @blp.arguments(MergeCreateSchema)
    @blp.response(201, TopicSchema)
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    def post(self, body, summit_id):
        """Merge duplicate topics `from` into `into` (agenda.topics.merged): the merged ones stay
        readable with `merged_into`, the kept one lists them in `merged_from`. 409 when one of
        them was merged or split already."""
        rt, sid = runtime(), str(summit_id)
        into, sources = str(body["into"]), [str(t) for t in body["from_"]]
        with rt.store.transaction() as tx:
            _known(tx.conn, sid)
            states, versions = _states(tx.conn, sid)
            event = merge_topics(sid, states, into, sources, versions.get(into, 0))
            tx.append(sid, [event])
            tx.conn.execute("UPDATE topics SET version = %s WHERE topic_id = %s", (event.version, into))
            tx.conn.execute("UPDATE topics SET merged_into = %s WHERE topic_id = ANY(%s)",
                            (into, event.payload["from"]))
            (topic,) = _topics(tx.conn, sid, [into])
        return topic


@blp.route("/<uuid:topic_id>/splits")
class Splits(MethodView):
    @requires("facilitator", "organiser")
    @blp.arguments(SplitCreateSchema)
    @blp.response(201, SplitResultSchema)
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    def post(self, body, summit_id, topic_id):
        """Split a topic into 2-10 new ones, each with its own words (agenda.topic.split: their
        texts' hashes, no words). The split one stays readable with `split_into`."""
        rt, sid, tid = runtime(), str(summit_id), str(topic_id)
        with rt.store.transaction() as tx:
            _known(tx.conn, sid)
            states, versions = _states(tx.conn, sid)
            event, made = split_topic(sid, states, tid, versions.get(tid, 0), body["into"])
            (recorded,) = tx.append(sid, [event])
            tx.conn.execute("UPDATE topics SET version = %s, split = true WHERE topic_id = %s", (event.version, tid))
            for (new_id, language, words), part in zip(made, recorded.payload["into"]):
                tx.conn.execute("INSERT INTO topics (topic_id, summit_id, seq, payload_v, language, version,"
                                " split_from) VALUES (%s, %s, %s, 2, %s, 0, %s)",
                                (new_id, sid, recorded.seq, language, tid))
                _store_texts(tx.conn, new_id, part["texts"], words)
            (source,) = _topics(tx.conn, sid, [tid])
            parts = _topics(tx.conn, sid, [m[0] for m in made])
        order = {m[0]: i for i, m in enumerate(made)}
        return {"from_": source, "into": sorted(parts, key=lambda t: order[str(t["topic_id"])])}


@blp.route("/nominations")
class Nominations(MethodView):
    @blp.response(200, NominationsStateSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id):
        """Whether nominations are open (public): from the charter on, until the organiser closes them."""
        sid = str(summit_id)
        with runtime().db.transaction() as conn:
            _known(conn, sid)
            is_open, _, seq = _window(conn, sid)
        return {"open": is_open, "seq": seq}

    @requires("organiser")
    @blp.arguments(NominationsSchema)
    @blp.response(200, NominationsStateSchema)
    @blp.alt_response(401, schema=ProblemSchema)
    @blp.alt_response(403, schema=ProblemSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    @blp.alt_response(409, schema=ProblemSchema)
    def post(self, body, summit_id):
        """Open (`{"open": true}`) or close (`{"open": false}`) nominations; 409 when they already are so."""
        rt, sid = runtime(), str(summit_id)
        with rt.store.transaction() as tx:
            _known(tx.conn, sid)
            is_open, version, _ = _window(tx.conn, sid, lock=True)
            event = set_nominations(sid, is_open, version, body["open"])
            (recorded,) = tx.append(sid, [event])
            tx.conn.execute("UPDATE agenda_nominations SET open = %s, version = %s, seq = %s WHERE summit_id = %s",
                            (body["open"], event.version, recorded.seq, sid))
        return {"open": body["open"], "seq": recorded.seq}


@blp.route("/texts")
class Texts(MethodView):
    @blp.response(200, TextsExportSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, summit_id):
        """Every v2 topic text beside the log (public): with the log's `agenda.topic.nominated` and
        `agenda.text.withheld` events anyone checks each against its hash (`g1000-verify agenda`)."""
        sid = str(summit_id)
        with runtime().db.transaction() as conn:
            _known(conn, sid)
            rows = conn.execute(
                "SELECT t.topic_id, t.field, t.language, t.sha256, t.length, t.text, t.withheld"
                " FROM topic_texts t JOIN topics p USING (topic_id) WHERE p.summit_id = %s"
                " ORDER BY p.seq, t.field", (sid,)).fetchall()
        return {"format": "g1000-agenda-texts", "version": 1, "summit_id": sid,
                "texts": [{"topic_id": r[0], "field": r[1], "language": r[2], "sha256": r[3], "length": r[4],
                           "text": r[5], "withheld": r[6]} for r in rows]}
