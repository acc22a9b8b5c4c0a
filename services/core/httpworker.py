"""The gunicorn worker of every G1000 web process: gthread, with gunicorn's own refusals as
RFC 9457 problem+json, and the access-log format that never records a query string.

Why: gunicorn parses the request line and the header fields before the app sees anything, and
answers what it cannot parse itself — 400 (bad request line or header), 414 (request line over
`limit_request_line`), 431 (a field over `limit_request_field_size`, or more than
`limit_request_fields`) — with an HTML page (issue 10 L2). Every other error of the stack is
problem+json (docs/gateway.md), so a client would need a second error parser for these alone.
The limits themselves are right where they are: raising them to let the app answer first would
let one request hold megabytes of header in memory. So this worker keeps gunicorn's limits and
its choice of status, and replaces only how the answer is written: `gunicorn.util.write_error`,
which `Worker.handle_error` calls for exactly these answers, is swapped for `write_problem` in the
worker process (the process runs nothing but this worker). The detail is fixed per status and
never quotes the request: what gunicorn would print there is the refused line or field itself,
which may hold a query string or a token.

Access log (issue 10 L8): gunicorn's default format logs the request line `%(r)s`, query string
included, so a token someone put in a query string ended up in the log. ACCESS_LOG_FORMAT logs
the method and the path (`%(U)s`, PATH_INFO) but not the query, nor referrer or user agent.
Casting a vote and fetching its receipt (`/v1/summits/{s}/ballots/{b}/votes[/{nullifier}]`) are
not logged at all: a line would join the client's address and the time to the vote's nullifier
(docs/ballot.md, "Secrecy"; gateway/unlinked.py). The worker drops those lines itself, so the
command line of `g1000 up` and the Kubernetes gunicorn.conf.py need no setting for it.
"""

from __future__ import annotations

import json
import re

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

from . import problem_types

WORKER_CLASS = "services.core.httpworker.ProblemWorker"
ACCESS_LOG_FORMAT = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(M)sms'
UNLOGGED_PATH = re.compile(r"/v1/summits/[^/]+/ballots/[^/]+/votes(?:/[^/]*)?/?")

DETAILS = {
    400: "the request line or a header field is not valid HTTP/1.1",
    403: "the request is refused",
    414: "the request line (method, path and query) is too long",
    417: "the Expect header names an expectation this server does not meet",
    431: "the request's header fields are too large or too many",
    501: "the request's transfer coding is not supported",
}


def problem_bytes(status: int, reason: str) -> bytes:
    """The whole HTTP/1.1 answer for a request gunicorn refused before the app saw it."""
    body = json.dumps({"type": problem_types.for_status(status).uri, "title": reason, "status": status,
                       "detail": DETAILS.get(status, "the request could not be handled")},
                      separators=(",", ":")).encode("utf-8")
    head = (f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/problem+json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode("latin-1") + body


def write_problem(sock, status_int: int, reason: str, mesg: str) -> None:
    """Stands in for gunicorn.util.write_error (same signature); `mesg` is deliberately unused."""
    util.write_nonblock(sock, problem_bytes(status_int, reason))


class ProblemWorker(ThreadWorker):
    """gunicorn's gthread worker whose refusals are problem+json (see the module docstring)."""

    def init_process(self) -> None:
        util.write_error = write_problem
        self.log.access = quiet_access(self.log.access)
        super().init_process()


def quiet_access(access):
    """gunicorn's access logger, minus the lines of the ballot's unlinked paths."""

    def log_access(resp, req, environ, request_time):
        if UNLOGGED_PATH.fullmatch(environ.get("PATH_INFO") or ""):
            return
        access(resp, req, environ, request_time)

    return log_access
