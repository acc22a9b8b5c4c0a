"""The log generator (tests/support/log_builder.py) agrees with the services' own code: every
generated event passes ``services.core.envelope.verify_event`` with the real payload catalogue, the
genesis has the shape ``services.ledger.domain.charter_summit`` gives it, and the bundle lines
follow docs/ledger.md."""

from __future__ import annotations

import hashlib
import json

import rfc8785

from tests.support.log_builder import (
    AGENDA,
    LEDGER,
    LOG_VKEY,
    ORIGIN,
    SUMMIT_ID,
    VALID_FROM,
    b64,
    genesis,
    standard_events,
    standard_log,
)


# --- The generator agrees with the services' own envelope code ---------------------------------


def test_generated_events_pass_the_services_verify_event():
    from services.core.envelope import verify_event
    from services.core.event_catalog import CATALOG
    from services.core.signing import Keyring, TrustedKey

    keyring = Keyring([TrustedKey(LEDGER.public, "ledger"), TrustedKey(AGENDA.public, "agenda")])
    for event in standard_events(5):
        parsed = verify_event(rfc8785.dumps(event), keyring, CATALOG)
        assert parsed.as_dict() == event


def test_generated_genesis_has_the_shape_of_charter_summit():
    from datetime import date

    from services.ledger.domain import charter_summit

    charter = charter_summit(theme="t", municipality="m", day=date(2027, 3, 14),
                             seats={"citizens": 1}, features={"age_band": ["16-29"]}, service_keys={"ledger": LEDGER.public,
                                                                  "agenda": AGENDA.public},
                             valid_from=VALID_FROM)
    ours = genesis()
    assert [e.type for e in charter] == [e["type"] for e in ours]
    for theirs, mine in zip(charter[1:], ours[1:]):
        assert theirs.payload == mine["payload"]


def test_generated_bundle_lines_follow_docs_ledger_md():
    log = standard_log(6)
    rows = [json.loads(line) for line in log.lines()]
    assert rows[0] == {"kind": "header", "format": "g1000-log-bundle", "version": 1,
                       "log_id": SUMMIT_ID, "origin": ORIGIN, "log_key": LOG_VKEY, "tree_size": 9}
    kinds = [row["kind"] for row in rows]
    assert kinds == ["header"] + ["entry"] * 9 + ["checkpoint"] * 3 + ["key"] * 2
    assert [row["tree_size"] for row in rows if row["kind"] == "checkpoint"] == [4, 8, 9]
    entry = rows[1]
    assert set(entry) == {"kind", "index", "event", "leaf_hash", "chain"}
    assert entry["leaf_hash"] == b64(hashlib.sha256(b"\x00" + rfc8785.dumps(entry["event"])).digest())
