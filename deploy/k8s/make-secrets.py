#!/usr/bin/env python3
"""Generate the secrets of a G1000 installation on Kubernetes, in the project's own key formats.

    python3 deploy/k8s/make-secrets.py generate --out ~/g1000-secrets [--namespace g1000] [--apply]
    python3 deploy/k8s/make-secrets.py verifier-key --log-public-key ~/g1000-secrets/log/checkpoint.pub \
        --log-host g1000.example.org --summit <summit-id>

`generate` writes every key, token and password into a new directory (mode 0700, files 0600),
then prints (and with --apply runs) the `kubectl create secret` commands that load them. It never
overwrites: neither an existing directory with files in it, nor an existing Secret (`kubectl
create` fails on one), and it refuses a directory inside a git work tree. Keep the directory offline and backed up (README.md): a restored database
is useless without the keys whose public halves its logs registered.

Formats (the same as services/core/signing.py and services/ledger/checkpoints.py write):
  <name>.key   Ed25519 private key, PEM PKCS#8, unencrypted
  <name>.pub   the raw 32-byte public key in lowercase hex, one line
  internal.token, database passwords: 32 random bytes, URL-safe base64

`verifier-key` prints the C2SP signed-note verifier key of one summit's log
(`<host>/g1000/<summit_id>+<hex8 key id>+<base64(0x01 || public key)>`), which the municipality
publishes out of band so auditors need not trust the server's /v1/logs/{id}/key.

Needs Python 3.11 and the `cryptography` package, nothing else.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import secrets
import shlex
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("ledger", "lottery", "agenda", "ballot")
# the owner role g1000_owner owns every database; runtime role g1000_svc_<name> connects to g1000_<name>
DATABASE_ROLES = (*SERVICES, "gateway")


def database_role(name: str) -> str:
    return "g1000_owner" if name == "owner" else f"g1000_svc_{name}"


@dataclass(frozen=True)
class SecretSpec:
    """One Kubernetes Secret: data key -> file (relative to the output directory)."""

    name: str
    files: dict[str, str]
    literals: dict[str, str] = field(default_factory=dict)  # not secret (a user name)
    type: str = "Opaque"
    purpose: str = ""


def plan() -> list[SecretSpec]:
    """Every Secret the manifests under deploy/k8s reference and this script creates."""
    out = [SecretSpec(f"g1000-{s}-signing-key", {f"{s}.key": f"keys/{s}.key"},
                      purpose=f"the {s} service's event-signing key (its pods only)") for s in SERVICES]
    out.append(SecretSpec("g1000-trusted-keys", {f"{s}.pub": f"keys/{s}.pub" for s in SERVICES},
                          purpose="the public keys every service trusts, one per stream"))
    out.append(SecretSpec("g1000-log-key", {"checkpoint.key": "log/checkpoint.key"},
                          purpose="the ledger's checkpoint-signing key (ledger web app and consumer)"))
    out.append(SecretSpec("g1000-token-key", {"tokens.key": "tokens/tokens.key", "tokens.pub": "tokens/tokens.pub"},
                          purpose="the gateway's token-signing key pair (gateway only)"))
    out.append(SecretSpec("g1000-token-public-key", {"tokens.pub": "tokens/tokens.pub"},
                          purpose="the token-signing public key the services verify tokens with"))
    out.append(SecretSpec("g1000-internal-token", {"internal.token": "internal/internal.token"},
                          purpose="the bearer token of the services' /internal endpoints"))
    for name in (*DATABASE_ROLES, "owner"):
        role = database_role(name)
        what = "the owner of every database (the migration Job only)" if name == "owner" else f"{name}'s runtime role"
        out.append(SecretSpec(f"g1000-db-{name}", {"password": f"db/{name}.password"},
                              literals={"username": role}, type="kubernetes.io/basic-auth",
                              purpose=f"password of PostgreSQL role {role}, {what} (CloudNativePG managed role)"))
    return out


# ---- key material -------------------------------------------------------------------------------

def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _ed25519_pair(directory: Path, name: str) -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    _write(directory / f"{name}.key", pem)
    _write(directory / f"{name}.pub", (public.hex() + "\n").encode())
    return public


def _token() -> bytes:
    return (secrets.token_urlsafe(32) + "\n").encode()


def generate(out: Path) -> dict[str, str]:
    """Write every file of plan() under `out`; return the key ids (hex SHA-256 of the raw keys)."""
    if out.exists() and any(out.iterdir()):
        raise SystemExit(f"make-secrets: {out} is not empty; refusing to overwrite existing keys")
    for parent in (out.resolve(), *out.resolve().parents):
        if (parent / ".git").exists():
            raise SystemExit(f"make-secrets: {out} is inside the git work tree {parent}; write the keys"
                             " outside any repository (they must never be committed)")
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    out.chmod(0o700)
    ids = {}
    for service in SERVICES:
        ids[service] = hashlib.sha256(_ed25519_pair(out / "keys", service)).hexdigest()
    ids["checkpoint (log key)"] = hashlib.sha256(_ed25519_pair(out / "log", "checkpoint")).hexdigest()
    ids["tokens"] = hashlib.sha256(_ed25519_pair(out / "tokens", "tokens")).hexdigest()
    _write(out / "internal" / "internal.token", _token())
    for name in (*DATABASE_ROLES, "owner"):
        _write(out / "db" / f"{name}.password", _token().strip())
    return ids


# ---- kubectl ------------------------------------------------------------------------------------

def kubectl_commands(out: Path, namespace: str | None) -> list[list[str]]:
    commands = []
    for spec in plan():
        cmd = ["kubectl", "create", "secret", "generic", spec.name]
        if namespace:
            cmd += ["--namespace", namespace]
        if spec.type != "Opaque":
            cmd.append(f"--type={spec.type}")
        cmd += [f"--from-literal={k}={v}" for k, v in spec.literals.items()]
        cmd += [f"--from-file={k}={out / rel}" for k, rel in spec.files.items()]
        commands.append(cmd)
    return commands


def backup_credentials_command(namespace: str | None) -> str:
    ns = f" --namespace {shlex.quote(namespace)}" if namespace else ""
    return (f"kubectl create secret generic g1000-backup-s3{ns} \\\n"
            "    --from-file=ACCESS_KEY_ID=/path/to/access-key-id \\\n"
            "    --from-file=ACCESS_SECRET_KEY=/path/to/secret-access-key")


# ---- verifier key -------------------------------------------------------------------------------

def verifier_key(log_host: str, summit_id: str, public_key: bytes) -> str:
    """C2SP signed-note verifier key of the log of `summit_id` (as g1000_proofs.note_keys)."""
    for what, part in (("log host", log_host), ("summit id", summit_id)):
        if not part or "/" in part or "+" in part or any(c.isspace() or ord(c) < 0x20 for c in part):
            raise SystemExit(f"make-secrets: the {what} must be non-empty, without '/', '+', spaces or controls")
    if len(public_key) != 32:
        raise SystemExit("make-secrets: an Ed25519 public key is 32 bytes")
    name = f"{log_host}/g1000/{summit_id}"
    typed = b"\x01" + public_key
    key_id = hashlib.sha256(name.encode() + b"\n" + typed).digest()[:4]
    return f"{name}+{key_id.hex()}+{base64.b64encode(typed).decode()}"


# ---- command line -------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make-secrets.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="generate every key, token and password; print the kubectl commands")
    gen.add_argument("--out", type=Path, required=True, help="new directory for the files (kept offline)")
    gen.add_argument("--namespace", help="namespace of the installation (default: kubectl's current)")
    gen.add_argument("--apply", action="store_true", help="run the kubectl commands (never replaces a Secret)")
    vk = sub.add_parser("verifier-key", help="the verifier key of one summit's log, to publish out of band")
    vk.add_argument("--log-public-key", type=Path, required=True, help="checkpoint.pub (hex) from `generate`")
    vk.add_argument("--log-host", required=True, help="G1000_LOG_HOST of the installation")
    vk.add_argument("--summit", required=True, help="the summit id (= log id)")
    args = parser.parse_args(argv)

    if args.command == "verifier-key":
        try:
            public = bytes.fromhex(args.log_public_key.read_text().strip())
        except (OSError, ValueError) as e:
            raise SystemExit(f"make-secrets: {args.log_public_key}: not a hex public key ({e})") from None
        print(verifier_key(args.log_host, args.summit, public))
        return 0

    ids = generate(args.out)
    commands = kubectl_commands(args.out.resolve(), args.namespace)
    print(f"# keys, tokens and passwords written to {args.out} (mode 0700): keep it offline and backed up")
    for what, kid in ids.items():
        print(f"#   key id {what}: {kid}")
    print("# the Secrets:")
    for cmd in commands:
        print(shlex.join(cmd))
    print("# and the object store's credentials for the backups (from your object store):")
    print(backup_credentials_command(args.namespace))
    if args.apply:
        for cmd in commands:
            result = subprocess.run(cmd, check=False)
            if result.returncode != 0:
                print(f"make-secrets: failed: {shlex.join(cmd[:5])} (exit {result.returncode})", file=sys.stderr)
                return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
