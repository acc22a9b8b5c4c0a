"""Rate limits per token and per anonymous address, counted in the gateway's database: the request
over the limit is 429 problem+json with Retry-After and RateLimit fields, and the next window
admits requests again. The clock is the test's, so nothing depends on timing."""

from __future__ import annotations

import time

import pytest

from gateway.settings import load_gateway_settings
from services.core.errors import ConfigError
from tests.integration.gateway_support import Clock

pytestmark = pytest.mark.integration

# a multiple of 60 (a window starts here) near the real time, so tokens the services check are valid
WINDOW = int(time.time()) // 60 * 60 - 120


def test_anonymous_limit_answers_429_until_the_window_resets(stack):
    clock = Clock(WINDOW + 15.2)
    client = stack.gateway(clock, G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE="2").test_client()
    first = client.get("/v1/summits")
    assert first.status_code == 200
    assert first.headers["RateLimit-Policy"] == '"address";q=2;w=60'
    assert first.headers["RateLimit"] == '"address";r=1;t=45'
    assert client.get("/v1/summits").headers["RateLimit"] == '"address";r=0;t=45'
    refused = client.get("/v1/summits")
    assert refused.status_code == 429 and refused.content_type == "application/problem+json"
    assert refused.headers["Retry-After"] == "45"
    assert refused.get_json()["status"] == 429 and refused.headers["X-Request-Id"]
    clock.now = WINDOW + 59.5
    assert client.get("/v1/summits").headers["Retry-After"] == "1"
    clock.now = WINDOW + 60
    again = client.get("/v1/summits")
    assert again.status_code == 200 and again.headers["RateLimit"] == '"address";r=1;t=60'


def test_each_token_has_its_own_budget_and_health_is_exempt(stack):
    clock = Clock(WINDOW)
    client = stack.gateway(clock, G1000_RATE_LIMIT_PER_MINUTE="1", G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE="1").test_client()
    mine = {"Authorization": f"Bearer {stack.issue(clock=clock)}"}
    assert client.get("/v1/summits", headers=mine).status_code == 200
    assert client.get("/v1/summits", headers=mine).status_code == 429
    other = {"Authorization": f"Bearer {stack.issue(clock=clock)}"}  # another token: its own budget
    assert client.get("/v1/summits", headers=other).status_code == 200
    assert client.get("/v1/summits", headers=other).headers["RateLimit-Policy"] == '"token";q=1;w=60'
    invented = {"Authorization": "Bearer someone-else"}  # not a token: counted against the address
    response = client.get("/v1/summits", headers=invented)
    assert response.status_code == 200 and response.headers["RateLimit-Policy"] == '"address";q=1;w=60'
    assert client.get("/v1/summits").status_code == 429  # the anonymous address: same budget
    for path in ("/healthz", "/metrics", "/readyz"):
        response = client.get(path)
        assert response.status_code != 429 and "RateLimit" not in response.headers


def test_counters_are_shared_by_gateway_processes(stack):
    clock = Clock(WINDOW + 1)
    one = stack.gateway(clock, G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE="2").test_client()
    two = stack.gateway(clock, G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE="2").test_client()
    assert one.get("/v1/summits").status_code == 200
    assert two.get("/v1/summits").status_code == 200
    assert one.get("/v1/summits").status_code == 429
    assert stack.gateway_rows("SELECT hits FROM rate_counters WHERE bucket = 'addr:127.0.0.1'") == [(3,)]


def test_idempotent_replays_are_counted_too(stack):
    clock = Clock(WINDOW)
    client = stack.gateway(clock, G1000_RATE_LIMIT_PER_MINUTE="1").test_client()
    headers = {"Authorization": f"Bearer {stack.issue(clock=clock)}", "Idempotency-Key": "k"}
    from tests.integration.gateway_support import SUMMIT

    assert client.post("/v1/summits", json=SUMMIT, headers=headers).status_code == 201
    assert client.post("/v1/summits", json=SUMMIT, headers=headers).status_code == 429


@pytest.mark.parametrize("name,value,message", [
    ("G1000_RATE_LIMIT_PER_MINUTE", "lots", "is not an integer"),
    ("G1000_RATE_LIMIT_PER_MINUTE", "0", "outside 1..1000000"),
    ("G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE", "-5", "outside 1..1000000"),
])
def test_bad_limits_are_config_errors(name, value, message):
    with pytest.raises(ConfigError, match=f"{name}.*{message}"):
        load_gateway_settings({"G1000_DATABASE_URL": "postgresql://localhost/x", name: value})


def test_the_gateway_needs_a_database():
    with pytest.raises(ConfigError, match="G1000_DATABASE_URL is not set"):
        load_gateway_settings({})
    with pytest.raises(ConfigError, match="G1000_GATEWAY_DATABASE_URL"):
        load_gateway_settings({"G1000_GATEWAY_DATABASE_URL": "mysql://x/y"})
    settings = load_gateway_settings({"G1000_DATABASE_URL": "postgresql://u@h:5/postgres", "G1000_DATA_DIR": "/d"})
    assert "dbname=g1000_gateway" in settings.database_url
    assert (settings.rate_limit_per_token, settings.rate_limit_per_address) == (600, 300)


def test_behind_a_trusted_proxy_each_client_has_its_own_budget(stack):
    clock = Clock(WINDOW)
    direct = stack.gateway(clock, G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE="1").test_client()
    proxied = stack.gateway(clock, G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE="1", G1000_TRUSTED_PROXY_HOPS="1").test_client()
    one, two = {"X-Forwarded-For": "198.51.100.7"}, {"X-Forwarded-For": "198.51.100.8"}
    assert proxied.get("/v1/summits", headers=one).status_code == 200
    assert proxied.get("/v1/summits", headers=one).status_code == 429
    assert proxied.get("/v1/summits", headers=two).status_code == 200  # another client behind the proxy
    # without trusting a proxy, the header is the client's own claim and changes nothing
    assert direct.get("/v1/summits", headers=one).status_code == 200
    assert direct.get("/v1/summits", headers=two).status_code == 429


def test_proxy_hops_must_be_small(stack):
    with pytest.raises(ConfigError, match="G1000_TRUSTED_PROXY_HOPS"):
        load_gateway_settings({"G1000_DATABASE_URL": "postgresql://localhost/x", "G1000_DATA_DIR": "/d",
                               "G1000_TRUSTED_PROXY_HOPS": "many"})


def test_counters_are_unlogged_so_counting_waits_for_no_disk_flush(stack):
    """Durability would cost a WAL flush per request and buy nothing (migration 0004)."""
    assert stack.gateway_rows("SELECT relpersistence FROM pg_class WHERE relname = 'rate_counters'") == [("u",)]
    assert stack.gateway_rows("SELECT relpersistence FROM pg_class WHERE relname = 'idempotency_keys'") == [("p",)]
