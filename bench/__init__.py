"""Benchmarks of the G1000 backend, run with `make bench` (`python -m bench.run`).

Performance is measured, not asserted: these modules time the real components (PostgreSQL with
fsync on, the Kafka-protocol broker, the services' own event store, relay and consumer) and write
medians, the spread and a same-run baseline to BENCHMARKS.md. Nothing here is imported by tests.
"""
