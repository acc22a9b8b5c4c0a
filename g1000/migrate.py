"""`g1000 migrate [NAME ...]`: apply the migrations and grants of services and the gateway as the
owner role, once, before their processes start (a Kubernetes Job, deploy/k8s/base/migrate.yaml).

It needs the owner's URL (G1000_MIGRATION_DATABASE_URL) and, for each name, only the URL of the
runtime role (G1000_<NAME>_DATABASE_URL, else database `g1000_<name>` on G1000_DATABASE_URL): the
user named in it is the role granted to (services/core/privileges.py); its password is not needed.
"""

from __future__ import annotations

from services.core.config import SERVICES, check_database_url, database_timeouts
from services.core.db import database_url
from services.core.errors import ConfigError
from services.core.provision import migrate_and_grant, owner_url_for

NAMES = (*SERVICES, "gateway")


def runtime_url(env: dict, name: str) -> str:
    own = f"G1000_{name.upper()}_DATABASE_URL"
    if (env.get(own) or "").strip():
        return check_database_url(env[own].strip(), own)
    server = (env.get("G1000_DATABASE_URL") or "").strip()
    if not server:
        raise ConfigError(f"neither {own} nor G1000_DATABASE_URL is set: whose role should {name} be granted to?")
    return database_url(check_database_url(server), f"g1000_{name}")


def migrate(env: dict, names: list[str]) -> dict[str, list[str]]:
    """name -> the migrations applied now (empty when it was current; its grants are applied anyway)."""
    owner = (env.get("G1000_MIGRATION_DATABASE_URL") or "").strip()
    if not owner:
        raise ConfigError("G1000_MIGRATION_DATABASE_URL is not set (the owner role's URL of the server)")
    owner = check_database_url(owner, "G1000_MIGRATION_DATABASE_URL")
    from .services import spec_for

    done = {}
    for name in names or NAMES:
        if name not in NAMES:
            raise ConfigError(f"unknown name {name!r} (one of {', '.join(NAMES)})")
        url = runtime_url(env, name)
        packages = ("gateway",) if name == "gateway" else spec_for(name).migrations
        done[name] = migrate_and_grant(owner_url_for(owner, url), packages, name, url, database_timeouts(env))
    return done
