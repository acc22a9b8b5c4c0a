"""`g1000 admin`: the operator's acts on credentials, done with the key file and the database at hand.

Organisers are not created through the API: whoever runs the platform for a municipality creates
them here (`g1000 admin organiser --tenant Amersfoort`), and the token is printed once. The same
command revokes any token by id. Where the gateway's database and token key are comes from the
environment (G1000_GATEWAY_DATABASE_URL or G1000_DATABASE_URL; G1000_TOKEN_KEY_FILE or
G1000_DATA_DIR), or, for a local stack started by `g1000 up`, from its stack.json.
"""

from __future__ import annotations

import json
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from services.core.errors import ConfigError

_TENANT = re.compile(r"^\S(.{0,198}\S)?\Z")
_SUBJECT = re.compile(r"^[A-Za-z0-9._:@-]{1,128}\Z")


def _environment(env: dict, data_dir: Path) -> dict:
    """env, completed from a local stack's manifest where it says nothing."""
    merged = dict(env)
    manifest = data_dir / "stack.json"
    if not (merged.get("G1000_GATEWAY_DATABASE_URL") or merged.get("G1000_DATABASE_URL")) and manifest.exists():
        try:
            stack = json.loads(manifest.read_text())
            merged["G1000_DATABASE_URL"] = stack["database_url"]
            merged.setdefault("G1000_DATA_DIR", stack["data_dir"])
        except (OSError, ValueError, KeyError):
            raise ConfigError(f"{manifest} is not a stack manifest of this version") from None
    if not (merged.get("G1000_TOKEN_KEY_FILE") or merged.get("G1000_DATA_DIR")):
        merged["G1000_DATA_DIR"] = str(data_dir)
    return merged


@contextmanager
def credentials_at(env: dict, data_dir: Path) -> Iterator:
    from gateway.credentials import token_signer
    from gateway.credentials import Credentials
    from gateway.database import open_gateway_database
    from gateway.settings import load_gateway_settings

    settings = load_gateway_settings(_environment(env, data_dir))
    if not settings.token_key_file.exists():
        raise ConfigError(f"no token key at {settings.token_key_file}: start the gateway once first"
                          " (or set G1000_TOKEN_KEY_FILE)")
    db = open_gateway_database(settings.database_url, pool_size=1, migration_url=settings.migration_url)
    try:
        yield Credentials(db, token_signer(settings), ttl_seconds=settings.token_ttl_seconds)
    finally:
        db.close()


def create_organiser(env: dict, data_dir: Path, tenant: str, subject: str | None = None,
                     ttl_seconds: int | None = None, label: str = "") -> dict:
    if not _TENANT.match(tenant or ""):
        raise ConfigError("--tenant must be the municipality's name (1-200 characters, no surrounding spaces)")
    if subject is not None and not _SUBJECT.match(subject):
        raise ConfigError("--subject must be 1-128 characters of A-Z a-z 0-9 . _ : @ -")
    if ttl_seconds is not None and not 60 <= ttl_seconds <= 30 * 86_400:
        raise ConfigError("--ttl must be 60..2592000 seconds")
    import uuid

    with credentials_at(env, data_dir) as creds:
        issued = creds.issue(role="organiser", tenant=tenant, subject=subject or f"org-{uuid.uuid4().hex[:12]}",
                             issued_by="admin", label=label, ttl_seconds=ttl_seconds)
    c = issued.claims
    return {"token": issued.token, "token_id": c.token_id, "tenant": c.tenant, "subject": c.subject,
            "expires_at": c.expires_at}


def revoke(env: dict, data_dir: Path, token_id: str, *, cascade: bool = False) -> dict:
    from gateway.credentials import CredentialError

    if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", token_id or ""):
        raise ConfigError("the token id is a lowercase UUID (see `token_id` where it was issued)")
    with credentials_at(env, data_dir) as creds:
        try:
            record = creds.revoke(token_id, "admin", cascade=cascade)
        except CredentialError as e:
            raise ConfigError(str(e)) from None
    return record.as_json()
