"""What `g1000 up` hands its processes (g1000/stack.py): each service's and the gateway's
processes get the URL of their own database role only; the owner's URL reaches the preparation
step alone, and no process ever gets the superuser's (issue 10, Build 4)."""

from __future__ import annotations

from psycopg.conninfo import conninfo_to_dict

from g1000.dbroles import NAMES, LocalRoles
from g1000.stack import Stack
from gateway.settings import load_gateway_settings
from services.core.config import SERVICES, load_config

SERVER = "postgresql://{user}:{password}@127.0.0.1:5999/postgres"


def _roles() -> LocalRoles:
    return LocalRoles(owner_url=SERVER.format(user="g1000_owner", password="owner-secret"),
                      runtime_urls={n: SERVER.format(user=f"g1000_svc_{n}", password=f"{n}-secret") for n in NAMES})


def test_every_process_gets_its_own_role_and_only_the_preparation_the_owner(tmp_path):
    stack = Stack(tmp_path, env={"G1000_DATABASE_URL": "", "PATH": "/bin"})
    stack.roles = _roles()
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "internal.token").write_text("internal-token-of-this-test-0123456789")
    child = stack.child_env(stack.roles.runtime_urls["gateway"], "127.0.0.1:9092")
    for name in NAMES:
        env = stack._env_for(name, child)
        secrets_seen = {p for p in ("owner-secret", *(f"{n}-secret" for n in NAMES)) if p in str(env)}
        assert secrets_seen == {f"{name}-secret"}, name
        prepare = stack._env_for(name, child, migrate=True)
        if name == "gateway":
            settings = load_gateway_settings(env)
            assert conninfo_to_dict(settings.database_url)["user"] == "g1000_svc_gateway"
            assert settings.migration_url is None
            owner = load_gateway_settings(prepare).migration_url
        else:
            config = load_config(name, env)
            params = conninfo_to_dict(config.database_url)
            assert (params["user"], params["dbname"]) == (f"g1000_svc_{name}", f"g1000_{name}")
            assert config.migration_url is None
            owner = load_config(name, prepare).migration_url
        assert conninfo_to_dict(owner)["user"] == "g1000_owner"
        assert conninfo_to_dict(owner)["dbname"] == f"g1000_{name}"
    assert set(NAMES) == {*SERVICES, "gateway"}


def test_without_embedded_roles_the_environment_passes_unchanged(tmp_path):
    stack = Stack(tmp_path, env={"G1000_DATABASE_URL": "postgresql://one@db/postgres"})
    child = stack.child_env("postgresql://one@db/postgres", "127.0.0.1:9092")
    assert stack._env_for("agenda", child) == child
