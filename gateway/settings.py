"""Configuration of the gateway process, read from the environment and checked before use.

Like the services (services/core/config.py), every setting has one environment variable and a
malformed value stops the process with one line naming it (ConfigError), never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from services.core.config import check_database_url, database_timeouts, migration_url
from services.core.db import DatabaseTimeouts, database_url
from services.core.errors import ConfigError

RATE_WINDOW_SECONDS = 60
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class GatewaySettings:
    database_url: str
    token_key_file: Path  # Ed25519 private key that signs bearer tokens; its .pub goes to the services
    rate_limit_per_token: int = 600
    rate_limit_per_address: int = 300
    rate_limit_check_in: int = 3000  # per address: a venue's participants share one NAT (issue 10 M6)
    rate_limit_export: int = 10  # per caller: a bundle is the whole log (issue 10 L3)
    rate_limit_ballot: int = 6000  # per ballot, shared by every voter: casts, receipts (gateway/unlinked.py)
    rate_window_seconds: int = RATE_WINDOW_SECONDS
    idempotency_ttl_seconds: int = IDEMPOTENCY_TTL_SECONDS
    token_ttl_seconds: dict = field(default_factory=dict)  # role -> lifetime (credentials.py has defaults)
    token_chain_seconds: dict = field(default_factory=dict)  # role -> refresh chain lifetime (likewise)
    # reverse proxies in front of the gateway whose X-Forwarded-For is trusted (0: none; an ingress: 1)
    proxy_hops: int = 0
    db_timeouts: DatabaseTimeouts = DatabaseTimeouts()  # G1000_DB_*, as for the services
    # the internal listener that alone answers /metrics (None: /metrics only to loopback peers)
    metrics_port: int | None = None
    readiness_cache_seconds: float = 2.0  # one fan-out to the services per worker per this (issue 10 L3)
    migration_url: str | None = None  # the owner's URL of the same database (G1000_MIGRATION_DATABASE_URL)


def _limit(env: dict, name: str, default: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer (requests per minute)") from None
    if not 1 <= value <= 1_000_000:
        raise ConfigError(f"{name}={value} is outside 1..1000000 (requests per minute)")
    return value


def load_gateway_settings(env: dict | None = None) -> GatewaySettings:
    """G1000_GATEWAY_DATABASE_URL, or database `g1000_gateway` on G1000_DATABASE_URL; the limits."""
    env = dict(os.environ if env is None else env)
    own = (env.get("G1000_GATEWAY_DATABASE_URL") or "").strip()
    if own:
        url = check_database_url(own, "G1000_GATEWAY_DATABASE_URL")
    else:
        server = (env.get("G1000_DATABASE_URL") or "").strip()
        if not server:
            raise ConfigError("G1000_DATABASE_URL is not set (the gateway keeps idempotency keys and"
                              " rate-limit counters in its own database)")
        url = database_url(check_database_url(server), "g1000_gateway")
    per_token = _limit(env, "G1000_RATE_LIMIT_PER_MINUTE", 600)
    per_address = _limit(env, "G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE", 300)
    check_in = _limit(env, "G1000_RATE_LIMIT_CHECK_IN_PER_MINUTE", 3000)
    export = _limit(env, "G1000_RATE_LIMIT_EXPORT_PER_MINUTE", 10)
    ballot = _limit(env, "G1000_RATE_LIMIT_BALLOT_PER_MINUTE", 6000)
    return GatewaySettings(
        database_url=url,
        token_key_file=token_key_file(env),
        token_ttl_seconds=_ttls(env),
        token_chain_seconds=_ttls(env, "G1000_TOKEN_CHAIN_", 90 * 86_400),
        rate_limit_per_token=per_token,
        rate_limit_per_address=per_address,
        rate_limit_check_in=check_in,
        rate_limit_export=export,
        rate_limit_ballot=ballot,
        proxy_hops=_proxy_hops(env),
        db_timeouts=database_timeouts(env),
        metrics_port=_metrics_port(env),
        readiness_cache_seconds=_readiness_cache(env),
        migration_url=migration_url(env, url),
    )


def _metrics_port(env: dict) -> int | None:
    raw = (env.get("G1000_METRICS_PORT") or "").strip()
    if not raw:
        return None
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"G1000_METRICS_PORT={raw!r} must be a TCP port (1..65535): the internal listener"
                          " that Prometheus scrapes")
    return int(raw)


def _readiness_cache(env: dict) -> float:
    raw = (env.get("G1000_READYZ_CACHE_SECONDS") or "").strip()
    if not raw:
        return 2.0
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60:
        raise ConfigError(f"G1000_READYZ_CACHE_SECONDS={raw!r} must be 0..60 seconds")
    return value


def token_key_file(env: dict) -> Path:
    """G1000_TOKEN_KEY_FILE, else <G1000_DATA_DIR>/secrets/tokens.key (created on first start)."""
    own = (env.get("G1000_TOKEN_KEY_FILE") or "").strip()
    if own:
        return Path(own)
    data_dir = (env.get("G1000_DATA_DIR") or "").strip()
    if not data_dir:
        raise ConfigError("G1000_TOKEN_KEY_FILE is not set (nor G1000_DATA_DIR, whose secrets/tokens.key"
                          " would be used): the gateway signs bearer tokens with it")
    return Path(data_dir) / "secrets" / "tokens.key"


def _ttls(env: dict, prefix: str = "G1000_TOKEN_TTL_", most: int = 30 * 86_400) -> dict:
    out = {}
    for role in ("organiser", "facilitator", "participant", "auditor"):
        name = f"{prefix}{role.upper()}"
        raw = (env.get(name) or "").strip()
        if not raw:
            continue
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(f"{name}={raw!r} is not an integer (seconds)") from None
        if not 60 <= value <= most:
            raise ConfigError(f"{name}={value} is outside 60..{most} seconds")
        out[role] = value
    return out


def _proxy_hops(env: dict) -> int:
    raw = (env.get("G1000_TRUSTED_PROXY_HOPS") or "").strip()
    if not raw:
        return 0
    if not raw.isdigit() or int(raw) > 5:
        raise ConfigError(f"G1000_TRUSTED_PROXY_HOPS={raw!r} must be 0..5 (the reverse proxies in front"
                          " of the gateway whose X-Forwarded-For is trusted)")
    return int(raw)
