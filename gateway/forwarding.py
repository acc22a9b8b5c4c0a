"""Forwarding a `/v1` request to the service that owns it, and the service's answer back.

urllib3 directly, not requests: forwarding was the largest share of the gateway's CPU (bench:
gateway profile), and a forwarded request needs none of requests' sessions, cookies, hooks or
redirects. One pool of keep-alive connections per process, a timeout per request, and a retry
only for idempotent reads (GET, HEAD; RFC 9110 §9.2.2). A service that refuses or cannot be
reached is the gateway's 502, one that does not answer in time its 504 (RFC 9110 §15.6.3,
§15.6.5), both RFC 9457 problem+json.

Every forwarded request carries the gateway's vouch (services/core/vouch.py) for exactly this
method, path, body and token: the services act on nothing else.
"""

from __future__ import annotations

import time
import uuid

import urllib3
from flask import Response, g, request

from services.core.problem import problem
from services.core.vouch import HEADER as VOUCH_HEADER
from services.core.vouch import sign_vouch, target_of

from .observability import Metrics
from .unlinked import bare_headers

# hop-by-hop (RFC 9110 §7.6.1) or recomputed by whoever sends the message on
HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
              "trailers", "transfer-encoding", "upgrade", "content-length", "host"}


def connection_pool() -> urllib3.PoolManager:
    """Keep-alive connections per service, shared by the worker's threads."""
    return urllib3.PoolManager(num_pools=8, maxsize=16)


def forward(pool: urllib3.PoolManager, base: str, timeout: float, metrics: Metrics,
            signer) -> tuple[Response, str]:
    """The service's answer and "answered", or the gateway's 504 / 502 problem and "timeout" /
    "unreachable"."""
    service = g.get("upstream") or "unknown"
    upstream, failure = _send(pool, base, _outgoing_headers(), timeout, metrics, signer, service)
    if upstream is None:
        return failure
    if upstream.status >= 500:
        metrics.upstream_errors.labels(service, "status_5xx").inc()
    return _answer(upstream), "answered"


def _outgoing_headers() -> dict[str, str]:
    """The client's end-to-end headers, minus any vouch it sent, plus the request id and its address;
    for a ballot's cast or receipt fetch only the bare headers and a fresh id (gateway/unlinked.py)."""
    if g.get("unlinked"):
        headers = bare_headers(request.headers)
        headers["X-Request-Id"] = str(uuid.uuid4())
        return headers
    headers = {k: v for k, v in request.headers.items()
               if k.lower() not in HOP_BY_HOP and k.lower() != VOUCH_HEADER.lower()}
    headers["X-Request-Id"] = request.environ["g1000.request_id"]
    headers["X-Forwarded-For"] = request.remote_addr or ""
    return headers


def _send(pool: urllib3.PoolManager, base: str, headers: dict[str, str], timeout: float, metrics: Metrics,
          signer, service: str) -> tuple[urllib3.BaseHTTPResponse | None, tuple[Response, str] | None]:
    """(the service's response, None), or (None, the problem and its outcome) when every attempt
    failed; each failure is counted."""
    claims = g.get("claims")
    target = target_of(request.path, request.query_string)
    attempts = 3 if request.method in ("GET", "HEAD") else 1
    for _ in range(attempts):
        # a fresh vouch per attempt: a GET retried after a timeout may have reached the service
        headers[VOUCH_HEADER] = sign_vouch(signer, method=request.method, target=target, body=request.get_data(),
                                           token_id=claims.token_id if claims else None, now=time.time())
        try:
            return pool.request(
                request.method, base + request.full_path.rstrip("?"), headers=headers,
                body=request.get_data() or None, timeout=urllib3.Timeout(connect=timeout, read=timeout),
                retries=False, redirect=False,
            ), None
        except urllib3.exceptions.NewConnectionError:  # refused: a subclass of ConnectTimeoutError
            outcome = "unreachable"
        except urllib3.exceptions.TimeoutError:
            outcome = "timeout"
        except urllib3.exceptions.HTTPError:
            outcome = "unreachable"
        metrics.upstream_errors.labels(service, outcome).inc()
    return None, (_failure(outcome), outcome)  # the last attempt's


def _failure(outcome: str) -> Response:
    if outcome == "timeout":
        return problem(504, "Gateway Timeout", "the service did not answer in time")
    return problem(502, "Bad Gateway", "the service is not reachable")


def _answer(upstream: urllib3.BaseHTTPResponse) -> Response:
    """The service's response as the gateway's: status, body and end-to-end headers."""
    out = Response(upstream.data, status=upstream.status)
    if request.method == "HEAD" and "Content-Length" in upstream.headers:
        out.headers["Content-Length"] = upstream.headers["Content-Length"]  # of the GET it stands for
    copied: set[str] = set()
    for key, value in upstream.headers.items():  # a repeated header comes once per value
        lower = key.lower()
        if lower in HOP_BY_HOP or lower == "content-encoding":
            continue
        if lower in copied:
            out.headers.add(key, value)
        else:
            out.headers[key] = value
            copied.add(lower)
    return out
