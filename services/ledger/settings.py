"""Settings of the ledger beyond the common service configuration (environment, checked)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from services.core.config import ServiceConfig
from services.core.errors import ConfigError
from services.core.registry import REGISTRY

_HOST = re.compile(r"^[A-Za-z0-9.-]{1,200}(:\d{1,5})?$")


@dataclass(frozen=True)
class LedgerSettings:
    log_host: str
    log_key_file: Path
    checkpoint_entries: int
    checkpoint_seconds: float
    producer_urls: dict[str, str]
    page_size: int = 1000


def load_ledger_settings(config: ServiceConfig, env: dict | None = None) -> LedgerSettings:
    env = os.environ if env is None else env
    host = env.get("G1000_LOG_HOST", "g1000.localhost")
    if not _HOST.match(host):
        raise ConfigError(f"G1000_LOG_HOST={host!r} is not a host name")
    try:
        entries = int(env.get("G1000_CHECKPOINT_ENTRIES", "256"))
        seconds = float(env.get("G1000_CHECKPOINT_SECONDS", "5"))
    except ValueError:
        raise ConfigError("G1000_CHECKPOINT_ENTRIES / G1000_CHECKPOINT_SECONDS must be numbers") from None
    if entries < 1 or not 0.1 <= seconds <= 86400:
        raise ConfigError("G1000_CHECKPOINT_ENTRIES must be >= 1 and G1000_CHECKPOINT_SECONDS in 0.1..86400")
    urls = {s.name: env[s.url_env].rstrip("/") for s in REGISTRY if env.get(s.url_env)}
    key_file = Path(env.get("G1000_LOG_KEY_FILE") or config.data_dir / "log-keys" / "checkpoint.key")
    return LedgerSettings(host, key_file, entries, seconds, urls)
