"""REST adapter of the transparency logs (docs/ledger.md): checkpoints, key, entries, proofs,
export bundle and quarantine. Everything here is public: no credential is needed to audit."""

from __future__ import annotations

import base64
import hashlib
import json

from flask import Response, current_app, request, stream_with_context
from flask.views import MethodView
from flask_smorest import abort
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from g1000_proofs.merkle import consistency_proof, inclusion_proof
from g1000_proofs.tree_shape import consistency_proof_nodes, inclusion_proof_nodes
from services.core.canonical import parse_json_object
from services.core.errors import CanonicalizationError
from services.core.jsonbody import Blueprint
from services.core.problem import ProblemSchema
from services.core.runtime import runtime

from .checkpoints import LogKey
from .log import node_reader

blp = Blueprint("logs", __name__, url_prefix="/v1/logs/<uuid:log_id>", description="Transparency logs")

MAX_PAGE = 1000


def b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def log_key() -> LogKey:
    return current_app.extensions["g1000_log_key"]


def _size(conn, log_id) -> int:
    row = conn.execute("SELECT size FROM log_heads WHERE summit_id = %s", (log_id,)).fetchone()
    if row is None:
        abort(404, message=f"no log {log_id}")
    return row[0]


class Strict(Schema):
    class Meta:
        unknown = RAISE


class RangeArgs(Strict):
    start = fields.Integer(required=True, validate=validate.Range(min=0))
    end = fields.Integer(required=True, validate=validate.Range(min=0))

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data["end"] < data["start"]:
            raise ValidationError("end must not be before start", "end")


class InclusionArgs(Strict):
    index = fields.Integer(required=True, validate=validate.Range(min=0))
    tree_size = fields.Integer(required=True, validate=validate.Range(min=1))

    @validates_schema
    def _inside(self, data, **kwargs):
        if data["index"] >= data["tree_size"]:
            raise ValidationError("index must be less than tree_size", "index")


class ConsistencyArgs(Strict):
    first = fields.Integer(required=True, validate=validate.Range(min=1))
    second = fields.Integer(required=True, validate=validate.Range(min=1))

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data["first"] > data["second"]:
            raise ValidationError("first must not exceed second", "first")


class EntrySchema(Schema):
    index = fields.Integer()
    event = fields.Dict()
    leaf_hash = fields.String()
    chain = fields.String()


class EntriesSchema(Schema):
    entries = fields.List(fields.Nested(EntrySchema))


class InclusionSchema(Schema):
    index = fields.Integer()
    tree_size = fields.Integer()
    hashes = fields.List(fields.String())


class ConsistencySchema(Schema):
    first = fields.Integer()
    second = fields.Integer()
    hashes = fields.List(fields.String())


class CheckpointSchema(Schema):
    tree_size = fields.Integer()
    note = fields.String()


class CheckpointListSchema(Schema):
    checkpoints = fields.List(fields.Nested(CheckpointSchema))


@blp.route("/checkpoint")
class LatestCheckpoint(MethodView):
    @blp.response(200, content_type="text/plain")
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, log_id):
        """The latest signed checkpoint (C2SP signed note)."""
        with runtime().db.transaction() as conn:
            _size(conn, log_id)
            row = conn.execute("SELECT note FROM log_checkpoints WHERE summit_id = %s"
                               " ORDER BY tree_size DESC LIMIT 1", (log_id,)).fetchone()
        if row is None:
            abort(404, message=f"log {log_id} has no checkpoint yet")
        return Response(row[0], mimetype="text/plain")


@blp.route("/key")
class Key(MethodView):
    @blp.response(200, content_type="text/plain")
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, log_id):
        """The log's signed-note verifier key (`name+hex8+base64`)."""
        with runtime().db.transaction() as conn:
            _size(conn, log_id)
        return Response(log_key().verifier_key(str(log_id)) + "\n", mimetype="text/plain")


@blp.route("/checkpoints")
class Checkpoints(MethodView):
    @blp.response(200, CheckpointListSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, log_id):
        """Every checkpoint kept, by ascending tree size."""
        with runtime().db.transaction() as conn:
            _size(conn, log_id)
            rows = conn.execute("SELECT tree_size, note FROM log_checkpoints WHERE summit_id = %s"
                                " ORDER BY tree_size", (log_id,)).fetchall()
        return {"checkpoints": [{"tree_size": r[0], "note": r[1]} for r in rows]}


@blp.route("/entries")
class Entries(MethodView):
    @blp.arguments(RangeArgs, location="query")
    @blp.response(200, EntriesSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, args, log_id):
        """Entries [start, end), at most 1000 per page; `end` beyond the log is clipped."""
        end = min(args["end"], args["start"] + MAX_PAGE)
        with runtime().db.transaction() as conn:
            _size(conn, log_id)
            rows = conn.execute("SELECT idx, body, leaf_hash, chain FROM log_entries WHERE summit_id = %s"
                                " AND idx >= %s AND idx < %s ORDER BY idx", (log_id, args["start"], end)).fetchall()
        return {"entries": [{"index": r[0], "event": _event_or_none(r[1]), "leaf_hash": b64(r[2]),
                             "chain": b64(r[3])} for r in rows]}


def _event_or_none(body) -> dict | None:
    """The stored event as JSON; None if the stored bytes are no longer a JSON object (a damaged
    or tampered database): the entry is still served, so a verifier can name the bad index."""
    try:
        return parse_json_object(bytes(body))
    except CanonicalizationError:
        return None


