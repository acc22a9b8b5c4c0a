"""Service signing keys: key files, key ids, the Signer's repr and the keyrings that verify events.

Pins the rules of services.core.signing that the envelope contract (docs/architecture.md §3) relies on:
private keys are PEM (PKCS#8) files of mode 0600 that are created once and then reused, a key file
readable by others is refused without its contents ever reaching an error message or a repr, the key
id is the lowercase hex SHA-256 of the raw 32-byte Ed25519 public key, a keyring trusts each key for
exactly one stream, and a DirectoryKeyring picks up a producer's `.pub` file written after the
keyring was built (reload on a miss).
"""

from __future__ import annotations

import hashlib
import os
import stat

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.core.errors import ConfigError, SignatureError, UnknownKeyError, VerificationError
from services.core.signing import (
    DirectoryKeyring,
    Keyring,
    Signer,
    TrustedKey,
    key_id,
    load_or_create_signer,
    load_signer,
    raw_public,
    read_public_key,
    write_public_key,
)

SEED = bytes(range(32))
# The raw public key of SEED, as computed by `cryptography` (pinned so a change of derivation shows).
PUBLIC_HEX = "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"


def _write_private(path, pem: bytes, mode: int = 0o600) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    os.chmod(path, mode)


def _pkcs8(key, password: bytes | None = None) -> bytes:
    encryption = (serialization.BestAvailableEncryption(password) if password
                  else serialization.NoEncryption())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)


# --------------------------------------------------------------------------------------------
# key ids and the Signer
# --------------------------------------------------------------------------------------------


def test_key_id_is_hex_sha256_of_the_raw_public_key():
    public = bytes.fromhex(PUBLIC_HEX)
    assert key_id(public) == hashlib.sha256(public).hexdigest()
    assert key_id(public) == "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c"
    assert key_id(bytes(32)) == hashlib.sha256(bytes(32)).hexdigest()


@pytest.mark.parametrize("length", [0, 31, 33, 64])
def test_key_id_refuses_anything_but_32_bytes(length):
    with pytest.raises(ValueError):
        key_id(bytes(length))


def test_signer_from_seed_exposes_raw_public_key_and_key_id():
    signer = Signer.from_seed(SEED)
    expected = Ed25519PrivateKey.from_private_bytes(SEED).public_key()
    assert signer.public_key == raw_public(expected) == bytes.fromhex(PUBLIC_HEX)
    assert signer.key_id == hashlib.sha256(signer.public_key).hexdigest()
    assert signer.seed() == SEED


def test_signer_signs_deterministically_and_verifiably():
    signer = Signer.from_seed(SEED)
    sig = signer.sign(b"message")
    assert sig == signer.sign(b"message") and len(sig) == 64
    Ed25519PrivateKey.from_private_bytes(SEED).public_key().verify(sig, b"message")


def test_signer_repr_does_not_reveal_the_seed():
    signer = Signer.from_seed(SEED)
    pem = _pkcs8(Ed25519PrivateKey.from_private_bytes(SEED))
    for text in (repr(signer), str(signer), f"{signer!r}"):
        assert SEED.hex() not in text
        assert SEED.hex()[:16] not in text
        assert pem.decode() not in text and pem.decode().splitlines()[1][:20] not in text
        assert signer.key_id[:16] in text  # it does identify the key


def test_generated_signers_differ():
    assert Signer.generate().key_id != Signer.generate().key_id


# --------------------------------------------------------------------------------------------
# key files
# --------------------------------------------------------------------------------------------


