"""`load_config`: every setting comes from one environment variable and is checked before use.

A malformed value must stop the process with a one-line ConfigError that *names the variable* (so
an operator can fix the right line of a manifest), never a traceback from deep inside a driver. A
good environment must give each service its own database (`g1000_<service>` on the configured
server, unless a per-service URL overrides it), the default key locations under the data directory,
and the topic names `<prefix>.<stream>` of docs/architecture.md §3. Pure: only temporary files, no servers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from psycopg.conninfo import conninfo_to_dict

from services.core.config import SERVICES, load_config
from services.core.errors import ConfigError

SERVER_URL = "postgresql://g1000:s3cret@db.example.org:5433/postgres"


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    data = tmp_path / "data"
    data.mkdir()
    return {
        "G1000_DATA_DIR": str(data),
        "G1000_DATABASE_URL": SERVER_URL,
        "G1000_KAFKA_BOOTSTRAP": "kafka-0.kafka:9092,kafka-1.kafka:9092",
    }


def _error(service: str, env: dict) -> str:
    with pytest.raises(ConfigError) as info:
        load_config(service, env)
    message = str(info.value)
    assert "\n" not in message.strip()  # one line
    return message


# --------------------------------------------------------------------------------------------
# a good environment
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICES)
def test_good_environment_gives_the_service_its_own_database(env, service):
    config = load_config(service, env)
    params = conninfo_to_dict(config.database_url)
    assert params["dbname"] == f"g1000_{service}"
    assert (params["host"], params["port"], params["user"], params["password"]) == (
        "db.example.org", "5433", "g1000", "s3cret"
    )
    assert config.service == service


def test_services_are_the_four_streams():
    assert SERVICES == ("ledger", "lottery", "agenda", "ballot")


def test_good_environment_defaults(env):
    config = load_config("agenda", env)
    data = Path(env["G1000_DATA_DIR"])
    assert config.data_dir == data
    assert config.kafka_bootstrap == "kafka-0.kafka:9092,kafka-1.kafka:9092"
    assert config.key_file == data / "keys" / "agenda.key"
    assert config.trusted_keys_dir == data / "keys"
    assert config.internal_token_sha256 is None
    assert config.token_public_key_file == data / "secrets" / "tokens.pub"
    assert (config.topic_prefix, config.partitions, config.max_poll_interval_ms) == ("g1000", 3, 5_000)


def test_topic_names_are_prefix_dot_stream(env):
    config = load_config("ledger", env)
    assert config.topic_names == {
        "ledger": "g1000.ledger", "lottery": "g1000.lottery",
        "agenda": "g1000.agenda", "ballot": "g1000.ballot",
    }
    env["G1000_TOPIC_PREFIX"] = "t1a2b.test-run_3"
    assert load_config("ballot", env).topic_names["ballot"] == "t1a2b.test-run_3.ballot"


def test_explicit_settings_are_used(env, tmp_path):
    internal = tmp_path / "internal.token"
    internal.write_text("internal-token-0123456789abcdef")
    env.update({
        "G1000_AGENDA_DATABASE_URL": "postgresql://other@elsewhere/agenda_db",
        "G1000_KEY_FILE": str(tmp_path / "secret" / "agenda.key"),
        "G1000_TRUSTED_KEYS_DIR": str(tmp_path / "trusted"),
        "G1000_TOKEN_PUBLIC_KEY_FILE": str(tmp_path / "tokens.pub"),
        "G1000_INTERNAL_TOKEN_FILE": str(internal),
        "G1000_KAFKA_PARTITIONS": "64",
        "G1000_MAX_POLL_INTERVAL_MS": "1000",
        "G1000_KAFKA_BOOTSTRAP": "[::1]:9092",
    })
    config = load_config("agenda", env)
    assert config.database_url == "postgresql://other@elsewhere/agenda_db"
    assert config.key_file == tmp_path / "secret" / "agenda.key"
    assert config.trusted_keys_dir == tmp_path / "trusted"
    # tokens: stored only as the SHA-256 of the stripped token text
    assert config.token_public_key_file == tmp_path / "tokens.pub"
    assert config.internal_token_sha256 == hashlib.sha256(b"internal-token-0123456789abcdef").digest()
    assert (config.partitions, config.max_poll_interval_ms, config.kafka_bootstrap) == (64, 1000, "[::1]:9092")
    # the override is per service: another service still gets its own database on the server
    assert conninfo_to_dict(load_config("ballot", env).database_url)["dbname"] == "g1000_ballot"


def test_postgres_scheme_is_accepted(env):
    env["G1000_DATABASE_URL"] = "postgres://u@h/x"
    assert conninfo_to_dict(load_config("lottery", env).database_url)["dbname"] == "g1000_lottery"


def test_surrounding_whitespace_of_required_values_is_ignored(env):
    env["G1000_KAFKA_BOOTSTRAP"] = " localhost:9092\n"
    assert load_config("agenda", env).kafka_bootstrap == "localhost:9092"


def test_process_environment_is_used_when_none_is_given(env, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("G1000_TOPIC_PREFIX", "fromenv")
    assert load_config("agenda").topic_prefix == "fromenv"


def test_the_given_environment_is_not_modified(env):
    before = dict(env)
    load_config("agenda", env)
    assert env == before


# --------------------------------------------------------------------------------------------
# malformed values: ConfigError naming the variable
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", [None, "", "   "], ids=["unset", "empty", "blank"])
@pytest.mark.parametrize("name", ["G1000_DATA_DIR", "G1000_DATABASE_URL", "G1000_KAFKA_BOOTSTRAP"])
def test_missing_required_variable(env, name, value):
    if value is None:
        del env[name]
    else:
        env[name] = value
    message = _error("agenda", env)
    assert name in message and "not set" in message


def test_data_dir_that_is_a_file(env, tmp_path):
    (tmp_path / "file").write_text("x")
    env["G1000_DATA_DIR"] = str(tmp_path / "file")
    assert "G1000_DATA_DIR" in _error("agenda", env)


def test_data_dir_that_does_not_exist(env, tmp_path):
    env["G1000_DATA_DIR"] = str(tmp_path / "missing")
    message = _error("agenda", env)
    assert "G1000_DATA_DIR" in message and "not a directory" in message


@pytest.mark.parametrize(
    "url",
    ["mysql://u:s3cret@h/db", "http://db:5432", "POSTGRESQL://h/db", "sqlite:///x", "postgresql:/missing-slash",
     "postgresql://u@h/db?sslmode", "not a connection string", "host=db port"],
)
def test_database_url_must_be_postgresql(env, url):
    env["G1000_DATABASE_URL"] = url
    message = _error("agenda", env)
    assert "G1000_DATABASE_URL" in message
    assert "s3cret" not in message


def test_key_value_connection_string_is_accepted(env):
    env["G1000_DATABASE_URL"] = "host=db.example.org port=5433 user=g1000 dbname=postgres"
    params = conninfo_to_dict(load_config("ballot", env).database_url)
    assert (params["host"], params["port"], params["dbname"]) == ("db.example.org", "5433", "g1000_ballot")


@pytest.mark.parametrize("url", ["mysql://u@h/db", "postgresql://u@h/db?sslmode"])
def test_per_service_database_url_is_checked_and_named(env, url):
    env["G1000_LEDGER_DATABASE_URL"] = url
    message = _error("ledger", env)
    assert "G1000_LEDGER_DATABASE_URL" in message
    # ... and only for its own service
    assert conninfo_to_dict(load_config("agenda", env).database_url)["dbname"] == "g1000_agenda"


@pytest.mark.parametrize(
    "bootstrap",
    ["localhost", "a:b", "localhost:", ":9092", "host:9092,", "host:9092,,other:9092", "host:123456",
     "host 1:9092", "kafka://host:9092", "host:9092;other:9092"],
)
def test_bad_kafka_bootstrap(env, bootstrap):
    env["G1000_KAFKA_BOOTSTRAP"] = bootstrap
    message = _error("agenda", env)
    assert "G1000_KAFKA_BOOTSTRAP" in message and "host:port" in message


@pytest.mark.parametrize("bootstrap", ["localhost:99999", "localhost:0"])
def test_bootstrap_port_out_of_range(env, bootstrap):
    env["G1000_KAFKA_BOOTSTRAP"] = bootstrap
    assert "G1000_KAFKA_BOOTSTRAP" in _error("agenda", env)


@pytest.mark.parametrize("prefix", ["", "with space", "a/b", "x" * 101, "é", "g1000:"])
def test_bad_topic_prefix(env, prefix):
    env["G1000_TOPIC_PREFIX"] = prefix
    message = _error("agenda", env)
    assert "G1000_TOPIC_PREFIX" in message


def test_longest_topic_prefix_is_accepted(env):
    env["G1000_TOPIC_PREFIX"] = "x" * 100
    assert load_config("agenda", env).topic_prefix == "x" * 100


def test_topic_prefix_with_trailing_newline(env):
    env["G1000_TOPIC_PREFIX"] = "g1000\n"
    assert "G1000_TOPIC_PREFIX" in _error("agenda", env)


@pytest.mark.parametrize(
    ("name", "value", "what"),
    [
        ("G1000_KAFKA_PARTITIONS", "0", "outside 1..64"),
        ("G1000_KAFKA_PARTITIONS", "65", "outside 1..64"),
        ("G1000_KAFKA_PARTITIONS", "-1", "outside 1..64"),
        ("G1000_KAFKA_PARTITIONS", "x", "not an integer"),
        ("G1000_KAFKA_PARTITIONS", "2.5", "not an integer"),
        ("G1000_KAFKA_PARTITIONS", "0x10", "not an integer"),
        ("G1000_MAX_POLL_INTERVAL_MS", "999", "outside 1000..300000"),
        ("G1000_MAX_POLL_INTERVAL_MS", "300001", "outside 1000..300000"),
        ("G1000_MAX_POLL_INTERVAL_MS", "5s", "not an integer"),
    ],
)
def test_bad_integer_setting(env, name, value, what):
    env[name] = value
    message = _error("agenda", env)
    assert name in message and what in message


@pytest.mark.parametrize("name", ["G1000_KAFKA_PARTITIONS", "G1000_MAX_POLL_INTERVAL_MS"])
def test_integer_setting_boundaries_are_accepted(env, name):
    low, high = {"G1000_KAFKA_PARTITIONS": (1, 64), "G1000_MAX_POLL_INTERVAL_MS": (1000, 300000)}[name]
    for value in (low, high):
        env[name] = str(value)
        config = load_config("agenda", env)
        assert value == (config.partitions if name == "G1000_KAFKA_PARTITIONS" else config.max_poll_interval_ms)


@pytest.mark.parametrize("name", ["G1000_INTERNAL_TOKEN_FILE"])
def test_missing_token_file(env, tmp_path, name):
    env[name] = str(tmp_path / "nope.token")
    message = _error("agenda", env)
    assert name in message and "cannot read" in message


@pytest.mark.parametrize("name", ["G1000_INTERNAL_TOKEN_FILE"])
@pytest.mark.parametrize("token", ["", "Qz7-tok3n", "x" * 19, "   " + "y" * 18 + "  \n"])
def test_token_too_short(env, tmp_path, name, token):
    path = tmp_path / "t.token"
    path.write_text(token)
    env[name] = str(path)
    message = _error("agenda", env)
    assert name in message and "too short" in message
    if token.strip():
        assert token.strip() not in message  # the secret itself is not echoed


def test_token_of_exactly_20_characters_is_accepted(env, tmp_path):
    path = tmp_path / "t.token"
    path.write_text("z" * 20 + "\n")
    env["G1000_INTERNAL_TOKEN_FILE"] = str(path)
    assert load_config("agenda", env).internal_token_sha256 == hashlib.sha256(b"z" * 20).digest()


@pytest.mark.parametrize("service", ["gateway", "", "Agenda", "ledger ", "voting"])
def test_unknown_service(env, service):
    message = _error(service, env)
    assert repr(service) in message and "unknown service" in message


def test_unknown_service_is_reported_before_the_environment(tmp_path):
    message = _error("voting", {})
    assert "unknown service" in message


def test_register_k_anonymity_defaults_to_5_and_is_bounded(env):
    assert load_config("lottery", env).register_k_anonymity == 5
    assert load_config("lottery", {**env, "G1000_REGISTER_K_ANONYMITY": "12"}).register_k_anonymity == 12
    for bad in ("1", "101", "five"):
        assert "G1000_REGISTER_K_ANONYMITY" in _error("lottery", {**env, "G1000_REGISTER_K_ANONYMITY": bad})


def test_database_timeouts_default_to_seconds_and_are_configurable(env):
    """M4: a request waits a bounded time for PostgreSQL; the bounds come from G1000_DB_*."""
    from services.core.db import DatabaseTimeouts

    assert load_config("ledger", env).db_timeouts == DatabaseTimeouts()
    assert DatabaseTimeouts().answer_seconds == 6.0
    timeouts = load_config("ledger", dict(env, G1000_DB_CONNECT_TIMEOUT_S="2", G1000_DB_STATEMENT_TIMEOUT_MS="0",
                                          G1000_DB_POOL_TIMEOUT_S="4")).db_timeouts
    assert (timeouts.connect_seconds, timeouts.statement_ms, timeouts.pool_seconds) == (2, 0, 4.0)
    assert timeouts.answer_seconds is None
    kwargs = DatabaseTimeouts().connection_kwargs(SERVER_URL + "?options=-c%20search_path%3Dx")
    assert kwargs["options"] == "-c search_path=x -c statement_timeout=5000"
    assert kwargs["connect_timeout"] == 3 and kwargs["keepalives"] == 1
    assert "G1000_DB_STATEMENT_TIMEOUT_MS" in _error("ledger", dict(env, G1000_DB_STATEMENT_TIMEOUT_MS="soon"))


def test_every_package_numbers_its_migrations_once():
    """Two migrations with one number: only one would be applied, chosen by a directory listing."""
    from services.core.db import _migration_files

    for package in ("services.core", "services.ledger", "services.lottery", "services.agenda",
                    "services.ballot", "gateway"):
        versions = [version for version, _, _ in _migration_files(package)]
        assert versions == sorted(set(versions)), package


# ---- broker authentication (issue 10 L6) ---------------------------------------------------------

def test_the_broker_is_plaintext_unless_told(env):
    from services.core.kafka import PLAINTEXT

    config = load_config("agenda", env)
    assert config.kafka_security == PLAINTEXT
    assert config.kafka_security.client_options() == {"security_protocol": "PLAINTEXT"}


def test_scram_over_tls_reads_its_password_when_a_client_is_made(env, tmp_path):
    password, ca = tmp_path / "password", tmp_path / "ca.crt"
    password.write_text("pw-from-strimzi\n")
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    env |= {"G1000_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "G1000_KAFKA_USERNAME": "g1000-agenda",
            "G1000_KAFKA_PASSWORD_FILE": str(password), "G1000_KAFKA_CA_FILE": str(ca)}
    security = load_config("agenda", env).kafka_security
    assert security.client_options() == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "g1000-agenda",
        "sasl_plain_password": "pw-from-strimzi", "ssl_check_hostname": True, "ssl_cafile": str(ca)}
    password.write_text("rotated")  # the next client uses the Secret as it is now
    assert security.client_options()["sasl_plain_password"] == "rotated"


def test_mutual_tls_needs_a_certificate_and_its_key(env, tmp_path):
    cert, key = tmp_path / "user.crt", tmp_path / "user.key"
    cert.write_text("cert")
    key.write_text("key")
    env |= {"G1000_KAFKA_SECURITY_PROTOCOL": "ssl", "G1000_KAFKA_CERT_FILE": str(cert)}
    assert "G1000_KAFKA_KEY_FILE is not set" in _error("ballot", env)
    env["G1000_KAFKA_KEY_FILE"] = str(key)
    options = load_config("ballot", env).kafka_security.client_options()
    assert (options["security_protocol"], options["ssl_certfile"], options["ssl_keyfile"]) == \
        ("SSL", str(cert), str(key))
    assert "sasl_mechanism" not in options


@pytest.mark.parametrize("extra,message", [
    ({"G1000_KAFKA_SECURITY_PROTOCOL": "KERBEROS"}, "G1000_KAFKA_SECURITY_PROTOCOL='KERBEROS' is not one of"),
    ({"G1000_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "G1000_KAFKA_USERNAME is not set"),
    ({"G1000_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "G1000_KAFKA_USERNAME": "u"}, "G1000_KAFKA_PASSWORD_FILE is not set"),
    ({"G1000_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "G1000_KAFKA_USERNAME": "u",
      "G1000_KAFKA_PASSWORD_FILE": "/nonexistent/password"}, "G1000_KAFKA_PASSWORD_FILE: cannot read"),
    ({"G1000_KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT", "G1000_KAFKA_USERNAME": "u",
      "G1000_KAFKA_SASL_MECHANISM": "PLAIN"}, "G1000_KAFKA_SASL_MECHANISM='PLAIN' is not one of"),
])
def test_bad_broker_authentication_settings_are_named(env, extra, message):
    assert message in _error("lottery", env | extra)


def test_an_empty_password_file_is_refused(env, tmp_path):
    (tmp_path / "empty").write_text("\n")
    env |= {"G1000_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "G1000_KAFKA_USERNAME": "u",
            "G1000_KAFKA_PASSWORD_FILE": str(tmp_path / "empty")}
    assert "G1000_KAFKA_PASSWORD_FILE" in _error("lottery", env) and "is empty" in _error("lottery", env)
