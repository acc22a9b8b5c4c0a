"""Read a summit's log from the REST gateway or from an export bundle into a :class:`LogModel`.

Why this module exists: an auditor checks either the live log (through the public gateway) or
an offline copy (the export bundle); both are specified in docs/ledger.md (contract version 1)
and both must end up as the same model so one set of checks serves both.  Only the standard
library is used (``urllib.request`` for HTTP), so the verifier installs anywhere.

Gateway (``GET /v1/logs/{id}/...``, public, no credential):

* ``/checkpoints`` is read first (every kept checkpoint, ascending), then ``/key`` unless the
  auditor brought the key out of band;
* ``/entries?start=S&end=E`` is paged in pages of at most 1000 entries from index 0 until the
  gateway answers with an empty page.  Checkpoints are read *before* entries, so on a growing
  log every listed checkpoint is covered by the entries read afterwards;
* ``/proofs/consistency`` and ``/proofs/inclusion`` are fetched on demand by the checks.

Any transport problem, or an answer other than HTTP 200 with a JSON body, is a
:class:`SourceError` (exit status 2): the verifier could not look, which is not the same as the
log being wrong.  Except one: a 429 (or 503) with ``Retry-After`` (RFC 9110 section 10.2.3;
RFC 6585 section 4) means "not now", not "no" — the gateway's rate limit per address is shared
with whatever else ran from that address this minute (docs/gateway.md).  The verifier waits as
asked and tries again, up to ``max_wait`` seconds in all over one run (``--max-wait``, default
120), and only then fails with a line that says it was rate limited and for how long it waited.

Bundle (JSON lines, UTF-8): a header line, the entry lines, then checkpoint lines and key lines.
The header is read first; then the *tail* of the file is scanned backwards to the last entry line
so the (small) checkpoint and key lines are known before the (possibly huge) entry lines are
streamed once, front to back, without being held in memory.  A file that cannot be opened or
whose first line is not a version-1 ``g1000-log-bundle`` header is a :class:`SourceError`;
damage further in is reported by the checks as a verification failure.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

from .model import (
    CheckpointRecord,
    EntryProblem,
    KeyLine,
    LogModel,
    ProofService,
    RateLimitedError,
    SourceError,
)

__all__ = ["BUNDLE_FORMAT", "BUNDLE_VERSION", "PAGE_SIZE", "Gateway", "open_bundle", "open_gateway"]

BUNDLE_FORMAT = "g1000-log-bundle"
BUNDLE_VERSION = 1
PAGE_SIZE = 1000          # docs/ledger.md: at most 1000 entries per page
_TAIL_BLOCK = 1 << 16
_MAX_HEADER_BYTES = 1 << 20


# --- Export bundle ------------------------------------------------------------------------


def _parse_line(raw: bytes) -> Any:
    """Decode one bundle line; raises ValueError with a short reason."""
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("is not valid UTF-8") from None
    except RecursionError:
        raise ValueError("is nested too deeply") from None
    except ValueError as exc:
        raise ValueError(f"is not JSON ({exc})") from None


def _read_header(path: str, handle) -> dict:
    first = handle.readline(_MAX_HEADER_BYTES)
    if not first.strip():
        raise SourceError(f"{path} is not a g1000 log bundle: it is empty or starts with a blank line")
    try:
        header = _parse_line(first)
    except ValueError as exc:
        raise SourceError(f"{path} is not a g1000 log bundle: its first line {exc}") from None
    if not isinstance(header, dict) or header.get("kind") != "header" \
            or header.get("format") != BUNDLE_FORMAT:
        raise SourceError(f"{path} is not a g1000 log bundle: the first line is not a "
                          f"{BUNDLE_FORMAT!r} header")
    version = header.get("version")
    if version != BUNDLE_VERSION or type(version) is not int:
        raise SourceError(f"{path}: unsupported bundle version {version!r} "
                          f"(this verifier reads version {BUNDLE_VERSION})")
    for name, kinds in (("log_id", (str,)), ("origin", (str,)), ("log_key", (str,)),
                        ("tree_size", (int,))):
        value = header.get(name)
        if not isinstance(value, kinds) or isinstance(value, bool):
            raise SourceError(f"{path}: the bundle header's {name!r} is missing or not a "
                              f"{kinds[0].__name__}")
    if header["tree_size"] < 0:
        raise SourceError(f"{path}: the bundle header's tree_size is negative")
    return header


def _scan_tail(handle, start: int, end: int) -> tuple[int, list[tuple[int, Any]]]:
    """Find where the entry lines end; return (that offset, the later lines, in file order).

    Reads backwards in growing blocks until it meets a line that is an entry.  Each later line
    comes back as (byte offset, parsed object), or (byte offset, ValueError) if unreadable.
    """
    block = _TAIL_BLOCK
    while True:
        low = max(start, end - block)
        handle.seek(low)
        lines = handle.read(end - low).split(b"\n")
        offsets, position = [], low
        for raw in lines:
            offsets.append(position)
            position += len(raw) + 1
        first_whole = 1 if low > start else 0   # lines[0] may begin mid-line
        tail: list[tuple[int, Any]] = []
        for number in range(len(lines) - 1, first_whole - 1, -1):
            raw = lines[number]
            if not raw.strip():
                continue
            try:
                parsed: Any = _parse_line(raw)
            except ValueError as exc:
                parsed = exc
            if isinstance(parsed, dict) and parsed.get("kind") == "entry":
                boundary = min(end, offsets[number] + len(raw) + 1)
                return boundary, tail[::-1]
            tail.append((offsets[number], parsed))
        if low == start:
            return start, tail[::-1]
        block *= 4


def _classify_tail(tail: list[tuple[int, Any]]
                   ) -> tuple[list[CheckpointRecord], list[KeyLine], list[str]]:
    checkpoints: list[CheckpointRecord] = []
    key_lines: list[KeyLine] = []
    problems: list[str] = []
    for offset, item in tail:
        where = f"the line at byte {offset} of the bundle (after the entries)"
        if isinstance(item, ValueError):
            problems.append(f"{where} {item}")
        elif not isinstance(item, dict):
            problems.append(f"{where} is not a JSON object")
        elif item.get("kind") == "checkpoint":
            checkpoints.append(CheckpointRecord(len(checkpoints), item.get("tree_size"),
                                                item.get("note")))
        elif item.get("kind") == "key":
            key_lines.append(KeyLine(item.get("stream"), item.get("key_id"),
                                     item.get("public_key"), item.get("index")))
        else:
            problems.append(f"{where} has kind {item.get('kind')!r}, expected 'checkpoint' or 'key'")
    return checkpoints, key_lines, problems


def _stream_entries(path: str, start: int, stop: int) -> Iterator[Any]:
    """Entry lines between byte offsets [start, stop), parsed, one at a time."""
    loads = json.loads
    try:
        with open(path, "rb") as handle:
            handle.seek(start)
            position, number = start, 1
            for raw in handle:
                if position >= stop:
                    return
                position += len(raw)
                number += 1
                try:
                    obj = loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError, RecursionError):
                    if not raw.strip():
                        continue
                    try:
                        _parse_line(raw)
                        reason = "cannot be read"
                    except ValueError as exc:
                        reason = str(exc)
                    yield EntryProblem(f"line {number} of the bundle", reason)
                    continue
                if type(obj) is dict and obj.get("kind") == "entry":
                    yield obj
                else:
                    kind = obj.get("kind") if isinstance(obj, dict) else None
                    yield EntryProblem(f"line {number} of the bundle",
                                       f"is not an entry line (kind {kind!r}) although entry lines follow it")
    except OSError as exc:
        raise SourceError(f"cannot read bundle {path}: {exc.strerror or exc}") from None


def open_bundle(path: str) -> LogModel:
    """Read an export bundle's header, checkpoints and key lines; entries are streamed later."""
    try:
        with open(path, "rb") as handle:
            header = _read_header(path, handle)
            entries_start = handle.tell()
            end = handle.seek(0, 2)
            boundary, tail = _scan_tail(handle, entries_start, end)
    except OSError as exc:
        raise SourceError(f"cannot read bundle {path}: {exc.strerror or exc}") from None
    checkpoints, key_lines, problems = _classify_tail(tail)
    return LogModel(
        kind="bundle", location=path, log_id=header["log_id"], origin=header["origin"],
        log_key=header["log_key"], tree_size=header["tree_size"], checkpoints=checkpoints,
        entries=lambda: _stream_entries(path, entries_start, boundary),
        key_lines=key_lines, proofs=None, problems=problems,
    )


