"""``g1000-verify agenda``: every text the agenda serves is the one its log describes.

Why this module exists: since ``agenda.topic.nominated`` v2 the log holds no words of the agenda,
only each text's language, SHA-256 and UTF-8 length in NFC, and ``agenda.text.withheld`` records
every text taken out of service with its reason (docs/agenda.md; issue 14). The words are served
beside the log by ``GET /v1/summits/{id}/topics/texts``. This step runs after the log checks
(signatures, ``seq``, chain, checkpoints) over the collected ``agenda`` events and holds the
served export against them with :func:`g1000_proofs.agenda.check_served`, the rule the agenda
service itself describes its texts by: every described text served, with its words when not
withheld, without them and with the logged reason when withheld, and nothing served beyond.

The export is read from the gateway, or with a bundle from ``--texts FILE`` (the saved answer of
that endpoint). Its own shape is checked here; a mismatch is a verification failure (exit 1).
"""

from __future__ import annotations

from typing import Any

from g1000_proofs.agenda import check_served

from .model import VerificationFailure
from .sources import MAX_WAIT, read_json_file, summit_gateway

__all__ = ["AGENDA_STREAM", "fetch_texts", "read_texts_file", "run_agenda", "verify_texts"]

AGENDA_STREAM = "agenda"
FORMAT = "g1000-agenda-texts"


def fetch_texts(base_url: str, summit_id: str, timeout: float = 30.0, max_wait: float = MAX_WAIT) -> Any:
    """The decoded answer of ``GET /v1/summits/{summit_id}/topics/texts``."""
    return summit_gateway(base_url, summit_id, timeout, max_wait).get_json("/topics/texts")


def read_texts_file(path: str) -> Any:
    """A texts export saved from the gateway (JSON, UTF-8, at most 64 MiB)."""
    return read_json_file(path, "--texts", 64 << 20, "64 MiB")


def verify_texts(summit_id: str, events: list[tuple[int, dict]], export: Any) -> int:
    """Check the export against the agenda events; return the number of texts checked.
    Raises :class:`VerificationFailure` (check ``agenda``) at the first mismatch. Pure."""
    if not isinstance(export, dict) or export.get("format") != FORMAT or export.get("version") != 1:
        raise VerificationFailure(None, "agenda", f"the texts export is not a {FORMAT} version 1 document")
    if export.get("summit_id") != summit_id:
        raise VerificationFailure(None, "agenda", f"the texts export is of summit {export.get('summit_id')!r}, "
                                                  f"not {summit_id}")
    served = export.get("texts")
    if not isinstance(served, list):
        raise VerificationFailure(None, "agenda", "the texts export has no list of texts")
    problem = check_served(events, served)
    if problem is not None:
        raise VerificationFailure(None, "agenda", problem)
    return len(served)


def run_agenda(model: Any, options: Any, export: Any) -> tuple[Any, int | None]:
    """The log checks (``checks.STEPS``), then :func:`verify_texts` over the agenda events.
    Returns the verification and the number of texts checked (None when a log check failed first)."""
    from .checks import STEPS, Step, run_checks

    outcome: dict[str, int] = {}

    def agenda_step(v: Any) -> None:
        outcome["texts"] = verify_texts(v.model.log_id, v.collected[AGENDA_STREAM], export)

    verification = run_checks(model, options, [*STEPS, Step("agenda", agenda_step, (AGENDA_STREAM,))])
    return verification, outcome.get("texts")
