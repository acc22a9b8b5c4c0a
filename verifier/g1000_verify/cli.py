"""``g1000-verify``: the auditor's command line (docs/architecture.md §5).

Why this module exists: it is the one entry point an auditor runs.  It parses the command line,
establishes the trust anchor (the checkpoint verifier key the municipality published out of
band, C2SP signed-note format), reads the log from the gateway or a bundle, runs every check and
prints the report.  Usage::

    g1000-verify log --gateway URL --summit ID [--json] [--log-key VKEY | --log-key-file PATH]
                     [--receipt INDEX:LEAF_HASH_B64 ...] [--workers N] [--timeout SECONDS] [--max-wait SECONDS]
                     [--complete] [--max-head-age SECONDS]
    g1000-verify bundle FILE [--json] [--log-key VKEY | --log-key-file PATH]
                     [--receipt INDEX:LEAF_HASH_B64 ...] [--workers N] [--heads FILE] [--complete]
    g1000-verify draw (--gateway URL --summit ID | FILE [--heads FILE]) [same options]
    g1000-verify tally (--gateway URL --summit ID | FILE [--heads FILE]) [--ballot ID] [same options]
    g1000-verify agenda (--gateway URL --summit ID | FILE --texts FILE [--heads FILE]) [same options]

Completeness (issue 10, Build 7): from a gateway the producers' signed stream heads are read
first (``GET /v1/summits/{id}/heads``); with a bundle, ``--heads FILE`` gives a saved copy.  The
report says how far the log is behind every producer's head.  Without ``--complete`` a lag or a
missing/invalid head is a warning; with ``--complete`` it is a verification failure (exit 1), as
is ``--complete`` with no heads to compare (a bundle without ``--heads`` is a usage error).
Heads from a gateway must be fresh (signed at most ``--max-head-age`` seconds ago, default 600):
a signed head stays valid forever, and an old one replayed would hide a lag.

``draw`` runs the log checks, then recomputes every lottery draw from the ``lottery.*`` events
(docs/lottery.md; :mod:`g1000_verify.draw_checks`).  A party that committed and did not reveal
is a warning, not a failure.

``tally`` runs the log checks, then checks every ballot (or ``--ballot ID``) from its ``ballot.*``
events and recounts its published result (docs/ballot.md; :mod:`g1000_verify.tally_checks`).  A
ballot not tallied yet is a note, not a failure.

``agenda`` runs the log checks, then holds every text the agenda serves (``GET
/v1/summits/{id}/topics/texts``, or its saved copy ``--texts FILE``) against the language,
sha256 and length its log describes, and every withheld one against its recorded reason
(docs/agenda.md; :mod:`g1000_verify.agenda_checks`).

Exit status: 0 every check holds; 1 a verification failure (the first failing entry index and a
plain reason are printed; with ``--complete`` also a log behind its producers' heads, or a
missing or invalid head); 2 a usage error, an unreadable file, or an unreachable gateway or one
that answers with something other than HTTP 200 (one line on stderr, no traceback).
"""

from __future__ import annotations

import argparse
import sys
import uuid

from g1000_proofs.errors import ProofError
from g1000_proofs.note import Verifier, parse_verifier_key
from g1000_proofs.note_keys import strict_b64decode

from .agenda_checks import fetch_texts, read_texts_file, run_agenda
from .checks import Options, run_checks
from .draw_checks import run_draw
from .heads_source import fetch_heads, read_heads_file
from .model import RateLimitedError, SourceError
from .report import (
    format_agenda_json,
    format_agenda_text,
    format_draw_json,
    format_draw_text,
    format_json,
    format_tally_json,
    format_tally_text,
    format_text,
)
from .sources import open_bundle, open_gateway
from .tally_checks import run_tally
from .errors import UsageError

__all__ = ["main"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULT_MAX_HEAD_AGE = 600.0   # seconds: heads are signed when asked for, so a live one is fresh


def _receipt(text: str) -> tuple[int, bytes]:
    index_text, sep, hash_text = text.partition(":")
    if not sep or not index_text.isascii() or not index_text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not INDEX:LEAF_HASH_B64")
    try:
        leaf = strict_b64decode(hash_text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"leaf hash {hash_text!r} is not standard base64") from None
    if len(leaf) != 32:
        raise argparse.ArgumentTypeError(f"leaf hash {hash_text!r} is not 32 bytes")
    return int(index_text), leaf


def _uuid(what: str):
    def parse(text: str) -> str:
        try:
            return str(uuid.UUID(text))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{what} id {text!r} is not a UUID") from None
    return parse


_summit = _uuid("summit")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive integer")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of seconds")
    return value


