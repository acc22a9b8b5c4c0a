"""Independent verifiers for the G1000 transparency log.

This package exists so that anyone (an auditor, a journalist, a citizen)
can check the log's Merkle proofs and signed checkpoints with nothing but
the Python standard library and ``cryptography``.  It implements:

* ``merkle``     -- RFC 9162 section 2.1 Merkle tree hashing, proof
                    construction and proof verification;
* ``note``       -- C2SP signed-note (https://c2sp.org/signed-note), Ed25519;
* ``checkpoint`` -- C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint);
* ``errors``     -- the single exception hierarchy rooted at ``ProofError``.

The package deliberately imports nothing here: import the submodule you need.
"""