# --- REST gateway ----------------------------------------------------------------------------


MAX_WAIT = 120.0          # seconds of Retry-After honoured over one run, in all
RETRY_STATUSES = (429, 503)
_pause = time.sleep


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """Seconds a ``Retry-After`` field value asks to wait (RFC 9110 section 10.2.3: delay-seconds
    or an HTTP-date, against ``now`` in seconds since the epoch); None when absent or unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(int(value))
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - now)


class Gateway(ProofService):
    """The public ledger REST API of one log, reached through the gateway."""

    def __init__(self, base_url: str, log_id: str, timeout: float = 30.0, max_wait: float = MAX_WAIT,
                 sleep=None) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SourceError(f"gateway URL {base_url!r} is not an http(s) URL")
        self.log_url = f"{base_url.rstrip('/')}/v1/logs/{urllib.parse.quote(log_id, safe='')}"
        self.timeout = timeout
        self.max_wait = max_wait
        self.waited = 0.0     # Retry-After seconds already honoured in this run
        self.sleep = sleep or (lambda seconds: _pause(seconds))  # looked up late: tests replace _pause

    def get(self, path: str) -> bytes:
        """GET ``<log url><path>``; anything but HTTP 200 is a SourceError, after honouring a
        429/503's Retry-After while the run's waiting stays within ``max_wait``."""
        while True:
            try:
                return self._get_once(path)
            except urllib.error.HTTPError as exc:
                url = self.log_url + path
                delay = retry_after_seconds(exc.headers.get("Retry-After"), time.time()) \
                    if exc.code in RETRY_STATUSES else None
                exc.close()
                if delay is not None and self.waited + delay <= self.max_wait:
                    self.sleep(delay)
                    self.waited += delay
                    continue
                if exc.code == 429:
                    asked = f"; it asks to wait {delay:.0f} s more" if delay is not None else ""
                    raise RateLimitedError(f"gateway is rate limiting this address (HTTP 429) for {url} after "
                                      f"{self.waited:.0f} s of waiting as asked (at most {self.max_wait:.0f} s, "
                                      f"--max-wait){asked}; try again later") from None
                raise SourceError(f"gateway answered HTTP {exc.code} for {url}") from None

    def _get_once(self, path: str) -> bytes:
        url = self.log_url + path
        request = urllib.request.Request(url, headers={"User-Agent": "g1000-verify/1"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                if response.status != 200:
                    raise SourceError(f"gateway answered HTTP {response.status} for {url}")
                return response.read()
        except urllib.error.HTTPError:
            raise  # get() decides (Retry-After); it is an OSError, so it must not reach the next clause
        except urllib.error.URLError as exc:
            raise SourceError(f"cannot reach gateway at {url}: {exc.reason}") from None
        except (OSError, http.client.HTTPException, ValueError) as exc:
            raise SourceError(f"cannot read {url} from gateway: {exc or type(exc).__name__}") from None

    def get_json(self, path: str) -> Any:
        body = self.get(path)
        try:
            return json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError):
            raise SourceError(f"gateway sent something other than JSON for {self.log_url + path}") from None

    def checkpoints(self) -> list[CheckpointRecord]:
        doc = self.get_json("/checkpoints")
        items = doc.get("checkpoints") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise SourceError(f"gateway answer for {self.log_url}/checkpoints has no 'checkpoints' list")
        records = []
        for position, item in enumerate(items):
            item = item if isinstance(item, dict) else {}
            records.append(CheckpointRecord(position, item.get("tree_size"), item.get("note")))
        return records

    def key(self) -> str:
        try:
            return self.get("/key").decode("utf-8").strip()
        except UnicodeDecodeError:
            raise SourceError(f"gateway sent a log key that is not UTF-8 ({self.log_url}/key)") from None

    def entries(self, page_size: int = PAGE_SIZE) -> Iterator[Any]:
        """Every entry from index 0, page by page, until the gateway has no more."""
        start = 0
        while True:
            path = f"/entries?start={start}&end={start + page_size}"
            doc = self.get_json(path)
            items = doc.get("entries") if isinstance(doc, dict) else None
            if not isinstance(items, list):
                raise SourceError(f"gateway answer for {self.log_url}{path} has no 'entries' list")
            if not items:
                return
            yield from items
            start += len(items)

    def consistency(self, first: int, second: int) -> Any:
        return self.get_json(f"/proofs/consistency?first={first}&second={second}")

    def inclusion(self, index: int, tree_size: int) -> Any:
        return self.get_json(f"/proofs/inclusion?index={index}&tree_size={tree_size}")


def summit_gateway(base_url: str, summit_id: str, timeout: float = 30.0,
                   max_wait: float = MAX_WAIT) -> Gateway:
    """The log's transport rooted at ``/v1/summits/{summit_id}`` instead of its log: for the
    documents a summit serves beside its log (the producers' heads, the agenda's texts)."""
    gateway = Gateway(base_url, summit_id, timeout, max_wait=max_wait)
    gateway.log_url = f"{base_url.rstrip('/')}/v1/summits/{urllib.parse.quote(summit_id, safe='')}"
    return gateway


def read_json_file(path: str, flag: str, max_bytes: int, limit: str) -> Any:
    """A JSON document an auditor saved from the gateway (UTF-8, at most ``max_bytes``, said as
    ``limit`` in the error); ``flag`` names the option that gave the path."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise SourceError(f"cannot read {flag} file {path}: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:
        raise SourceError(f"{flag} file {path} is larger than {limit}")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise SourceError(f"{flag} file {path} is not JSON") from None


def open_gateway(base_url: str, log_id: str, timeout: float = 30.0,
                 fetch_key: bool = True, max_wait: float = MAX_WAIT, waited: float = 0.0) -> LogModel:
    """Read the log's checkpoints (and, unless told not to, its key); entries are paged later.

    ``fetch_key=False`` when the auditor brought the key out of band: then ``/key`` is not
    needed, and a gateway that fails to serve it does not stop the verification. ``waited``:
    Retry-After seconds this run already honoured (``max_wait`` bounds the whole run).
    """
    gateway = Gateway(base_url, log_id, timeout, max_wait=max_wait)
    gateway.waited = waited
    checkpoints = gateway.checkpoints()
    log_key = gateway.key() if fetch_key else None
    sizes = [cp.tree_size for cp in checkpoints
             if isinstance(cp.tree_size, int) and not isinstance(cp.tree_size, bool)]
    return LogModel(
        kind="gateway", location=gateway.log_url, log_id=log_id, origin=None, log_key=log_key,
        tree_size=max(sizes) if sizes else None, checkpoints=checkpoints,
        entries=gateway.entries, key_lines=None, proofs=gateway, problems=[],
    )