def _wait(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 3600:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds from 0 to 3600")
    return value


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print one JSON object")
    trust = common.add_mutually_exclusive_group()
    trust.add_argument("--log-key", metavar="VKEY", help="the log's checkpoint verifier key "
                       "(name+hex8+base64) as the municipality published it")
    trust.add_argument("--log-key-file", metavar="PATH", help="read that key from a file")
    common.add_argument("--receipt", action="append", default=[], type=_receipt,
                        metavar="INDEX:LEAF_HASH_B64",
                        help="check that entry INDEX has this leaf hash and is in the log "
                             "(repeatable)")
    common.add_argument("--workers", type=_positive, default=None, metavar="N",
                        help="processes for signature verification (default: CPU count)")
    common.add_argument("--complete", action="store_true",
                        help="fail (exit 1) unless the log up to its latest checkpoint holds every seq "
                             "its producers' signed stream heads name, and every stream has a valid head")
    # what a gateway source takes (log, and draw with --gateway)
    transport = argparse.ArgumentParser(add_help=False)
    transport.add_argument("--timeout", type=_seconds, default=30.0, metavar="SECONDS",
                           help="HTTP timeout per request (default 30)")
    transport.add_argument("--max-wait", type=_wait, default=120.0, metavar="SECONDS",
                           help="longest total wait for the gateway's Retry-After when it "
                                "rate limits (429); 0 fails at once (default 120)")
    transport.add_argument("--max-head-age", type=_seconds, default=DEFAULT_MAX_HEAD_AGE,
                           metavar="SECONDS",
                           help="with a gateway: refuse stream heads signed longer ago than this "
                                "(default 600): an old head replayed by the gateway must not "
                                "pass as the producer's head")
    parser = argparse.ArgumentParser(
        prog="g1000-verify",
        description="Verify a G1000 summit's transparency log: signatures, seq, hash chain, "
                    "Merkle roots against signed checkpoints, consistency and receipts.",
        epilog="exit status: 0 every check holds; 1 verification failure (first failing entry "
               "index and reason; with --complete also a log behind its producers' heads); "
               "2 usage error, unreadable file or unreachable gateway")
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="{log,bundle,draw,tally,agenda}")
    log = commands.add_parser("log", parents=[common, transport], help="verify a log through the gateway")
    log.add_argument("--gateway", required=True, metavar="URL", help="gateway base URL")
    log.add_argument("--summit", required=True, type=_summit, metavar="ID", help="summit (log) id")
    bundle = commands.add_parser("bundle", parents=[common], help="verify an export bundle file")
    bundle.add_argument("file", metavar="FILE", help="export bundle (JSON lines)")
    bundle.add_argument("--heads", metavar="FILE", help="the producers' stream heads, as saved "
                        "from the gateway's GET /v1/summits/{id}/heads")
    draw = commands.add_parser("draw", parents=[common, transport],
                               help="verify the log, then recompute every lottery draw from it",
                               description="Verify the log (as 'log' / 'bundle'), then recompute "
                                           "the register commitment, seeds, invitation draw, "
                                           "panel distributions, panel draws and replacements "
                                           "from its lottery events (docs/lottery.md).")
    tally = commands.add_parser("tally", parents=[common, transport],
                                help="verify the log, then check and recount every ballot from it",
                                description="Verify the log (as 'log' / 'bundle'), then check "
                                            "every ballot's roll, credentials, nullifiers, "
                                            "window and revealed key, and recount its published "
                                            "result from its ballot events (docs/ballot.md).")
    agenda = commands.add_parser("agenda", parents=[common, transport],
                                 help="verify the log, then every served agenda text against its hash",
                                 description="Verify the log (as 'log' / 'bundle'), then check every "
                                             "text the agenda serves against the sha256 and length "
                                             "its log describes, and every withheld one against its "
                                             "recorded reason (docs/agenda.md).")
    agenda.add_argument("--texts", metavar="FILE", help="with a bundle FILE: the agenda's texts, as "
                        "saved from the gateway's GET /v1/summits/{id}/topics/texts")
    for sub in (draw, tally, agenda):
        sub.add_argument("file", nargs="?", metavar="FILE", help="export bundle (JSON lines)")
        sub.add_argument("--gateway", metavar="URL", help="gateway base URL (instead of FILE)")
        sub.add_argument("--heads", metavar="FILE", help="with a bundle FILE: the producers' "
                         "stream heads, as saved from the gateway's GET /v1/summits/{id}/heads")
        sub.add_argument("--summit", type=_summit, metavar="ID",
                         help="summit (log) id, with --gateway")
    tally.add_argument("--ballot", type=_uuid("ballot"), metavar="ID",
                       help="check only this ballot (default: every ballot of the summit)")
    return parser


def _agenda_texts(args: argparse.Namespace):
    if args.file is not None:
        if args.texts is None:
            raise UsageError("agenda with a bundle FILE needs --texts FILE (the saved answer of the "
                             "gateway's GET /v1/summits/{id}/topics/texts)")
        return read_texts_file(args.texts)
    if args.texts is not None:
        raise UsageError("--texts FILE goes with a bundle FILE; from a gateway the texts are fetched")
    return fetch_texts(args.gateway, args.summit, timeout=args.timeout, max_wait=args.max_wait)