def test_load_or_create_signer_creates_a_0600_pem_and_a_pub_file(tmp_path):
    path = tmp_path / "keys" / "agenda.key"
    signer = load_or_create_signer(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = path.read_bytes()
    assert data.startswith(b"-----BEGIN PRIVATE KEY-----\n")
    loaded = serialization.load_pem_private_key(data, password=None)
    assert raw_public(loaded.public_key()) == signer.public_key
    pub = tmp_path / "keys" / "agenda.pub"
    assert pub.read_text() == signer.public_key.hex() + "\n"
    assert read_public_key(pub) == signer.public_key


def test_load_or_create_signer_loads_the_same_key_again(tmp_path):
    path = tmp_path / "ledger.key"
    first = load_or_create_signer(path)
    content = path.read_bytes()
    second = load_or_create_signer(path)
    assert second.key_id == first.key_id
    assert second.sign(b"x") == first.sign(b"x")
    assert path.read_bytes() == content  # not rewritten
    assert load_signer(path).key_id == first.key_id


def _race_for_the_key(path, start, results):
    start.wait()
    try:
        results.put(("ok", load_or_create_signer(path).public_key.hex()))
    except BaseException as e:  # noqa: BLE001 - every failure is the finding
        results.put(("failed", repr(e)))


def test_processes_racing_to_create_one_key_all_end_with_the_same_key(tmp_path):
    """M8: the web workers of a fresh stack create one key at once; none fails, none reads half
    a key, and every one ends with the winner's key."""
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    for attempt in range(3):
        path = tmp_path / f"try{attempt}" / "secrets" / "ledger.key"
        start, results = ctx.Event(), ctx.Queue()
        workers = [ctx.Process(target=_race_for_the_key, args=(path, start, results)) for _ in range(16)]
        for w in workers:
            w.start()
        start.set()
        outcomes = [results.get(timeout=60) for _ in workers]
        for w in workers:
            w.join(timeout=60)
        assert all(kind == "ok" for kind, _ in outcomes), outcomes
        assert len({public for _, public in outcomes}) == 1, outcomes
        assert outcomes[0][1] == load_signer(path).public_key.hex()
        assert read_public_key(path.with_suffix(".pub")).hex() == outcomes[0][1]
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert sorted(p.name for p in path.parent.iterdir()) == ["ledger.key", "ledger.pub"]  # no temp left


def test_an_existing_key_file_is_used_as_is(tmp_path):
    path = tmp_path / "agenda.key"
    _write_private(path, _pkcs8(Ed25519PrivateKey.from_private_bytes(SEED)))
    assert load_or_create_signer(path).public_key.hex() == PUBLIC_HEX


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o666])
def test_key_file_readable_by_others_is_refused_without_leaking_it(tmp_path, mode):
    path = tmp_path / "agenda.key"
    pem = _pkcs8(Ed25519PrivateKey.from_private_bytes(SEED))
    _write_private(path, pem, mode)
    with pytest.raises(ConfigError) as info:
        load_or_create_signer(path)
    message = str(info.value)
    assert f"{mode:o}" in message and str(path) in message
    assert SEED.hex() not in message
    for line in pem.decode().splitlines():
        assert line not in message
    assert "PRIVATE KEY" not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None  # nothing chained to it


