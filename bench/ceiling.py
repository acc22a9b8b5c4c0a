"""The baseline: this machine's raw Ed25519 verification rate, measured in the same run.

The ledger's consumer verifies every event once, so the pipeline can never be faster than the
cores can verify signatures (RFC 8032 Ed25519, `cryptography`). Measured over the signed bytes of a
real `agenda.topic.nominated` event (its RFC 8785 canonical JSON without `sig`, about 400 bytes),
key loaded once: on one core (the ceiling), with two processes at once (the 2-core figure the
verifier's workers are compared with), and the full `verify_event` path the consumer runs (parse,
canonical check, envelope, key lookup, payload schema, signature) to show what the checks cost.
"""

from __future__ import annotations

import multiprocessing
import time
import uuid
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.core.canonical import canonical_bytes
from services.core.envelope import Event, sign_event, verify_event
from services.core.event_catalog import CATALOG
from services.core.signing import Keyring, Signer, TrustedKey

from .infra import nomination
from .stats import Samples

RAW_1 = "Ed25519 verify, 1 core (ceiling)"
RAW_2 = "Ed25519 verify, 2 processes (sum)"
FULL_1 = "verify_event (full consumer check), 1 core"
CHUNK = 200  # verifications between clock reads


@dataclass
class CeilingResult:
    seconds: float
    repeat: int
    message_bytes: int
    rates: dict[str, Samples] = field(default_factory=dict)


@dataclass(frozen=True)
class Sample:
    """One signed workload event, its signed bytes (canonical JSON without `sig`) and signature."""

    public_key: bytes
    signed_bytes: bytes
    signature: bytes
    event: Event


def sample_event() -> Sample:
    signer, summit = Signer.generate(), str(uuid.uuid4())
    new = nomination(summit)
    event = sign_event(signer, type=new.type, summit_id=summit, stream="agenda", seq=1, payload=new.payload)
    signed = canonical_bytes({k: v for k, v in event.as_dict().items() if k != "sig"})
    return Sample(signer.public_key, signed, signer.sign(signed), event)  # Ed25519 is deterministic


def _timed_loop(step, seconds: float) -> float:
    """Call `step` in chunks until `seconds` have passed; returns calls per second."""
    count, began = 0, time.perf_counter()
    while True:
        for _ in range(CHUNK):
            step()
        count += CHUNK
        if (now := time.perf_counter()) >= began + seconds:
            return count / (now - began)


def raw_verify_rate(sample: Sample, seconds: float) -> float:
    verify, signature, data = Ed25519PublicKey.from_public_bytes(sample.public_key).verify, sample.signature, \
        sample.signed_bytes
    return _timed_loop(lambda: verify(signature, data), seconds)


def full_verify_rate(sample: Sample, seconds: float) -> float:
    keyring, body = Keyring([TrustedKey(sample.public_key, "agenda")]), sample.event.body
    return _timed_loop(lambda: verify_event(body, keyring, CATALOG), seconds)


def _verify_worker(sample: Sample, seconds: float, start, results) -> None:
    start.wait()
    results.put(raw_verify_rate(sample, seconds))


def parallel_verify_rate(sample: Sample, seconds: float, processes: int = 2) -> float:
    """Sum of the rates of `processes` processes verifying at the same time."""
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Barrier(processes), ctx.Queue()
    procs = [ctx.Process(target=_verify_worker, args=(sample, seconds, start, results)) for _ in range(processes)]
    for proc in procs:
        proc.start()
    try:
        return sum(results.get(timeout=seconds + 60) for _ in procs)
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
                proc.join()


def run_ceiling(seconds: float = 2.0, repeat: int = 3) -> CeilingResult:
    """Each measure `repeat` times, interleaved, so noise hits them alike."""
    sample = sample_event()
    measures = {RAW_1: raw_verify_rate, RAW_2: parallel_verify_rate, FULL_1: full_verify_rate}
    rounds = [{label: measure(sample, seconds) for label, measure in measures.items()} for _ in range(repeat)]
    rates = {label: Samples(tuple(one[label] for one in rounds)) for label in measures}
    return CeilingResult(seconds, repeat, len(sample.signed_bytes), rates)
