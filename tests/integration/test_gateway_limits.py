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
