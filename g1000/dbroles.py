"""The database roles of a local stack (and of the test suite), made from an administrator URL.

`g1000 up` holds the embedded server's superuser password (g1000/embedded.py); with it, at every
start, it makes (or brings back in line) the owner role that runs the migrations and one runtime
role per service and the gateway (services/core/provision.py, privileges.py). Their generated
passwords live beside the superuser's, one 0600 file each in `postgres-roles/` (0700), so a
restart on the same directory finds the same roles. The superuser's URL itself is used for this
step only: no service process, and not stack.json, ever receives it.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from services.core.config import SERVICES
from services.core.db import database_url
from services.core.privileges import OWNER_ROLE, runtime_role
from services.core.provision import provision_roles, with_credentials

from .errors import StackError

NAMES = (*SERVICES, "gateway")


@dataclass(frozen=True)
class LocalRoles:
    owner_url: str  # server URL (database `postgres`) of the owner role: G1000_MIGRATION_DATABASE_URL
    runtime_urls: dict[str, str]  # name -> server URL of its runtime role

    def database_urls(self, prefix: str = "g1000") -> dict[str, str]:
        """name -> the runtime URL of its own database `<prefix>_<name>`."""
        return {name: database_url(url, f"{prefix}_{name}") for name, url in self.runtime_urls.items()}


def _password(directory: Path, role: str) -> str:
    path = directory / f"{role}.password"
    if path.exists():
        if path.stat().st_mode & 0o077:
            raise StackError(f"{path} must not be readable by others (chmod 600 it)")
        return path.read_text().strip()
    password = secrets.token_urlsafe(32)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(password + "\n")
    try:
        os.link(tmp, path)  # the first writer wins; a racing one reads the winner's
    except FileExistsError:
        password = path.read_text().strip()
    finally:
        os.unlink(tmp)
    return password


def provision_local_roles(admin_url: str, directory: Path | None, prefix: str = "") -> LocalRoles:
    """Make the roles on the server of `admin_url`. `directory`: where their passwords are kept
    (made 0700); None: fresh passwords held in memory only (a test session). `prefix`: prepended
    to the role names, so that a test session on a shared outside server has roles of its own."""
    owner = prefix + OWNER_ROLE
    runtime = {n: prefix + runtime_role(n) for n in NAMES}
    roles = (owner, *runtime.values())
    if directory is None:
        passwords = {role: secrets.token_urlsafe(32) for role in roles}
    else:
        directory.mkdir(mode=0o700, exist_ok=True)
        directory.chmod(0o700)
        passwords = {role: _password(directory, role) for role in roles}
    provision_roles(admin_url, passwords[owner], {r: passwords[r] for r in runtime.values()}, owner_role=owner)
    server = database_url(admin_url, "postgres")
    return LocalRoles(
        owner_url=with_credentials(server, owner, passwords[owner]),
        runtime_urls={n: with_credentials(server, r, passwords[r]) for n, r in runtime.items()},
    )
