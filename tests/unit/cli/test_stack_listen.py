"""Where `g1000 up` makes the gateway listen (`--host`, `--port`; issue 12 item 2)."""

from __future__ import annotations

import pytest

from g1000.cli import _parser
from g1000.stack import gateway_url, web_command


def test_up_takes_a_host_and_a_port_and_defaults_to_loopback_and_a_free_port():
    args = _parser().parse_args(["up"])
    assert (args.host, args.port) == ("127.0.0.1", 0)
    args = _parser().parse_args(["up", "--host", "0.0.0.0", "--port", "8080"])
    assert (args.host, args.port) == ("0.0.0.0", 8080)


@pytest.mark.parametrize("port", ["-1", "65536", "http"])
def test_a_port_outside_the_range_is_a_usage_error(port, capsys):
    with pytest.raises(SystemExit) as stopped:
        _parser().parse_args(["up", "--port", port])
    assert stopped.value.code == 2 and "--port" in capsys.readouterr().err


def test_gunicorn_binds_the_host_given_and_an_ipv6_host_in_brackets():
    assert web_command("app:create_app()", 8080, 1)[4] == "127.0.0.1:8080"
    assert web_command("app:create_app()", 8080, 1, "0.0.0.0")[4] == "0.0.0.0:8080"
    assert web_command("app:create_app()", 8080, 1, "::")[4] == "[::]:8080"


def test_a_wildcard_bind_is_reached_on_loopback():
    assert gateway_url("0.0.0.0", 8080) == "http://127.0.0.1:8080"
    assert gateway_url("::", 8080) == "http://[::1]:8080"
    assert gateway_url("192.0.2.7", 80) == "http://192.0.2.7:80"
