"""Pure parts of the gateway's limits (issue 10 M6, L3, L8): which budget a request counts
against, who may read /metrics, and which request ids are kept."""

from __future__ import annotations

import pytest

from gateway.observability import metrics_allowed, request_id
from gateway.ratelimit import ADDRESS, CHECK_IN, EXPORT, TOKEN, budget_for


@pytest.mark.parametrize("method,template,authenticated,budget", [
    ("POST", "/v1/auth/check-in", False, CHECK_IN),
    ("POST", "/v1/auth/check-in", True, CHECK_IN),  # a token does not move check-in to its budget
    ("GET", "/v1/logs/{log_id}/export", False, EXPORT),
    ("HEAD", "/v1/logs/{log_id}/export", True, EXPORT),
    ("GET", "/v1/logs/{log_id}/entries", False, ADDRESS),
    ("GET", "/v1/auth/check-in", False, ADDRESS),  # 405 later, counted as any other request
    ("POST", "/v1/summits", True, TOKEN),
    ("GET", None, False, ADDRESS),  # a path the matrix does not declare
])
def test_each_request_counts_against_one_budget(method, template, authenticated, budget):
    assert budget_for(method, template, authenticated) == budget


@pytest.mark.parametrize("environ,port,allowed", [
    ({"REMOTE_ADDR": "127.0.0.1"}, None, True),
    ({"REMOTE_ADDR": "::1"}, None, True),
    ({"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.9"}, None, False),
    ({"REMOTE_ADDR": "203.0.113.9"}, None, False),
    # behind ProxyFix the address the server saw is kept aside; a forged X-Forwarded-For of
    # 127.0.0.1 from outside must not pass
    ({"REMOTE_ADDR": "127.0.0.1", "werkzeug.proxy_fix.orig": {"REMOTE_ADDR": "10.0.0.5",
                                                              "HTTP_X_FORWARDED_FOR": "127.0.0.1"}}, None, False),
    ({"REMOTE_ADDR": "10.1.2.3", "SERVER_PORT": "9102"}, 9102, True),
    ({"REMOTE_ADDR": "127.0.0.1", "SERVER_PORT": "8000"}, 9102, False),  # the public listener
])
def test_metrics_are_for_the_internal_listener_or_loopback(environ, port, allowed):
    assert metrics_allowed(environ, port) is allowed


@pytest.mark.parametrize("given", [None, "", "x" * 65, "a b", "a\nb", "ü", "a/b", "a:b"])
def test_odd_request_ids_are_replaced(given):
    fresh = request_id(given)
    assert fresh != given and len(fresh) == 36
