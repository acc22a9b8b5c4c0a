"""`g1000 trustee keygen | check-share | submit`: the trustees' side of a ballot's sealing key.

Why this module exists: no server may hold the key that opens the votes before the ballot closes
(docs/ballot.md, "Trustees"). This tool makes the ballot's X25519 key pair (RFC 7748) on the
machine it runs on, splits the private half k-of-n with Shamir's scheme
(``g1000_proofs.shamir``; Shamir, CACM 22(11), 1979), writes one share file per trustee (mode
0600) and a public file ``{public_key, k, n, share_hashes}`` that the organiser sends as the
ballot's ``sealing`` member; the private key itself is never written. A trustee later checks
that the share they hold is one of the registered ones (its SHA-256 is in ``share_hashes``) and,
after closing, submits it (``POST /v1/summits/{s}/ballots/{b}/shares``).

Files: ``share-<index>-<label>.txt`` holds the share's text ``g1000-share-v1:<k>:<index>:<hex>``
and a newline; ``public.json`` the public file. Refusals raise :class:`TrusteeError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from cryptography.hazmat.primitives.asymmetric import x25519

from g1000_proofs import sealing, shamir
from g1000_proofs.errors import ProofError

from .errors import TrusteeError

PUBLIC_FILE = "public.json"
LABEL = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")


def share_hash(text: str) -> str:
    """The hex SHA-256 of a share's text (UTF-8), as ``sealing.share_hashes`` lists it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class KeygenResult:
    public: dict
    share_files: list[Path]
    public_file: Path


def _labels(labels: list[str] | None, n: int) -> list[str]:
    if not labels:
        return [f"trustee-{i}" for i in range(1, n + 1)]
    if len(labels) != n:
        raise TrusteeError(f"--label is given {len(labels)} times for {n} trustees; give one label per trustee")
    for label in labels:
        if not LABEL.fullmatch(label):
            raise TrusteeError(f"a label is 1-40 of a-z, 0-9, '-' and '_' (it names a file): {label!r}")
    if len(set(labels)) != n:
        raise TrusteeError("every trustee needs a label of their own")
    return labels


def _write_new(path: Path, text: str, mode: int) -> None:
    """Create `path` with `mode` from the start (never readable by others, even for a moment)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, mode)  # the umask may have taken bits away; set exactly these


def keygen(k: int, n: int, labels: list[str] | None, out: Path) -> KeygenResult:
    """Make the key pair, split the private half, write n share files and the public file."""
    if not 1 <= k <= n <= 255:
        raise TrusteeError("need 1 <= k <= n <= 255 (k trustees out of n rebuild the key)")
    if k == 1 and n > 1:
        raise TrusteeError("k = 1 lets any one trustee open the votes alone; use k >= 2")
    names = _labels(labels, n)
    out.mkdir(parents=True, exist_ok=True)
    targets = [out / f"share-{i}-{name}.txt" for i, name in enumerate(names, start=1)] + [out / PUBLIC_FILE]
    existing = [str(p) for p in targets if p.exists()]
    if existing:
        raise TrusteeError(f"refusing to overwrite {', '.join(existing)}; use an empty --out directory")
    private = x25519.X25519PrivateKey.generate()
    secret = private.private_bytes_raw()
    public_key = private.public_key().public_bytes_raw().hex()
    shares = [s.encode() for s in shamir.split(secret, k, n)]
    # the split must rebuild the key before anything is handed out
    if sealing.public_key_hex(shamir.combine([shamir.Share.decode(s) for s in shares[:k]]).hex()) != public_key:
        raise TrusteeError("the key shares do not rebuild the key; nothing was written")
    del secret, private
    public = {"public_key": public_key, "k": k, "n": n, "share_hashes": [share_hash(s) for s in shares]}
    for path, text in zip(targets, shares):
        _write_new(path, text + "\n", 0o600)
    _write_new(targets[-1], json.dumps(public, indent=2) + "\n", 0o644)
    return KeygenResult(public, targets[:-1], targets[-1])


def read_share(path: Path) -> shamir.Share:
    """The share in a share file (its text on one line)."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise TrusteeError(f"cannot read the share file {path}: {e.strerror}") from None
    try:
        return shamir.Share.decode(text)
    except ProofError as e:
        raise TrusteeError(f"{path} holds no share: {e}") from None


def read_public(path: Path) -> dict:
    """The public file (or a ballot's `sealing` member saved as JSON), checked for its shape."""
    try:
        public = json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise TrusteeError(f"cannot read the public file {path}: {e.strerror}") from None
    except ValueError:
        raise TrusteeError(f"{path} is not JSON") from None
    if isinstance(public, dict) and isinstance(public.get("sealing"), dict):
        public = public["sealing"]  # a ballot as GET .../ballots/{b} answers it
    if not isinstance(public, dict) or not isinstance(public.get("share_hashes"), list) \
            or not isinstance(public.get("k"), int) or not isinstance(public.get("n"), int):
        raise TrusteeError(f"{path} is not a public file {{public_key, k, n, share_hashes}}")
    return public


def check_share(share_path: Path, public_path: Path) -> str:
    """A line saying which registered share this is; raises TrusteeError when it is not one."""
    share, public = read_share(share_path), read_public(public_path)
    if share_hash(share.encode()) not in public["share_hashes"]:
        raise TrusteeError(f"{share_path} is not one of the shares registered in {public_path}")
    if share.k != public["k"] or not 1 <= share.x <= public["n"]:
        raise TrusteeError(f"{share_path} does not belong to a {public['k']}-of-{public['n']} split")
    return (f"share {share.x} of {public['n']} is registered; {public['k']} shares open the votes"
            f" of the ballot sealed to {public.get('public_key', '?')}")


Post = Callable[[str, dict], tuple[int, object]]


def submit(gateway: str, summit_id: str, ballot_id: str, share_path: Path, post: Post) -> object:
    """POST the share to the ballot (after closing); the service's 202 answer."""
    share = read_share(share_path)
    url = f"{gateway.rstrip('/')}/v1/summits/{summit_id}/ballots/{ballot_id}/shares"
    status, answer = post(url, {"share": share.encode()})
    if status != 202:
        detail = answer.get("detail") if isinstance(answer, dict) else answer
        raise TrusteeError(f"the ballot refused the share ({status}): {detail}")
    return answer


def http_post(url: str, body: dict) -> tuple[int, object]:
    """The network half of `submit` (requests; no token: a share authenticates itself)."""
    import requests

    from services.core.errors import UnavailableError

    try:
        response = requests.post(url, json=body, timeout=30)
    except requests.RequestException as e:
        raise UnavailableError(f"the gateway at {url} cannot be reached: {e.__class__.__name__}") from None
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text[:300]
