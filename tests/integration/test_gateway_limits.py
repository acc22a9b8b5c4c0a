"""Limits found by attacking a running stack (issue 10: L1, L3, L8, M6), through the gateway and
at the services behind it."""

from __future__ import annotations

import logging
import time

import pytest

from tests.integration.gateway_support import Clock

pytestmark = pytest.mark.integration

WINDOW = int(time.time()) // 60 * 60 - 120
DEEP = b'{"code": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"
HUGE = b'{"theme": "x", "seats": ' + b"9" * 6_000 + b"}"


@pytest.mark.parametrize("path,body", [("/v1/auth/check-in", DEEP), ("/v1/summits", DEEP),
                                       ("/v1/summits", HUGE),
                                       ("/v1/auth/check-in", b'{"code": "A", "code": "B"}')])
def test_hostile_json_is_400_at_the_gateway_and_the_services(stack, caplog, path, body):
    caplog.set_level(logging.INFO)
    client = stack.gateway().test_client()
    response = client.post(path, data=body, content_type="application/json", headers=stack.auth())
    assert response.status_code == 400 and response.content_type == "application/problem+json"
    assert not [r for r in caplog.records if r.exc_info]


def _summit(client, stack) -> str:
    from tests.integration.gateway_support import SUMMIT

    response = client.post("/v1/summits", json=SUMMIT, headers=stack.auth())
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["summit_id"]


def test_one_callers_burst_does_not_block_check_in_behind_the_same_address(stack):
    """M6: at a venue every phone shares one address; one person's burst of reads used the whole
    anonymous budget and everyone's check-in was 429 for the rest of the minute."""
    clock = Clock(WINDOW + 5)
    client = stack.gateway(clock, G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE="3",
                           G1000_RATE_LIMIT_CHECK_IN_PER_MINUTE="2").test_client()
    stack.token = stack.issue(clock=clock)  # valid at the test's clock
    summit = _summit(client, stack)
    stack.announce(summit)
    made = client.post(f"/v1/summits/{summit}/check-in-codes", json={"participants": stack.seat(summit, 2)},
                       headers=stack.auth())
    assert made.status_code == 201, made.get_data(as_text=True)
    first, second = (c["code"] for c in made.get_json()["codes"])
    while client.get("/v1/summits").status_code != 429:  # someone at the venue uses up the address
        pass
    checked_in = client.post("/v1/auth/check-in", json={"code": first})
    assert checked_in.status_code == 201, checked_in.get_data(as_text=True)
    assert checked_in.headers["RateLimit-Policy"] == '"check-in";q=2;w=60'
    # check-in has a budget of its own, and it is bounded too
    assert client.post("/v1/auth/check-in", json={"code": "0000-0000-0000-0000"}).status_code == 404
    refused = client.post("/v1/auth/check-in", json={"code": second})
    assert refused.status_code == 429 and refused.content_type == "application/problem+json"
    assert refused.headers["Retry-After"] == "55"
    clock.now = WINDOW + 60
    assert client.post("/v1/auth/check-in", json={"code": second}).status_code == 201


def test_check_in_and_export_budgets_are_configurable(stack):
    from gateway.settings import load_gateway_settings
    from services.core.errors import ConfigError

    base = {"G1000_DATABASE_URL": "postgresql://localhost/x", "G1000_DATA_DIR": "/d"}
    settings = load_gateway_settings(base)
    assert (settings.rate_limit_check_in, settings.rate_limit_export) == (3000, 10)
    settings = load_gateway_settings(base | {"G1000_RATE_LIMIT_CHECK_IN_PER_MINUTE": "5000",
                                             "G1000_RATE_LIMIT_EXPORT_PER_MINUTE": "2"})
    assert (settings.rate_limit_check_in, settings.rate_limit_export) == (5000, 2)
    for name in ("G1000_RATE_LIMIT_CHECK_IN_PER_MINUTE", "G1000_RATE_LIMIT_EXPORT_PER_MINUTE"):
        with pytest.raises(ConfigError, match=name):
            load_gateway_settings(base | {name: "0"})


def test_exports_have_an_etag_answer_304_and_have_their_own_budget(stack):
    """L3: eight concurrent anonymous exports slowed everything; a bundle had no ETag, so every
    auditor downloaded the whole log again."""
    clock = Clock(WINDOW + 1)
    client = stack.gateway(clock, G1000_RATE_LIMIT_EXPORT_PER_MINUTE="3").test_client()
    stack.token = stack.issue(clock=clock)
    summit = _summit(client, stack)
    path = f"/v1/logs/{summit}/export"
    full = client.get(path)
    assert full.status_code == 200 and full.get_data().startswith(b'{"kind":"header"')
    etag = full.headers["ETag"]
    assert etag.startswith('"') and len(etag) == 34
    assert full.headers["Cache-Control"] == "public, max-age=10"
    assert full.headers["RateLimit-Policy"] == '"export";q=3;w=60'
    unchanged = client.get(path, headers={"If-None-Match": f'"other", {etag}'})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert unchanged.headers["ETag"] == etag and unchanged.headers["Cache-Control"] == "public, max-age=10"
    assert client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200  # a tag of no bundle
    refused = client.get(path)  # the 4th export this minute
    assert refused.status_code == 429 and refused.headers["RateLimit-Policy"] == '"export";q=3;w=60'
    assert client.get("/v1/summits").status_code == 200  # the general budget is untouched


def test_an_exports_etag_changes_with_its_checkpoint():
    from services.ledger.logs_api import bundle_etag

    one = bundle_etag("log", "key", 3, "note 3")
    assert one == bundle_etag("log", "key", 3, "note 3")
    assert len({one, bundle_etag("log", "key", 4, "note 4"), bundle_etag("log", "key2", 3, "note 3"),
                bundle_etag("log2", "key", 3, "note 3")}) == 4


