"""Where ``g1000-verify --complete`` gets the producers' signed stream heads.

Why this module exists: the log cannot show what never reached it, so completeness is checked
against what the producers themselves sign (docs/events.md, "Stream heads";
:mod:`g1000_proofs.heads`).  From a gateway the heads come from the public
``GET /v1/summits/{id}/heads``, read *before* the log's checkpoints and entries: a head signed
before the entries are read is covered by them once the log has caught up, so a complete log is
never reported behind merely because writes continued during the check.  With a bundle the
auditor passes the saved answer of that endpoint (``--heads FILE``).

Transport works as for the log (:class:`~g1000_verify.sources.Gateway`: any answer other than
HTTP 200 with JSON is a :class:`~g1000_verify.model.SourceError`).  The document's contents are
checked later, against the keys the log registers (``checks.check_completeness``).
"""

from __future__ import annotations

from typing import Any

from .model import SourceError
from .sources import MAX_WAIT, read_json_file, summit_gateway

__all__ = ["fetch_heads", "read_heads_file"]


def fetch_heads(base_url: str, summit_id: str, timeout: float = 30.0,
                max_wait: float = MAX_WAIT) -> tuple[Any, float]:
    """The decoded answer of ``GET /v1/summits/{summit_id}/heads``, and the Retry-After seconds
    waited for it (the run's ``--max-wait`` covers this request and the log's together)."""
    gateway = summit_gateway(base_url, summit_id, timeout, max_wait)
    try:
        return gateway.get_json("/heads"), gateway.waited
    except SourceError as exc:
        exc.waited = gateway.waited
        raise


def read_heads_file(path: str) -> Any:
    """A heads document saved from the gateway (JSON, UTF-8, at most 1 MiB)."""
    return read_json_file(path, "--heads", 1 << 20, "1 MiB")
