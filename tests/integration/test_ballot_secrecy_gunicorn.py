"""The secrecy scan of tests/integration/test_ballot_secrecy.py over real processes: the ballot
service and the gateway each served by gunicorn exactly as `g1000 up` runs them
(g1000.stack.web_command, its access-log format), voters using the client module over HTTP
(g1000/ballot_http.py). Every line of both processes' output (gunicorn's access and error logs,
the apps' own logs) is scanned: no line holds something of a participant beside something of a
vote, and no line names a cast or receipt path (docs/ballot.md, "What the gateway keeps of a
cast"); the credential requests are logged, so the logs are really read.
"""

from __future__ import annotations

import base64
import os
import subprocess
import time

import pytest
import requests

from g1000.ballot_client import BallotClient
from g1000.ballot_http import anonymous_http
from g1000.procs import free_port, stop_process
from g1000.services import SERVICE_MODULES
from g1000.stack import web_command
from tests.support.ballot_secrecy import choice_of, close_and_tally, every_row, links, open_ballot

pytestmark = pytest.mark.integration

N = 8


def spawn(target: str, env: dict, log_path):
    port = free_port()
    with open(log_path, "wb") as log:
        process = subprocess.Popen(web_command(target, port, 1), env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if requests.get(url + "/healthz", timeout=2).status_code == 200:
                return process, url
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_process(process)
            raise AssertionError(log_path.read_text())
        time.sleep(0.2)


@pytest.fixture
def served(stack, tmp_path):
    """gunicorn with the ballot service, and gunicorn with a gateway in front of it."""
    stack.gateway()  # the gateway's database exists and is migrated
    base = dict(os.environ, **stack.env)
    logs = {"ballot": tmp_path / "ballot.log", "gateway": tmp_path / "gateway.log"}
    ballot, ballot_url = spawn(f"{SERVICE_MODULES['ballot']}:create_app()", base, logs["ballot"])
    try:
        upstreams = dict(stack.upstreams, ballot=ballot_url)
        env = dict(base, **{f"G1000_{name.upper()}_URL": url for name, url in upstreams.items()})
        gateway, gateway_url = spawn("gateway.app:create_app()", env, logs["gateway"])
        try:
            yield gateway_url, logs
        finally:
            stop_process(gateway)
    finally:
        stop_process(ballot)


def test_no_line_of_gunicorn_or_the_apps_links_a_participant_to_a_vote(stack, tmp_path, served):
    gateway_url, logs = served
    b = open_ballot(stack, tmp_path, N)  # summit, seats, check-in and opening in process
    http = anonymous_http(gateway_url)
    for i, v in enumerate(b.voters):
        voter = BallotClient(http, b.summit_id, b.ballot_id)
        credential = voter.obtain_credential(v.token)
        v.nullifier, sealed = voter.cast(credential, choice_of(i))
        assert voter.receipt(credential, sealed, "unused while pending") is None
        v.credential = {"token": credential.token.hex(), "prefix": credential.prefix.hex(),
                        "signature": base64.b64encode(credential.signature).decode()}
        v.sealed = base64.b64encode(sealed).decode()
    close_and_tally(b)
    lines = {name: path.read_text(errors="replace").splitlines() for name, path in logs.items()}
    for name, text in lines.items():
        assert [line for line in text if "/credentials" in line], f"no {name} line for the credential requests"
        assert [line for line in text if "/votes" in line] == [], name
        assert links(text, b.voters) == [], name
    assert links([r.text for r in every_row(stack.env)], b.voters) == []