@pytest.mark.parametrize(
    "content",
    [b"", b"garbage", b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", os.urandom(64)],
    ids=["empty", "text", "broken pem", "random bytes"],
)
def test_garbage_key_file_is_a_config_error(tmp_path, content):
    path = tmp_path / "agenda.key"
    _write_private(path, content)
    with pytest.raises(ConfigError, match="is not a PEM Ed25519 private key"):
        load_signer(path)


@pytest.mark.parametrize(
    "make_key",
    [
        lambda: ec.generate_private_key(ec.SECP256R1()),
        lambda: rsa.generate_private_key(public_exponent=65537, key_size=1024),
        lambda: ed448.Ed448PrivateKey.generate(),
    ],
    ids=["ec-p256", "rsa", "ed448"],
)
def test_non_ed25519_pem_is_a_config_error(tmp_path, make_key):
    path = tmp_path / "agenda.key"
    _write_private(path, _pkcs8(make_key()))
    with pytest.raises(ConfigError, match="is not an Ed25519 key"):
        load_signer(path)


def test_public_key_pem_instead_of_private_is_a_config_error(tmp_path):
    path = tmp_path / "agenda.key"
    pem = Ed25519PrivateKey.from_private_bytes(SEED).public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    _write_private(path, pem)
    with pytest.raises(ConfigError):
        load_signer(path)


def test_unreadable_key_path_is_a_config_error(tmp_path):
    path = tmp_path / "agenda.key"
    path.mkdir(mode=0o700)
    with pytest.raises(ConfigError, match="cannot read signing key"):
        load_signer(path)


def test_encrypted_key_file_is_a_config_error(tmp_path):
    path = tmp_path / "agenda.key"
    _write_private(path, _pkcs8(Ed25519PrivateKey.from_private_bytes(SEED), password=b"secret"))
    with pytest.raises(ConfigError):
        load_signer(path)


@pytest.mark.parametrize(
    ("content", "match"),
    [("", "32-byte"), ("zz" * 32, "not hex"), ("ab" * 31, "32-byte"), ("ab" * 33, "32-byte")],
    ids=["empty", "not hex", "short", "long"],
)
def test_bad_public_key_file_is_a_config_error(tmp_path, content, match):
    path = tmp_path / "agenda.pub"
    path.write_text(content)
    with pytest.raises(ConfigError, match=match):
        read_public_key(path)


def test_public_key_file_round_trips(tmp_path):
    path = tmp_path / "x.pub"
    write_public_key(path, bytes.fromhex(PUBLIC_HEX))
    assert path.read_text() == PUBLIC_HEX + "\n"
    assert read_public_key(path) == bytes.fromhex(PUBLIC_HEX)


# --------------------------------------------------------------------------------------------
# Keyring
# --------------------------------------------------------------------------------------------


@pytest.fixture
def agenda_signer():
    return Signer.from_seed(SEED)


def test_keyring_verifies_a_good_signature(agenda_signer):
    keyring = Keyring([TrustedKey(agenda_signer.public_key, "agenda")])
    assert agenda_signer.key_id in keyring and len(keyring) == 1
    keyring.verify(agenda_signer.key_id, "agenda", agenda_signer.sign(b"data"), b"data")


def test_keyring_unknown_key_id(agenda_signer):
    keyring = Keyring([TrustedKey(agenda_signer.public_key, "agenda")])
    other = Signer.from_seed(bytes([7] * 32))
    with pytest.raises(UnknownKeyError, match="not registered"):
        keyring.verify(other.key_id, "agenda", other.sign(b"data"), b"data")


def test_keyring_key_used_for_another_stream_is_unknown(agenda_signer):
    keyring = Keyring([TrustedKey(agenda_signer.public_key, "agenda")])
    with pytest.raises(UnknownKeyError, match="registered for stream 'agenda', not 'ballot'"):
        keyring.verify(agenda_signer.key_id, "ballot", agenda_signer.sign(b"data"), b"data")


@pytest.mark.parametrize(
    ("signature", "data"),
    [
        (lambda s: s.sign(b"data"), b"data!"),
        (lambda s: s.sign(b"other"), b"data"),
        (lambda s: bytes(64), b"data"),
        (lambda s: s.sign(b"data")[:63], b"data"),
        (lambda s: s.sign(b"data") + b"\x00", b"data"),
        (lambda s: b"", b"data"),
    ],
    ids=["other data", "other signature", "zero signature", "short", "long", "empty"],
)
def test_keyring_bad_signature_is_a_signature_error(agenda_signer, signature, data):
    keyring = Keyring([TrustedKey(agenda_signer.public_key, "agenda")])
    with pytest.raises(SignatureError):
        keyring.verify(agenda_signer.key_id, "agenda", signature(agenda_signer), data)


def test_keyring_errors_are_verification_errors():
    assert issubclass(SignatureError, VerificationError)
    assert issubclass(UnknownKeyError, VerificationError)


def test_trusted_key_id_and_later_add(agenda_signer):
    trusted = TrustedKey(agenda_signer.public_key, "agenda")
    assert trusted.key_id == agenda_signer.key_id
    keyring = Keyring()
    assert agenda_signer.key_id not in keyring and len(keyring) == 0
    keyring.add(trusted)
    assert keyring.keys() == [trusted]


# --------------------------------------------------------------------------------------------
# DirectoryKeyring
# --------------------------------------------------------------------------------------------


def test_directory_keyring_trusts_each_pub_file_for_its_stream(tmp_path):
    agenda = load_or_create_signer(tmp_path / "agenda.key")
    ledger = load_or_create_signer(tmp_path / "ledger.key")
    keyring = DirectoryKeyring(tmp_path)
    assert {(k.stream, k.key_id) for k in keyring.keys()} == {("agenda", agenda.key_id), ("ledger", ledger.key_id)}
    keyring.verify(agenda.key_id, "agenda", agenda.sign(b"d"), b"d")
    with pytest.raises(UnknownKeyError):
        keyring.verify(agenda.key_id, "ledger", agenda.sign(b"d"), b"d")


def test_directory_keyring_of_a_missing_directory_is_empty(tmp_path):
    keyring = DirectoryKeyring(tmp_path / "not-yet")
    assert len(keyring) == 0
    signer = Signer.from_seed(SEED)
    with pytest.raises(UnknownKeyError):
        keyring.verify(signer.key_id, "agenda", signer.sign(b"d"), b"d")


def test_directory_keyring_reloads_on_a_miss(tmp_path):
    keyring = DirectoryKeyring(tmp_path)
    assert len(keyring) == 0
    signer = load_or_create_signer(tmp_path / "ballot.key")  # the producer starts later
    keyring.verify(signer.key_id, "ballot", signer.sign(b"vote"), b"vote")
    assert signer.key_id in keyring


def test_directory_keyring_picks_up_a_pub_file_in_a_directory_created_later(tmp_path):
    keys = tmp_path / "keys"
    keyring = DirectoryKeyring(keys)
    signer = Signer.from_seed(SEED)
    keys.mkdir()
    write_public_key(keys / "agenda.pub", signer.public_key)
    keyring.verify(signer.key_id, "agenda", signer.sign(b"d"), b"d")


def test_directory_keyring_reload_still_enforces_the_stream(tmp_path):
    keyring = DirectoryKeyring(tmp_path)
    signer = Signer.from_seed(SEED)
    write_public_key(tmp_path / "agenda.pub", signer.public_key)
    with pytest.raises(UnknownKeyError, match="registered for stream 'agenda'"):
        keyring.verify(signer.key_id, "ballot", signer.sign(b"d"), b"d")


def test_directory_keyring_reload_still_checks_the_signature(tmp_path):
    keyring = DirectoryKeyring(tmp_path)
    signer = Signer.from_seed(SEED)
    write_public_key(tmp_path / "agenda.pub", signer.public_key)
    with pytest.raises(SignatureError):
        keyring.verify(signer.key_id, "agenda", signer.sign(b"d"), b"e")


def test_directory_keyring_ignores_files_that_are_not_pub(tmp_path):
    signer = load_or_create_signer(tmp_path / "agenda.key")
    (tmp_path / "notes.txt").write_text("ab" * 32)
    keyring = DirectoryKeyring(tmp_path)
    assert [k.stream for k in keyring.keys()] == ["agenda"]
    assert signer.key_id in keyring


def test_directory_keyring_reload_with_a_half_written_pub_file_is_a_verification_error(tmp_path):
    keyring = DirectoryKeyring(tmp_path)
    (tmp_path / "ballot.pub").write_text("")  # the moment between truncate and write
    signer = Signer.from_seed(SEED)
    with pytest.raises(VerificationError):
        keyring.verify(signer.key_id, "ballot", signer.sign(b"d"), b"d")
