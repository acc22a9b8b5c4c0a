"""Bad configuration or unreachable servers at start: one clear line, a non-zero exit, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from g1000.procs import free_port

pytestmark = pytest.mark.integration


def g1000(args: list[str], env: dict, tmp_path, timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("G1000_")}
    return subprocess.run([sys.executable, "-m", "g1000.cli", *args], env={**clean, **env}, cwd=tmp_path,
                          capture_output=True, text=True, timeout=timeout)


def assert_one_clear_line(result, code: int, *words: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr)
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("g1000: error: "), result.stderr
    for word in words:
        assert word in last, (word, last)


@pytest.mark.parametrize("change, code, words", [
    ({"G1000_KAFKA_BOOTSTRAP": "localhost"}, 2, ["G1000_KAFKA_BOOTSTRAP", "host:port"]),
    ({"G1000_DATABASE_URL": "mysql://db/x"}, 2, ["G1000_DATABASE_URL", "postgresql://"]),
    ({"G1000_DATA_DIR": "/nonexistent/g1000"}, 2, ["G1000_DATA_DIR", "not a directory"]),
    ({"G1000_KAFKA_PARTITIONS": "many"}, 2, ["G1000_KAFKA_PARTITIONS", "not an integer"]),
    ({"G1000_INTERNAL_TOKEN_FILE": "/nonexistent/token"}, 2, ["G1000_INTERNAL_TOKEN_FILE", "cannot read"]),
])
def test_malformed_config_of_a_worker(service_env, tmp_path, change, code, words):
    result = g1000(["worker", "relay", "agenda"], {**service_env, **change}, tmp_path)
    assert_one_clear_line(result, code, *words)


def test_unreachable_database_at_worker_start(service_env, tmp_path):
    env = {**service_env, "G1000_AGENDA_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/x"}
    result = g1000(["worker", "relay", "agenda"], env, tmp_path)
    assert_one_clear_line(result, 3, "cannot reach PostgreSQL", "127.0.0.1")


def test_unreachable_broker_at_consumer_start(service_env, tmp_path):
    env = {**service_env, "G1000_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}"}
    result = g1000(["worker", "consume", "agenda"], env, tmp_path)
    assert_one_clear_line(result, 3, "cannot reach the Kafka broker", env["G1000_KAFKA_BOOTSTRAP"])


def test_up_with_unreachable_external_database(tmp_path):
    env = {"G1000_DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/postgres"}
    result = g1000(["up", "--data-dir", str(tmp_path / "d")], env, tmp_path)
    assert_one_clear_line(result, 3, "cannot reach PostgreSQL")


def test_up_with_malformed_external_database_url(tmp_path):
    result = g1000(["up", "--data-dir", str(tmp_path / "d")], {"G1000_DATABASE_URL": "not a url"}, tmp_path)
    assert_one_clear_line(result, 2, "G1000_DATABASE_URL")


def test_up_with_unreachable_external_broker(database_server_url, tmp_path):
    env = {"G1000_DATABASE_URL": database_server_url, "G1000_KAFKA_BOOTSTRAP": f"127.0.0.1:{free_port()}"}
    result = g1000(["up", "--data-dir", str(tmp_path / "d")], env, tmp_path)
    assert_one_clear_line(result, 3, "cannot reach the Kafka broker", env["G1000_KAFKA_BOOTSTRAP"])


def test_demo_without_credential(tmp_path):
    result = g1000(["demo", "--gateway", "http://127.0.0.1:1"], {}, tmp_path)
    assert_one_clear_line(result, 2, "no organiser token")