def _recount_source(args: argparse.Namespace) -> None:
    """``draw``, ``tally`` and ``agenda`` read a bundle FILE or a gateway, exactly one."""
    if (args.file is None) == (args.gateway is None):
        raise UsageError(f"{args.command} needs either a bundle FILE or --gateway URL --summit ID")
    if args.gateway is not None and args.summit is None:
        raise UsageError("--gateway needs --summit ID")
    if args.file is not None and args.summit is not None:
        raise UsageError("--summit goes with --gateway, not with a bundle FILE")


def _heads(args: argparse.Namespace, options: Options) -> float:
    """Read the producers' signed stream heads into ``options`` (from the gateway, or the
    ``--heads`` file with a bundle); return the Retry-After seconds waited for them.  A gateway
    that cannot serve them is not a usage error: the completeness check reports it (a warning,
    or with ``--complete`` a failure).  One that keeps rate limiting beyond ``--max-wait`` is,
    as it is for the log: the run's waiting is bounded as a whole."""
    heads_file = getattr(args, "heads", None)
    if getattr(args, "file", None) is not None:
        if heads_file is not None:
            options.heads = read_heads_file(heads_file)
        elif args.complete:
            raise UsageError("--complete with a bundle needs --heads FILE (the saved answer of the "
                             "gateway's GET /v1/summits/{id}/heads)")
        return 0.0
    if heads_file is not None:
        raise UsageError("--heads FILE goes with a bundle FILE; from a gateway the heads are fetched")
    options.max_head_age = args.max_head_age  # live heads are signed on request: they are fresh
    try:
        options.heads, waited = fetch_heads(args.gateway, args.summit, timeout=args.timeout,
                                            max_wait=args.max_wait)
    except RateLimitedError:
        raise
    except SourceError as exc:
        options.heads_error = str(exc)
        return getattr(exc, "waited", 0.0)
    return waited


def _log_key(args: argparse.Namespace) -> Verifier | None:
    text = args.log_key
    if args.log_key_file is not None:
        try:
            with open(args.log_key_file, encoding="utf-8") as handle:
                text = handle.read().strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or exc
            raise UsageError(f"cannot read --log-key-file {args.log_key_file}: {reason}") from None
    if text is None:
        return None
    try:
        return parse_verifier_key(text.strip())
    except ProofError as exc:
        raise UsageError(f"the log key given is not a signed-note verifier key: {exc}") from None


def _say(text: str, stream=None) -> None:
    """Print a line; characters the terminal cannot show are written as escapes, not errors."""
    stream = stream or sys.stdout
    try:
        print(text, file=stream)
    except UnicodeEncodeError:
        encoding = getattr(stream, "encoding", None) or "ascii"
        print(text.encode(encoding, "backslashreplace").decode(encoding), file=stream)


def main(argv: list[str] | None = None) -> int:
    """Run the verifier; return the exit status (0 ok, 1 verification failure, 2 usage/source)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:   # argparse has printed usage and the error (or --help)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        if args.command in ("draw", "tally", "agenda"):
            _recount_source(args)
        texts = _agenda_texts(args) if args.command == "agenda" else None
        options = Options(log_key=_log_key(args), receipts=list(args.receipt), workers=args.workers,
                          complete=args.complete)
        waited = _heads(args, options)  # before the log is read: see heads_source
        if getattr(args, "file", None) is not None:
            model = open_bundle(args.file)
        else:
            model = open_gateway(args.gateway, args.summit, timeout=args.timeout,
                                 fetch_key=options.log_key is None, max_wait=args.max_wait,
                                 waited=waited)
        recounted = None
        if args.command == "draw":
            result, recounted = run_draw(model, options)
        elif args.command == "tally":
            result, recounted = run_tally(model, options, args.ballot)
        elif args.command == "agenda":
            result, recounted = run_agenda(model, options, texts)
        else:
            result = run_checks(model, options)
    except (SourceError, UsageError) as exc:
        _say(f"g1000-verify: error: {exc}", sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        _say("g1000-verify: interrupted", sys.stderr)
        return 130
    _say(_report(args, result, recounted))
    return EXIT_OK if result.ok else EXIT_FAILED


def _report(args: argparse.Namespace, result, recounted) -> str:
    """The report of the command run (``--json``: one object; its warnings also on stderr)."""
    if args.json:
        for warning in result.warnings:
            _say(warning, sys.stderr)
        if args.command == "draw":
            return format_draw_json(result, recounted)
        if args.command == "tally":
            return format_tally_json(result, recounted)
        if args.command == "agenda":
            return format_agenda_json(result, recounted)
        return format_json(result)
    if args.command == "draw":
        return format_draw_text(result, recounted)
    if args.command == "tally":
        return format_tally_text(result, recounted)
    if args.command == "agenda":
        return format_agenda_text(result, recounted)
    return format_text(result)


if __name__ == "__main__":
    sys.exit(main())