def test_head_works_wherever_get_does(stack):
    """L8: HEAD was 405 where GET works."""
    client = stack.gateway().test_client()
    summit = _summit(client, stack)
    for path, headers in (("/healthz", {}), ("/readyz", {}), ("/openapi.json", {}), ("/v1/summits", {}),
                          (f"/v1/summits/{summit}", {}), (f"/v1/logs/{summit}/checkpoints", {}),
                          ("/v1/auth/whoami", stack.auth()), (f"/v1/summits/{summit}/tokens", stack.auth())):
        get, head = client.get(path, headers=headers), client.head(path, headers=headers)
        assert get.status_code == 200 or path == "/readyz", (path, get.status_code)
        assert head.status_code == get.status_code, (path, head.status_code, head.get_data(as_text=True))
        assert head.get_data() == b""
        assert head.headers["Content-Type"] == get.headers["Content-Type"]
    get, head = client.get(f"/v1/summits/{summit}"), client.head(f"/v1/summits/{summit}")
    assert head.headers["Content-Length"] == get.headers["Content-Length"] == str(len(get.get_data()))
    assert client.head("/v1/summits/no-such/topics").status_code == 404
    refused = client.head("/v1/summits", headers={"Authorization": "Bearer forged"})
    assert refused.status_code == 200  # public: an invalid token is ignored, as for GET
    not_allowed = client.delete("/v1/summits")
    assert not_allowed.status_code == 405 and not_allowed.headers["Allow"] == "GET, HEAD, POST"


@pytest.mark.parametrize("given", ["x" * 7000, "ok\tforged", "a b", "ü", "x/../y", "x" * 65, ""])
def test_a_request_id_that_is_long_or_odd_is_replaced_and_never_logged(stack, capfd, given):
    """L8: a 7 KB X-Request-Id was echoed and logged."""
    import json
    import uuid

    client = stack.gateway().test_client()
    capfd.readouterr()
    response = client.get("/v1/summits", headers={"X-Request-Id": given})
    replaced = response.headers["X-Request-Id"]
    assert replaced != given and str(uuid.UUID(replaced)) == replaced
    err = capfd.readouterr().err
    (line,) = [json.loads(x) for x in err.splitlines() if x.startswith("{")]
    assert line["request_id"] == replaced
    if given:
        assert given not in err


def test_a_plain_request_id_is_kept():
    from gateway.observability import request_id

    for given in ("req-123", "A.b_c-9", "x" * 64):
        assert request_id(given) == given


def test_readyz_is_cached_so_it_cannot_fan_out_load(stack):
    """L3: every /readyz asked all four services; now one fan-out per worker per 2 s."""
    import http.server
    import threading

    asked = []

    class Upstream(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            asked.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        stack.gateway()
        from gateway.app import create_app

        upstream = f"http://127.0.0.1:{server.server_address[1]}"
        clock = Clock(WINDOW)
        app = create_app({name: upstream for name in stack.upstreams}, env=stack.env,
                         database=stack.databases[0], clock=clock)
        client = app.test_client()
        for _ in range(20):
            assert client.get("/readyz").status_code == 200
        assert asked == ["/readyz"] * 4
        clock.now += 1.9
        assert client.get("/readyz").status_code == 200 and len(asked) == 4
        clock.now += 0.2
        assert client.get("/readyz").status_code == 200 and len(asked) == 8
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_metrics_are_internal_only(stack):
    """L3: /metrics was served to anyone. Without a metrics listener only a loopback peer that no
    proxy forwarded reads it; with one (G1000_METRICS_PORT, Kubernetes) only that listener."""
    local = stack.gateway(G1000_TRUSTED_PROXY_HOPS="1").test_client()
    assert local.get("/metrics").status_code == 200
    outside = local.get("/metrics", environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert outside.status_code == 404 and outside.content_type == "application/problem+json"
    proxied = local.get("/metrics", headers={"X-Forwarded-For": "127.0.0.1"})  # through the ingress
    assert proxied.status_code == 404
    pod = stack.gateway(G1000_METRICS_PORT="9102").test_client()
    assert pod.get("/metrics").status_code == 404  # the public listener (port 80 in the test client)
    assert pod.get("/metrics", environ_overrides={"SERVER_PORT": "9102"}).status_code == 200
    internal = {"SERVER_PORT": "9102"}
    assert pod.get("/healthz", environ_overrides=internal).status_code == 200
    assert pod.get("/v1/summits", environ_overrides=internal).status_code == 404  # nothing public there
    assert pod.get("/v1/summits").status_code == 200


def test_while_readiness_is_recomputed_other_callers_get_the_previous_answer():
    """One slow fan-out must not queue every worker thread behind it (M4)."""
    import threading

    from gateway.observability import TimedCache

    clock = Clock(0.0)
    cache = TimedCache(2.0, clock)
    assert cache.get(lambda: "first") == "first"
    clock.now = 5.0
    entered, release = threading.Event(), threading.Event()

    def slow():
        entered.set()
        assert release.wait(30)
        return "second"

    answers = []
    worker = threading.Thread(target=lambda: answers.append(cache.get(slow)))
    worker.start()
    assert entered.wait(30)
    assert cache.get(lambda: "never asked") == "first"  # the previous answer, no second fan-out
    release.set()
    worker.join(30)
    assert answers == ["second"] and cache.get(lambda: "never asked") == "second"
    assert TimedCache(0, clock).get(lambda: "always") == "always"
