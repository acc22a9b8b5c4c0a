"""Ed25519 signer and verifier keys in the C2SP signed-note text encoding.

Why this module exists: a log operator publishes one short string, the
*verifier key*, and every auditor pastes it into their tools.  This module
turns those strings into key objects and back, exactly as C2SP signed-note
(https://c2sp.org/signed-note, "Signatures" and "Ed25519 signatures")
describes and as golang.org/x/mod/sumdb/note encodes them:

* key ID      = first 4 bytes (big-endian uint32) of
                SHA-256(key name || 0x0A || 0x01 || 32-byte public key)
* verifier    = ``<name>+<8 hex digits key ID>+<base64(0x01 || public key)>``
* signer      = ``PRIVATE+KEY+<name>+<8 hex key ID>+<base64(0x01 || seed)>``

Key names must be non-empty, valid UTF-8, and contain no Unicode space,
no ``+`` and (our addition, since a note could never carry them) no ASCII
control character.  Only signature type 0x01 (Ed25519) is implemented.
"""

from __future__ import annotations

import binascii
import hashlib
import re
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from .errors import (
    KeyFormatError,
    KeyIdMismatchError,
    UnsupportedKeyAlgorithmError,
)

ALG_ED25519 = 0x01
ED25519_KEY_SIZE = 32
ED25519_SIGNATURE_SIZE = 64
_PRIVATE_PREFIX = "PRIVATE+KEY+"
_HEX8 = re.compile(r"[0-9a-fA-F]{8}")
_CONTROL = re.compile(r"[\x00-\x1f]")


