"""Configuration of a service process, read from the environment and checked before use.

Every setting has one environment variable. A malformed value stops the process with one line
naming the variable and what is wrong (ConfigError), never a traceback.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from .db import DatabaseTimeouts, database_url
from .errors import ConfigError
from .kafka import PLAINTEXT, PROTOCOLS, SASL_MECHANISMS, KafkaSecurity
from .registry import BY_NAME, DEFAULT_TOPIC_PREFIX, SERVICES, topic_for  # SERVICES: read by many

_BOOTSTRAP_RE = re.compile(r"^[A-Za-z0-9._\-\[\]:]+:\d{1,5}(,[A-Za-z0-9._\-\[\]:]+:\d{1,5})*$")


@dataclass(frozen=True)
class ServiceConfig:
    service: str
    data_dir: Path
    database_url: str
    kafka_bootstrap: str
    key_file: Path
    trusted_keys_dir: Path
    token_public_key_file: Path  # Ed25519 public key that signs bearer tokens (services/core/tokens.py)
    internal_token_sha256: bytes | None
    topic_prefix: str = DEFAULT_TOPIC_PREFIX
    partitions: int = 3
    max_poll_interval_ms: int = 5_000
    # lottery: the k of the k-anonymity check of what a register publishes (services/lottery/privacy.py)
    register_k_anonymity: int = 5
    # ballot (docs/ballot.md): pending casts are appended as one shuffled batch once this many wait,
    # or every ballot_batch_seconds, and always at closing; the credential key's modulus in bits
    ballot_batch: int = 10
    ballot_batch_seconds: int = 30
    ballot_key_bits: int = 3072
    db_timeouts: DatabaseTimeouts = DatabaseTimeouts()
    kafka_security: KafkaSecurity = PLAINTEXT  # G1000_KAFKA_SECURITY_PROTOCOL etc. (issue 10 L6)
    # the owner role's URL of this service's database (G1000_MIGRATION_DATABASE_URL): migrations
    # and grants run as it; None: migrate with database_url (a single-role setup)
    migration_url: str | None = None

    @property
    def topic_names(self) -> dict[str, str]:
        return {s.stream: topic_for(s.stream, self.topic_prefix) for s in BY_NAME.values()}


def _required(env: dict, name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set")
    return value


def _int(env: dict, name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ConfigError(f"{name}={value} is outside {low}..{high}")
    return value


def _token_hash(env: dict, name: str) -> bytes | None:
    path = env.get(name)
    if not path:
        return None
    try:
        token = Path(path).read_text().strip()
    except OSError as e:
        raise ConfigError(f"{name}: cannot read {path}: {e.strerror}") from None
    if len(token) < 20:
        raise ConfigError(f"{name}: the token in {path} is too short to be a secret")
    return hashlib.sha256(token.encode()).digest()


def database_timeouts(env: dict) -> DatabaseTimeouts:
    """G1000_DB_CONNECT_TIMEOUT_S, G1000_DB_STATEMENT_TIMEOUT_MS (0: none), G1000_DB_POOL_TIMEOUT_S:
    how long a request may wait for PostgreSQL before it answers 503."""
    default = DatabaseTimeouts()
    return DatabaseTimeouts(
        connect_seconds=_int(env, "G1000_DB_CONNECT_TIMEOUT_S", default.connect_seconds, 1, 300),
        statement_ms=_int(env, "G1000_DB_STATEMENT_TIMEOUT_MS", default.statement_ms, 0, 3_600_000),
        pool_seconds=float(_int(env, "G1000_DB_POOL_TIMEOUT_S", int(default.pool_seconds), 1, 300)),
    )


def _readable_file(env: dict, name: str, required: bool) -> Path | None:
    raw = (env.get(name) or "").strip()
    if not raw:
        if required:
            raise ConfigError(f"{name} is not set")
        return None
    path = Path(raw)
    try:
        if not path.read_bytes().strip():
            raise ConfigError(f"{name}: {path} is empty")
    except OSError as e:
        raise ConfigError(f"{name}: cannot read {path}: {e.strerror}") from None
    return path


def kafka_security(env: dict) -> KafkaSecurity:
    """How to authenticate to the broker: G1000_KAFKA_SECURITY_PROTOCOL (PLAINTEXT, the default;
    SASL_SSL or SASL_PLAINTEXT with G1000_KAFKA_SASL_MECHANISM, G1000_KAFKA_USERNAME and
    G1000_KAFKA_PASSWORD_FILE; SSL, i.e. mutual TLS, with G1000_KAFKA_CERT_FILE and
    G1000_KAFKA_KEY_FILE) and, for TLS, G1000_KAFKA_CA_FILE. Files are checked readable here."""
    protocol = (env.get("G1000_KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT").strip().upper()
    if protocol not in PROTOCOLS:
        raise ConfigError(f"G1000_KAFKA_SECURITY_PROTOCOL={protocol!r} is not one of {', '.join(PROTOCOLS)}")
    if protocol == "PLAINTEXT":
        return PLAINTEXT
    tls = protocol in ("SASL_SSL", "SSL")
    ca = _readable_file(env, "G1000_KAFKA_CA_FILE", False) if tls else None
    if protocol == "SSL":
        cert = _readable_file(env, "G1000_KAFKA_CERT_FILE", True)
        key = _readable_file(env, "G1000_KAFKA_KEY_FILE", True)
        return KafkaSecurity(protocol, ca_file=ca, cert_file=cert, key_file=key)
    mechanism = (env.get("G1000_KAFKA_SASL_MECHANISM") or "SCRAM-SHA-512").strip().upper()
    if mechanism not in SASL_MECHANISMS:
        raise ConfigError(f"G1000_KAFKA_SASL_MECHANISM={mechanism!r} is not one of {', '.join(SASL_MECHANISMS)}")
    username = (env.get("G1000_KAFKA_USERNAME") or "").strip()
    if not username:
        raise ConfigError(f"G1000_KAFKA_USERNAME is not set (G1000_KAFKA_SECURITY_PROTOCOL={protocol})")
    password = _readable_file(env, "G1000_KAFKA_PASSWORD_FILE", True)
    return KafkaSecurity(protocol, mechanism, username, password, ca_file=ca)


def check_database_url(url: str, variable: str = "G1000_DATABASE_URL") -> str:
    """`url` if psycopg can parse it (a postgresql:// URL or a key=value connection string),
    else ConfigError naming `variable`."""
    from psycopg import ProgrammingError
    from psycopg.conninfo import conninfo_to_dict

    hint = f"{variable} must be a postgresql:// URL or a key=value connection string"
    if "://" in url and not url.startswith(("postgresql://", "postgres://")):
        raise ConfigError(hint)
    try:
        conninfo_to_dict(url)
    except ProgrammingError as e:
        raise ConfigError(f"{hint}: {e}") from None
    return url


def migration_url(env: dict, runtime_url: str) -> str | None:
    """G1000_MIGRATION_DATABASE_URL (the owner role, on the server) applied to the database that
    `runtime_url` names, or None when it is not set (services/core/provision.py)."""
    raw = (env.get("G1000_MIGRATION_DATABASE_URL") or "").strip()
    if not raw:
        return None
    from .provision import owner_url_for

    return owner_url_for(check_database_url(raw, "G1000_MIGRATION_DATABASE_URL"), runtime_url)


def load_config(service: str, env: dict | None = None) -> ServiceConfig:
    env = dict(os.environ if env is None else env)
    if service not in SERVICES:
        raise ConfigError(f"unknown service {service!r} (one of {', '.join(SERVICES)})")
    data_dir = Path(_required(env, "G1000_DATA_DIR"))
    if not data_dir.is_dir():
        raise ConfigError(f"G1000_DATA_DIR={data_dir} is not a directory")
    server_url = check_database_url(_required(env, "G1000_DATABASE_URL"))
    own = BY_NAME[service].database_env
    url = check_database_url(env[own], own) if env.get(own) else database_url(server_url, BY_NAME[service].database)
    bootstrap = _required(env, "G1000_KAFKA_BOOTSTRAP")
    if not _BOOTSTRAP_RE.fullmatch(bootstrap) or not all(
            1 <= int(hp.rsplit(":", 1)[1]) <= 65535 for hp in bootstrap.split(",")):
        raise ConfigError(f"G1000_KAFKA_BOOTSTRAP={bootstrap!r} is not a list of host:port (port 1..65535)")
    prefix = env.get("G1000_TOPIC_PREFIX", DEFAULT_TOPIC_PREFIX)
    if not re.fullmatch(r"[a-zA-Z0-9._-]{1,100}", prefix):
        raise ConfigError(f"G1000_TOPIC_PREFIX={prefix!r} is not a valid topic name prefix")
    return ServiceConfig(
        service=service,
        data_dir=data_dir,
        database_url=url,
        kafka_bootstrap=bootstrap,
        key_file=Path(env.get("G1000_KEY_FILE") or data_dir / "keys" / f"{service}.key"),
        trusted_keys_dir=Path(env.get("G1000_TRUSTED_KEYS_DIR") or data_dir / "keys"),
        token_public_key_file=Path(env.get("G1000_TOKEN_PUBLIC_KEY_FILE") or data_dir / "secrets" / "tokens.pub"),
        internal_token_sha256=_token_hash(env, "G1000_INTERNAL_TOKEN_FILE"),
        topic_prefix=prefix,
        partitions=_int(env, "G1000_KAFKA_PARTITIONS", 3, 1, 64),
        max_poll_interval_ms=_int(env, "G1000_MAX_POLL_INTERVAL_MS", 5_000, 1_000, 300_000),
        register_k_anonymity=_int(env, "G1000_REGISTER_K_ANONYMITY", 5, 2, 100),
        ballot_batch=_int(env, "G1000_BALLOT_BATCH", 10, 1, 10_000),
        ballot_batch_seconds=_int(env, "G1000_BALLOT_BATCH_SECONDS", 30, 1, 3_600),
        ballot_key_bits=_int(env, "G1000_BALLOT_KEY_BITS", 3072, 2048, 4096),
        db_timeouts=database_timeouts(env),
        kafka_security=kafka_security(env),
        migration_url=migration_url(env, url),
    )
