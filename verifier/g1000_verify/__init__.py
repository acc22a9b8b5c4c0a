"""The auditor's verifier of a G1000 transparency log (``g1000-verify``).

Why this package exists: docs/architecture.md §5 promises that anyone can check a summit's log without
trusting the operator, with nothing but the Python standard library and ``cryptography``.  This
package reads a log from the public REST gateway or from an export bundle (docs/ledger.md) and
checks every signature (RFC 8032 Ed25519 over RFC 8785 canonical JSON, docs/events.md), every
``seq``, the hash chain, the RFC 9162 Merkle root against every C2SP signed checkpoint, the
consistency between checkpoints and, on request, a participant's receipt.

Modules: ``model`` (the in-memory log and the error types), ``sources`` (gateway and bundle
readers), ``checks`` (the ordered list of check steps), ``draw_checks`` and ``tally_checks``
(the lottery recomputed, the ballots checked and recounted, from the collected events),
``report`` (text and JSON output) and ``cli`` (the ``g1000-verify`` command).  Like every ``__init__`` of the pure packages, this one
imports nothing: import the submodule you need.
"""