def is_valid_key_name(name: object) -> bool:
    """True if ``name`` may be a signed-note key name."""
    if not isinstance(name, str) or not name or "+" in name:
        return False
    if any(ch.isspace() for ch in name) or _CONTROL.search(name):
        return False
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def strict_b64decode(text: str) -> bytes:
    """Standard padded base64 (RFC 4648 section 4); raises ``ValueError``."""
    try:
        return binascii.a2b_base64(text.encode("ascii"), strict_mode=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise ValueError("not standard padded base64") from exc


def b64encode(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).decode("ascii")


def key_id(name: str, typed_public_key: bytes) -> int:
    """SHA-256(name || 0x0A || type byte || public key)[:4] as a big-endian int."""
    digest = hashlib.sha256(name.encode("utf-8") + b"\n" + bytes(typed_public_key))
    return int.from_bytes(digest.digest()[:4], "big")


@dataclass(frozen=True)
class Verifier:
    """An Ed25519 note verifier: key name, key ID and 32-byte public key."""

    name: str
    key_id: int
    public_key: bytes

    def __post_init__(self) -> None:
        _check_identity(self.name, self.key_id)
        if not isinstance(self.public_key, bytes) or len(self.public_key) != ED25519_KEY_SIZE:
            raise KeyFormatError("an Ed25519 public key is 32 bytes")

    @property
    def key_string(self) -> str:
        """The ``name+hex8+base64`` verifier key string."""
        return make_verifier_key(self.name, self.public_key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        """True if ``signature`` is a valid Ed25519 signature of ``message``."""
        if len(signature) != ED25519_SIGNATURE_SIZE:
            return False
        key = Ed25519PublicKey.from_public_bytes(self.public_key)
        try:
            key.verify(bytes(signature), bytes(message))
        except InvalidSignature:
            return False
        return True


@dataclass(frozen=True)
class Signer:
    """An Ed25519 note signer.  The private key never appears in ``repr``."""

    name: str
    key_id: int
    private_key: Ed25519PrivateKey = field(repr=False, compare=False)

    def __post_init__(self) -> None:
        _check_identity(self.name, self.key_id)

    @property
    def verifier(self) -> Verifier:
        public = self.private_key.public_key().public_bytes_raw()
        return Verifier(self.name, self.key_id, public)

    def sign(self, message: bytes) -> bytes:
        return self.private_key.sign(bytes(message))


def _check_identity(name: str, key_id_value: int) -> None:
    if not is_valid_key_name(name):
        raise KeyFormatError(f"invalid key name {name!r}")
    if not isinstance(key_id_value, int) or not 0 <= key_id_value < 2**32:
        raise KeyFormatError("a key ID is a 32-bit unsigned integer")


def _require_name(name: str) -> None:
    if not is_valid_key_name(name):
        raise KeyFormatError(f"invalid key name {name!r}")


def make_verifier_key(name: str, public_key_bytes: bytes) -> str:
    """Encode an Ed25519 public key as a signed-note verifier key string."""
    _require_name(name)
    if len(public_key_bytes) != ED25519_KEY_SIZE:
        raise KeyFormatError("an Ed25519 public key is 32 bytes")
    typed = bytes([ALG_ED25519]) + bytes(public_key_bytes)
    return f"{name}+{key_id(name, typed):08x}+{b64encode(typed)}"


def make_signer_key(name: str, seed: bytes) -> str:
    """Encode a 32-byte Ed25519 seed as a signed-note signer key string."""
    _require_name(name)
    if len(seed) != ED25519_KEY_SIZE:
        raise KeyFormatError("an Ed25519 seed is 32 bytes")
    public = Ed25519PrivateKey.from_private_bytes(bytes(seed)).public_key()
    typed_public = bytes([ALG_ED25519]) + public.public_bytes_raw()
    typed_seed = bytes([ALG_ED25519]) + bytes(seed)
    return (f"{_PRIVATE_PREFIX}{name}+{key_id(name, typed_public):08x}"
            f"+{b64encode(typed_seed)}")


def generate_signer_key(name: str) -> tuple[str, str]:
    """Create a fresh key pair; returns ``(signer_key, verifier_key)``."""
    private = Ed25519PrivateKey.generate()
    skey = make_signer_key(name, private.private_bytes_raw())
    vkey = make_verifier_key(name, private.public_key().public_bytes_raw())
    return skey, vkey


def _split_key_string(text: str) -> tuple[str, int, bytes]:
    """Split ``name+hex8+base64`` into its checked parts (no ID check yet)."""
    if not isinstance(text, str):
        raise KeyFormatError("a key string must be str")
    name, _, rest = text.partition("+")
    id_hex, _, key_b64 = rest.partition("+")
    if not is_valid_key_name(name) or not _HEX8.fullmatch(id_hex):
        raise KeyFormatError("key string is not name+hex8+base64")
    try:
        typed = strict_b64decode(key_b64)
    except ValueError:
        raise KeyFormatError("key material is not standard base64") from None
    if not typed:
        raise KeyFormatError("key material is empty")
    return name, int(id_hex, 16), typed


def _check_ed25519(typed: bytes) -> bytes:
    if typed[0] != ALG_ED25519:
        raise UnsupportedKeyAlgorithmError(typed[0])
    if len(typed) != 1 + ED25519_KEY_SIZE:
        raise KeyFormatError(f"Ed25519 key material is {len(typed) - 1} bytes, not 32")
    return typed[1:]


def parse_verifier_key(vkey: str) -> Verifier:
    """Parse ``name+hex8+base64(0x01 || public key)`` (KeyFormatError)."""
    name, written_id, typed = _split_key_string(vkey)
    computed_id = key_id(name, typed)
    if written_id != computed_id:
        raise KeyIdMismatchError(name, written_id, computed_id)
    public = _check_ed25519(typed)
    try:
        Ed25519PublicKey.from_public_bytes(public)
    except ValueError:
        raise KeyFormatError("not an Ed25519 public key") from None
    return Verifier(name, written_id, public)


def parse_signer_key(skey: str) -> Signer:
    """Parse ``PRIVATE+KEY+name+hex8+base64(0x01 || seed)`` (KeyFormatError)."""
    if not isinstance(skey, str) or not skey.startswith(_PRIVATE_PREFIX):
        raise KeyFormatError("signer key must start with PRIVATE+KEY+")
    name, written_id, typed = _split_key_string(skey[len(_PRIVATE_PREFIX):])
    seed = _check_ed25519(typed)
    private = Ed25519PrivateKey.from_private_bytes(seed)
    typed_public = bytes([ALG_ED25519]) + private.public_key().public_bytes_raw()
    computed_id = key_id(name, typed_public)
    if written_id != computed_id:
        raise KeyIdMismatchError(name, written_id, computed_id)
    return Signer(name, written_id, private)
