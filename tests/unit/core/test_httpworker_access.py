"""gunicorn's access log skips the ballot's unlinked paths (services/core/httpworker.py)."""

from __future__ import annotations

import pytest

from services.core.httpworker import quiet_access

S, B = "3f2b8c1e-5d4a-4e7b-9c10-2a6f8d9e0b47", "8a1d2c3b-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


@pytest.mark.parametrize("path, logged", [
    (f"/v1/summits/{S}/ballots/{B}/votes", False),
    (f"/v1/summits/{S}/ballots/{B}/votes/{'ab' * 32}", False),
    (f"/v1/summits/{S}/ballots/{B}/votes/", False),
    (f"/v1/summits/{S}/ballots/{B}", True),
    (f"/v1/summits/{S}/ballots/{B}/credentials", True),
    (f"/v1/summits/{S}/ballots/{B}/shares", True),
    ("/v1/summits", True),
])
def test_only_casts_and_receipts_go_unlogged(path, logged):
    lines = []
    access = quiet_access(lambda resp, req, environ, took: lines.append(environ["PATH_INFO"]))
    access(None, None, {"PATH_INFO": path, "REQUEST_METHOD": "POST"}, 0)
    assert lines == ([path] if logged else [])
