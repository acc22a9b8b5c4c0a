"""A fake ledger: a tiny in-process HTTP server that serves a generated log exactly as the REST
contract of docs/ledger.md says (``/entries`` paged and clipped, ``/checkpoints``, ``/key``, RFC 9162
``/proofs/consistency`` and ``/proofs/inclusion`` computed with ``g1000_proofs.merkle``), with knobs
that let a test make it misbehave; and ``run``, which calls ``g1000-verify log`` against it.
"""

from __future__ import annotations

import base64
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from g1000_proofs.merkle import consistency_proof, inclusion_proof, root_from_leaves
from g1000_verify.cli import main

from tests.support.log_builder import LOG_VKEY, SUMMIT_ID, Log


class FakeLedger:
    """Serves one log under /v1/logs/{SUMMIT_ID}/...; knobs let a test misbehave."""

    def __init__(self, log: Log, page_cap: int = 1000) -> None:
        self.log = log
        self.page_cap = page_cap
        self.requests: list[str] = []
        self.status: dict[str, int] = {}           # path -> forced HTTP status
        self.tamper_consistency = False
        self.tamper_inclusion = False
        self.retry_after: list[str] = []            # answer 429 with these Retry-After values first

    def node(self, level: int, index: int) -> bytes:
        return root_from_leaves(self.log.leaves[index << level:(index + 1) << level])

    def answer(self, path: str, query: dict[str, int]) -> tuple[int, str, bytes]:
        prefix = f"/v1/logs/{SUMMIT_ID}"
        if path in self.status:
            return self.status[path], "application/problem+json", b'{"title":"forced"}'
        if not path.startswith(prefix):
            return 404, "application/problem+json", b'{"title":"no such log"}'
        route = path[len(prefix):]
        b64 = lambda h: base64.b64encode(h).decode()  # noqa: E731
        if route == "/key":
            return 200, "text/plain", (self.log.header["log_key"] + "\n").encode()
        if route == "/checkpoints":
            body = {"checkpoints": self.log.checkpoints}
        elif route == "/entries":
            start, end = query["start"], query["end"]
            assert 0 <= start and end - start <= 1000, (start, end)
            end = min(end, start + self.page_cap, len(self.log.entries))
            body = {"entries": self.log.entries[start:end]}
        elif route == "/proofs/consistency":
            first, second = query["first"], query["second"]
            hashes = consistency_proof(first, second, self.node)
            if self.tamper_consistency:
                hashes[0] = bytes(32)
            body = {"first": first, "second": second, "hashes": [b64(h) for h in hashes]}
        elif route == "/proofs/inclusion":
            index, size = query["index"], query["tree_size"]
            hashes = inclusion_proof(index, size, self.node)
            if self.tamper_inclusion:
                hashes[-1] = bytes(32)
            body = {"index": index, "tree_size": size, "hashes": [b64(h) for h in hashes]}
        else:
            return 404, "application/problem+json", b'{"title":"not found"}'
        return 200, "application/json", json.dumps(body).encode()


@pytest.fixture
def serve():
    servers = []

    def start(ledger: FakeLedger) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's naming
                parts = urllib.parse.urlsplit(self.path)
                query = {k: int(v) for k, v in urllib.parse.parse_qsl(parts.query)}
                ledger.requests.append(self.path)
                status, kind, body = ledger.answer(parts.path, query)
                if ledger.retry_after:
                    status, kind, body = 429, "application/problem+json", b'{"status":429}'
                    self.send_response(status)
                    self.send_header("Retry-After", ledger.retry_after.pop(0))
                else:
                    self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        servers.append((server, thread))
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def run(capsys, url: str, *extra: str, log_key: str | None = LOG_VKEY) -> tuple[int, dict | None, str]:
    argv = ["log", "--gateway", url, "--summit", SUMMIT_ID, "--json", *extra]
    if log_key is not None:
        argv += ["--log-key", log_key]
    capsys.readouterr()
    code = main(argv)
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if captured.out else None), captured.err
