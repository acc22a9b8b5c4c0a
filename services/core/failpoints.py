"""Named crash points for fault-injection tests.

`G1000_FAILPOINTS="consumer.after_db_commit=3,relay.after_send=1"` makes the process SIGKILL
itself the 3rd time it reaches `consumer.after_db_commit` (and the 1st time at `relay.after_send`).
With the variable unset (production) a failpoint costs one dict lookup. Tests use these to kill a
process at exactly the worst moment, instead of hoping a timed `kill -9` lands there.
"""

from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}


def _parse(spec: str) -> dict[str, int]:
    points = {}
    for item in filter(None, (p.strip() for p in spec.split(","))):
        name, _, nth = item.partition("=")
        points[name] = int(nth or 1)
    return points


_armed = _parse(os.environ.get("G1000_FAILPOINTS", ""))


def failpoint(name: str) -> None:
    if name not in _armed:
        return
    _counts[name] = _counts.get(name, 0) + 1
    if _counts[name] == _armed[name]:
        os.kill(os.getpid(), signal.SIGKILL)
