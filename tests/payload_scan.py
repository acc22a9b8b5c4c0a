"""Scan a summit's published payloads for anything outside the allow-list (issue 10 Done-when).

The log is public and permanent, so a test reads every payload of the demo summit's log and
checks, independently of the code that wrote it:

* every member name is one the event catalogue's schema for that type and version declares
  (walked recursively through nested objects and lists; the catalogue's schemas are the contract);
* every feature name (register rows, pool members, quotas, `stratify_by` of a draw and of an
  invitation round's declared `draw`, the register's feature list) is one the charter declares,
  and every feature value is one of its declared values;
* every pseudonym and household id (in rows, members, invitees, panels, replacements) is opaque;
* every other string is structured (a UUID, a hex digest, a timestamp, a date, a name of a-z 0-9
  _ -) unless it is one of the few members the catalogue declares as text: the charter's theme and
  municipality, and a seed contribution's value (random hex, dice rolls or a beacon value). Free
  text anywhere else (a name in a seat group, an address in a party name) is reported, and so are
  the agenda's words: since `agenda.topic.nominated` v2 a topic is only the language, sha256 and
  length of its texts (docs/agenda.md), and a v1 nomination's title and description, still valid
  in the catalogue, are reported as free text (issue 14).

Pure: `scan(events, vocabulary)` returns the problems found (empty: clean), each naming the
entry index, the event type and the path of the member.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from g1000_proofs.vocabulary import check_features, is_opaque_id
from marshmallow import Schema, fields

from services.core.event_catalog import CATALOG, LotteryRow, RegisterVocabulary

# Members whose strings are the text the catalogue declares (not personal data by contract).
TEXT_MEMBERS = {
    ("ledger.summit.created", "theme"), ("ledger.summit.created", "municipality"),
    ("lottery.seed.contributed", "contribution.value"), ("lottery.seed.finalized", "contributions[].value"),
    # the ballot's result: option ids and the fixed spoil reasons of g1000_proofs.tally as keys
    ("ballot.tally.published", "result.*<key>"),
}
# Members that hold pseudonyms (lists of them, or lists of lists).
ID_MEMBERS = {
    ("lottery.invitations.drawn", "invitees[]"), ("lottery.distribution.panels", "panels[][]"),
    ("lottery.panel.drawn", "members[]"), ("lottery.panel.replaced", "dropped"),
    ("lottery.panel.replaced", "replacement"),
    ("ballot.participant.arrived", "pseudonym"), ("ballot.credential.issued", "pseudonym"),
}
# Members that hold bytes as standard base64 (keys, signatures, sealed votes): nothing readable.
BINARY_MEMBERS = {
    ("ballot.ballot.opened", "credential_key"), ("ballot.vote.cast", "credential.signature"),
    ("ballot.vote.cast", "sealed"),
}
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
_STRUCTURED = re.compile(
    r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"    # UUID
    r"|[0-9a-f]{32}|[0-9a-f]{64}"                                      # opaque id, digest
    r"|\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}:\d{2}\.\d{3}Z)?"                 # date, timestamp
    r"|[a-z][a-z0-9_-]{0,39}")                                         # names of the contract


def scan(events: Iterable[tuple[int, Mapping]], vocabulary: Mapping[str, list[str]]) -> list[str]:
    """Problems of `(index, event)` pairs (events as the log serves them) against the vocabulary."""
    problems: list[str] = []
    for index, event in events:
        _Scan(index, event.get("type", "?"), vocabulary, problems).event(event.get("payload"))
    return problems


class _Scan:
    def __init__(self, index: int, event_type: str, vocabulary: Mapping[str, list[str]], out: list[str]):
        self.index, self.type, self.vocabulary, self.out = index, event_type, vocabulary, out

    def problem(self, path: str, message: str) -> None:
        self.out.append(f"entry {self.index} {self.type} {path or '(payload)'}: {message}")

    def event(self, payload) -> None:
        if not isinstance(payload, Mapping):
            return self.problem("", "the payload is not an object")
        schema = CATALOG.schema(self.type, payload.get("v"))
        if schema is None:
            return self.problem("v", f"no catalogue schema for version {payload.get('v')!r}")
        self.members(schema, payload, "")
        self.committed(payload)
        if self.type == "lottery.invitations.drawn" and payload.get("stratify_by") is not None:
            self.feature_names([payload["stratify_by"]], "stratify_by")
        draw = payload.get("draw") if self.type == "lottery.seed.round_opened" else None
        if isinstance(draw, Mapping) and draw.get("stratify_by") is not None:
            self.feature_names([draw["stratify_by"]], "draw.stratify_by")
        if self.type == "lottery.register.committed":
            self.feature_names(payload.get("features", []), "features")
        if self.type == "lottery.distribution.committed":
            quotas = payload.get("quotas", {})
            self.feature_names(list(quotas), "quotas")
            for name, table in quotas.items():
                for value in table:
                    self.features({name: value}, f"quotas.{name}")

    def committed(self, payload: Mapping) -> None:
        """Register contracts that publish rows as commitments and reveal some values later:
        a committed row's pseudonym is opaque and its committed feature names are declared; a
        revealed household is opaque and a revealed feature value is declared for its feature."""
        if self.type == "lottery.register.chunk":
            for i, row in enumerate(payload.get("rows", [])):
                if isinstance(row, Mapping) and "commitments" in row:
                    if not is_opaque_id(row.get("pseudonym")):
                        self.problem(f"rows[{i}].pseudonym", "not an opaque id")
                    names = list((row["commitments"] or {}).get("features", {}))
                    self.feature_names(names, f"rows[{i}].commitments.features")
        if self.type == "lottery.register.revealed":
            field, feature = payload.get("field"), payload.get("feature")
            for i, opening in enumerate(payload.get("openings", [])):
                if not is_opaque_id(opening.get("pseudonym")):
                    self.problem(f"openings[{i}].pseudonym", "not an opaque id")
                if field == "household" and not is_opaque_id(opening.get("value")):
                    self.problem(f"openings[{i}].value", "a revealed household that is not an opaque id")
                elif field == "feature":
                    self.features({feature: opening.get("value")}, f"openings[{i}].value")

    def members(self, schema: Schema, payload: Mapping, prefix: str) -> None:
        declared = {f.data_key or name: f for name, f in schema.fields.items()}   # as on the wire
        for key, value in payload.items():
            path = f"{prefix}{key}"
            field = declared.get(key)
            if field is None:
                self.problem(path, "a member the catalogue's schema does not declare")
                continue
            self.value(field, value, path)

    def value(self, field: fields.Field, value, path: str) -> None:
        schematic = re.sub(r"\[\d+\]", "[]", path)
        if isinstance(field, LotteryRow):
            return self.row(value, path)
        if isinstance(field, RegisterVocabulary):
            return  # the vocabulary itself (checked by g1000_proofs.vocabulary on the charter)
        if isinstance(field, fields.Nested) and isinstance(value, Mapping):
            return self.members(field.schema, value, path + ".")
        if isinstance(field, fields.List) and isinstance(value, list):
            for i, item in enumerate(value):
                self.value(field.inner, item, f"{path}[{i}]")
            return
        if isinstance(field, fields.Dict) and isinstance(value, Mapping):
            for key, item in value.items():
                self.string(str(key), f"{path}<key>", schematic + "<key>")
                if isinstance(item, (str, Mapping, list)):
                    self.leaf(item, f"{path}.{key}", schematic + ".*")
            return
        self.leaf(value, path, schematic)

    def leaf(self, value, path: str, schematic: str) -> None:
        if isinstance(value, str):
            self.string(value, path, schematic)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                self.string(str(key), f"{path}<key>", schematic + "<key>")
                self.leaf(item, f"{path}.{key}", schematic + ".*")
        elif isinstance(value, list):
            for i, item in enumerate(value):
                self.leaf(item, f"{path}[{i}]", schematic + "[]")

    def string(self, text: str, path: str, schematic: str) -> None:
        if (self.type, schematic) in TEXT_MEMBERS:
            return
        if (self.type, schematic) in BINARY_MEMBERS:
            if not _BASE64.fullmatch(text):
                self.problem(path, "not base64 where the catalogue declares bytes")
            return
        if (self.type, schematic) in ID_MEMBERS:
            if not is_opaque_id(text):
                self.problem(path, "a pseudonym that is not an opaque id")
            return
        if text in self.declared_values or _STRUCTURED.fullmatch(text):
            return
        self.problem(path, "free text where the catalogue declares none")

    @property
    def declared_values(self) -> set[str]:
        return {v for values in self.vocabulary.values() for v in values}

    def row(self, row, path: str) -> None:
        if not isinstance(row, Mapping) or set(row) != {"pseudonym", "household", "features"}:
            return self.problem(path, "a row has exactly pseudonym, household and features")
        for key in ("pseudonym", "household"):
            if not is_opaque_id(row[key]):
                self.problem(f"{path}.{key}", "not an opaque id")
        self.features(row["features"], f"{path}.features")

    def features(self, features, path: str) -> None:
        for problem in check_features(features, self.vocabulary):
            self.problem(path, problem)

    def feature_names(self, names, path: str) -> None:
        for name in names:
            if name not in self.vocabulary:
                self.problem(path, f"feature {name!r} is not declared by the charter")