@blp.route("/proofs/inclusion")
class Inclusion(MethodView):
    @blp.arguments(InclusionArgs, location="query")
    @blp.response(200, InclusionSchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, args, log_id):
        """RFC 9162 inclusion proof of entry `index` in the tree of `tree_size` entries."""
        index, size = args["index"], args["tree_size"]
        with runtime().db.transaction() as conn:
            if size > _size(conn, log_id):
                abort(400, message=f"tree_size {size} is larger than the log")
            get = node_reader(conn, str(log_id), inclusion_proof_nodes(index, size))
            hashes = inclusion_proof(index, size, get)
        return {"index": index, "tree_size": size, "hashes": [b64(h) for h in hashes]}


@blp.route("/proofs/consistency")
class Consistency(MethodView):
    @blp.arguments(ConsistencyArgs, location="query")
    @blp.response(200, ConsistencySchema)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, args, log_id):
        """RFC 9162 consistency proof between tree sizes `first` and `second` (first >= 1)."""
        first, second = args["first"], args["second"]
        with runtime().db.transaction() as conn:
            if second > _size(conn, log_id):
                abort(400, message=f"second {second} is larger than the log")
            get = node_reader(conn, str(log_id), consistency_proof_nodes(first, second))
            hashes = consistency_proof(first, second, get)
        return {"first": first, "second": second, "hashes": [b64(h) for h in hashes]}


@blp.route("/export")
class Export(MethodView):
    @blp.response(200, content_type="application/x-ndjson")
    @blp.alt_response(304, description="Not Modified: the If-None-Match names the current bundle's ETag")
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, log_id):
        """Self-contained bundle for offline audit, cut at the latest checkpoint (docs/ledger.md)."""
        rt, key = runtime(), log_key()
        log_id = str(log_id)
        with rt.db.transaction() as conn:
            _size(conn, log_id)
            row = conn.execute("SELECT tree_size, note FROM log_checkpoints WHERE summit_id = %s"
                               " ORDER BY tree_size DESC LIMIT 1", (log_id,)).fetchone()
        latest, note = row if row is not None else (0, "")
        etag = bundle_etag(log_id, key.verifier_key(log_id), latest, note)
        headers = {"ETag": f'"{etag}"', "Cache-Control": EXPORT_CACHE_CONTROL}
        if request.if_none_match.contains_weak(etag):  # RFC 9110 section 13.1.2: weak comparison
            return Response(status=304, headers=headers)
        headers["Content-Disposition"] = f'attachment; filename="g1000-log-{log_id}.jsonl"'
        return Response(stream_with_context(_bundle_lines(rt, key, log_id, latest)),
                        mimetype="application/x-ndjson", headers=headers)


# A bundle changes only when a newer checkpoint is signed; caches may keep it briefly and then
# revalidate with If-None-Match, which costs one indexed read instead of the whole log (issue 10 L3).
EXPORT_CACHE_CONTROL = "public, max-age=10"


def bundle_etag(log_id: str, verifier_key: str, tree_size: int, note: str) -> str:
    """The bundle's entity tag. The bundle is cut at the latest checkpoint and the log is
    append-only, so its bytes are fixed by the bundle version, the log, its key and that
    checkpoint (whose note names the tree size and root hash): a digest of those, computed
    before any entry is read."""
    material = "\n".join(("g1000-log-bundle/1", log_id, verifier_key, str(tree_size), note))
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:32]


def _bundle_lines(rt, key: LogKey, log_id: str, size: int):
    def line(obj) -> str:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":")) + "\n"

    yield line({"kind": "header", "format": "g1000-log-bundle", "version": 1, "log_id": log_id,
                "origin": key.origin(log_id), "log_key": key.verifier_key(log_id), "tree_size": size})
    with rt.db.transaction() as conn:
        for start in range(0, size, MAX_PAGE):
            rows = conn.execute("SELECT idx, body, leaf_hash, chain FROM log_entries WHERE summit_id = %s"
                                " AND idx >= %s AND idx < %s ORDER BY idx",
                                (log_id, start, min(size, start + MAX_PAGE))).fetchall()
            for idx, body, leaf, chain in rows:
                yield line({"kind": "entry", "index": idx, "event": _event_or_none(body), "leaf_hash": b64(leaf),
                            "chain": b64(chain)})
        for tree_size, note in conn.execute("SELECT tree_size, note FROM log_checkpoints WHERE summit_id = %s"
                                            " AND tree_size <= %s ORDER BY tree_size", (log_id, size)):
            yield line({"kind": "checkpoint", "tree_size": tree_size, "note": note})
        for stream, key_id, public_key, idx in conn.execute(
                "SELECT stream, key_id, public_key, idx FROM log_keys WHERE summit_id = %s AND idx < %s"
                " ORDER BY idx", (log_id, size)):
            yield line({"kind": "key", "stream": stream, "key_id": key_id, "public_key": bytes(public_key).hex(),
                        "index": idx})


@blp.route("/quarantine")
class Quarantine(MethodView):
    @blp.response(200)
    @blp.alt_response(404, schema=ProblemSchema)
    def get(self, log_id):
        """Events for this summit that the ledger refused to append, with the reason."""
        with runtime().db.transaction() as conn:
            _size(conn, log_id)
            rows = conn.execute("SELECT event_id, event_type, reason, source, received_at FROM quarantine"
                                " WHERE summit_id = %s ORDER BY id", (log_id,)).fetchall()
        return {"quarantine": [{"event_id": str(r[0]) if r[0] else None, "event_type": r[1], "reason": r[2],
                                "source": r[3], "received_at": r[4].isoformat()} for r in rows]}
