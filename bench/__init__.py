"""Benchmarks of the G1000 backend, run with `make bench` (`python -m bench.run`).

Performance is measured, not asserted: these modules time the real components (PostgreSQL with
fsync on, the Kafka-protocol broker, the services' own event store, relay and consumer), and
bench/report.py writes the numbers to BENCHMARKS.md as tables: medians with min and max and the
ratio to a baseline measured in the same run. It generates no interpretation; people write that
under the tables, outside the generated markers. Tests (tests/unit/bench/) cover the pure
parts: the pool generator, the arithmetic, the categorisers and the tables.
"""
