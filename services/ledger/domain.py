"""Pure decisions of the ledger: which events a new summit's charter consists of."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from services.core.events import NewEvent


def charter_summit(*, theme: str, municipality: str, day: date, seats: dict[str, int],
                   features: Mapping[str, Sequence[str]], service_keys: dict[str, bytes],
                   valid_from: str) -> list[NewEvent]:
    """The genesis events of a summit: its charter (payload v2, with the register's vocabulary:
    the allow-list of feature names and values, issue 10 H1/H2), then every service key valid
    for it. Feature names are sorted; each feature's values keep the organiser's order (bands
    read best in their natural order)."""
    events = [NewEvent(
        type="ledger.summit.created",
        payload={"v": 2, "theme": theme, "municipality": municipality, "date": day.isoformat(),
                 "seats": dict(sorted(seats.items())),
                 "register": {"features": {name: list(features[name]) for name in sorted(features)}}},
        aggregate_id="summit", version=1,
    )]
    for stream, public_key in sorted(service_keys.items()):
        events.append(NewEvent(
            type="ledger.key.registered",
            payload={"v": 1, "stream": stream, "public_key": public_key.hex(),
                     "key_id": _key_id(public_key), "valid_from": valid_from},
            aggregate_id=f"key:{stream}", version=1,
        ))
    return events


def _key_id(public_key: bytes) -> str:
    import hashlib

    return hashlib.sha256(public_key).hexdigest()
