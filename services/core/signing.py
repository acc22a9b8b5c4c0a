"""Ed25519 keys of the services: generation, files, key ids and a keyring of trusted public keys.

Every event is signed by the key of the service that produced it (docs/architecture.md §3). The key id is
the lowercase hex SHA-256 of the raw 32-byte public key. Private keys live in files of mode 0600
(generated on first start into the data directory, or mounted from a Kubernetes Secret); their
contents are never logged or put into an exception message.
"""

from __future__ import annotations

import hashlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import ConfigError, SignatureError, UnknownKeyError

log = logging.getLogger(__name__)


def key_id(public_key: bytes) -> str:
    """Hex SHA-256 of the raw 32-byte Ed25519 public key."""
    if len(public_key) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return hashlib.sha256(public_key).hexdigest()


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


class Signer:
    """Signs bytes with one Ed25519 private key. `repr` never shows key material."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._key = private_key
        self.public_key = raw_public(private_key.public_key())
        self.key_id = key_id(self.public_key)

    @classmethod
    def from_seed(cls, seed: bytes) -> "Signer":
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    @classmethod
    def generate(cls) -> "Signer":
        return cls(Ed25519PrivateKey.generate())

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def seed(self) -> bytes:
        return self._key.private_bytes(
            serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
        )

    def __repr__(self) -> str:
        return f"Signer(key_id={self.key_id[:16]}…)"


def load_or_create_signer(path: Path) -> Signer:
    """Load the PEM (PKCS#8) private key at `path`, creating it with mode 0600 if it is absent.

    The key is made once, atomically: it is written and fsynced under a temporary name in the
    same directory, then hard-linked into place, which fails if the name exists. So no process
    ever reads half a key, and of processes racing to create it (the web workers of a fresh
    stack) every loser loads the winner's key.

    An existing key file that others can read is refused: a leaked signing key lets anyone forge
    a service's events.
    """
    if path.exists():
        return load_signer(path)  # as it is: a mounted Secret is read-only
    path.parent.mkdir(parents=True, exist_ok=True)
    signer = Signer.generate()
    pem = signer._key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:  # another process won the race: its key is the key
            return _with_public_key(path, load_signer(path))
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_directory(path.parent)
    write_public_key(path.with_suffix(".pub"), signer.public_key)
    return signer


def _with_public_key(path: Path, signer: Signer) -> Signer:
    """The .pub beside the key a race's winner just made, if the winner has not written it yet
    (the write is atomic and every writer writes the same bytes)."""
    public = path.with_suffix(".pub")
    if not public.exists():
        write_public_key(public, signer.public_key)
    return signer


def _fsync_directory(directory: Path) -> None:
    """Make a new directory entry durable (a crash right after must not lose the key's name)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def load_signer(path: Path) -> Signer:
    try:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            raise ConfigError(f"signing key {path} must not be readable by others (mode {mode:o}, want 600)")
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except OSError as e:
        raise ConfigError(f"cannot read signing key {path}: {e.strerror}") from None
    except (ValueError, TypeError):  # TypeError: the PEM is encrypted and we have no password
        raise ConfigError(f"signing key {path} is not a PEM Ed25519 private key (or it is encrypted)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(f"signing key {path} is not an Ed25519 key")
    return Signer(key)


def write_public_key(path: Path, public_key: bytes) -> None:
    """Write atomically: a reader (a keyring reloading) never sees a half-written file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    tmp.write_text(public_key.hex() + "\n")
    os.replace(tmp, path)


def read_public_key(path: Path) -> bytes:
    try:
        raw = bytes.fromhex(path.read_text().strip())
    except (OSError, ValueError) as e:
        raise ConfigError(f"public key file {path} is unreadable or not hex: {e}") from None
    if len(raw) != 32:
        raise ConfigError(f"public key file {path} does not hold a 32-byte Ed25519 key")
    return raw


@dataclass(frozen=True)
class TrustedKey:
    public_key: bytes
    stream: str

    @property
    def key_id(self) -> str:
        return key_id(self.public_key)


class Keyring:
    """Public keys trusted to sign events, each for exactly one stream.

    A key that signs for a stream it was not registered for is treated as unknown: a compromised
    agenda key must not be able to forge ballots.
    """

    def __init__(self, keys: list[TrustedKey] | None = None):
        self._keys: dict[str, TrustedKey] = {}
        self._loaded: dict[str, Ed25519PublicKey] = {}  # parsed once, used for every event
        for key in keys or []:
            self.add(key)

    def add(self, key: TrustedKey) -> None:
        self._keys[key.key_id] = key
        self._loaded[key.key_id] = Ed25519PublicKey.from_public_bytes(key.public_key)

    def __contains__(self, kid: str) -> bool:
        return kid in self._keys

    def __len__(self) -> int:
        return len(self._keys)

    def keys(self) -> list[TrustedKey]:
        return list(self._keys.values())

    def verify(self, kid: str, stream: str, signature: bytes, data: bytes) -> None:
        trusted = self._keys.get(kid)
        if trusted is None:
            raise UnknownKeyError(f"key {kid[:16]}… is not registered")
        if trusted.stream != stream:
            raise UnknownKeyError(f"key {kid[:16]}… is registered for stream {trusted.stream!r}, not {stream!r}")
        try:
            self._loaded[kid].verify(signature, data)
        except InvalidSignature:
            raise SignatureError("signature does not verify") from None



class DirectoryKeyring(Keyring):
    """Trusts every `<stream>.pub` file in a directory for the stream its name gives.

    On a key it does not know it reads the directory again once, so a consumer that started
    before a producer generated its key does not quarantine that producer's first events.
    """

    def __init__(self, directory: Path):
        super().__init__()
        self.directory = directory
        self.reload()

    def reload(self) -> None:
        if not self.directory.is_dir():
            return
        for pub in sorted(self.directory.glob("*.pub")):
            try:
                self.add(TrustedKey(read_public_key(pub), pub.stem))
            except ConfigError as e:
                log.warning("ignoring unreadable public key: %s", e)

    def verify(self, kid: str, stream: str, signature: bytes, data: bytes) -> None:
        if kid not in self:
            self.reload()
        super().verify(kid, stream, signature, data)
