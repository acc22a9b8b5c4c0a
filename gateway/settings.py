"""Configuration of the gateway process, read from the environment and checked before use.

Like the services (services/core/config.py), every setting has one environment variable and a
malformed value stops the process with one line naming it (ConfigError), never a traceback.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from services.core.config import check_database_url
from services.core.db import database_url
from services.core.errors import ConfigError

RATE_WINDOW_SECONDS = 60
IDEMPOTENCY_TTL_SECONDS = 24 * 3600


@dataclass(frozen=True)
class GatewaySettings:
    database_url: str
    rate_limit_per_token: int = 600
    rate_limit_per_address: int = 300
    rate_window_seconds: int = RATE_WINDOW_SECONDS
    idempotency_ttl_seconds: int = IDEMPOTENCY_TTL_SECONDS


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
    return GatewaySettings(
        database_url=url,
        rate_limit_per_token=_limit(env, "G1000_RATE_LIMIT_PER_MINUTE", 600),
        rate_limit_per_address=_limit(env, "G1000_RATE_LIMIT_ANONYMOUS_PER_MINUTE", 300),
    )
