"""The pure cores that services and auditors share (no I/O).

This package exists so that anyone (an auditor, a journalist, a citizen)
can check the log's Merkle proofs, signed checkpoints and draws with nothing
but the Python standard library and ``cryptography``.  It implements:

* ``merkle``     -- RFC 9162 section 2.1 Merkle tree hashing, proof
                    construction and proof verification;
* ``note``       -- C2SP signed-note (https://c2sp.org/signed-note), Ed25519;
* ``checkpoint`` -- C2SP tlog-checkpoint (https://c2sp.org/tlog-checkpoint);
* ``tlog_proof`` -- receipts as C2SP tlog-proof text (https://c2sp.org/tlog-proof);
* ``jcs``        -- RFC 8785 canonical JSON for the float-free events;
* ``seed``       -- the lottery seed: commitments, reveals, the seed (docs/architecture.md §6);
* ``draw``       -- the draws from the seed: invitations, panel, reserves, quotas (§6);
* ``register``   -- register contract 2: salted commitments, reveals, the rows a draw reaches;
* ``draw_parameters`` -- the invitation draw's n and stratify_by, declared by its round before
                    the seed (issue 10 H3);
* ``rounds``     -- seed rounds: the fold of their events, the phase rules, commitment order,
                    non-reveal, the designated round and distribution (§5, §6);
* ``replacements`` -- the current panel and the reserves a drop-out is replaced from;
* ``distribution`` -- a committed distribution's ``panels_root`` and per-panel rules;
* ``ballot``, ``blind_rsa``, ``sealing``, ``shamir``, ``tally`` -- the ballot's single rules: the
                    roll, credentials (RFC 9474), sealed votes (RFC 9180), the trustees' key
                    split, the count;
* ``ballot_count`` -- a ballot's method as a count spec, and the recount of its sealed votes;
* ``ballot_log`` -- a summit's ballot events folded in log order, and the first rule they
                    break (docs/ballot.md);
* ``tables``     -- the agenda's table assignment: capacity and group bounds per table, the
                    counts, repeat encounters (issue 14, item 4);
* ``errors``     -- the single exception hierarchy rooted at ``ProofError``.

The package deliberately imports nothing here: import the submodule you need.
"""
