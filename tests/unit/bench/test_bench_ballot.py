"""bench/ballot.py's section writer: the ballot section's tables come from the numbers given to it
(made up here), goals say met / not met, ratios are ours over the raw RSA rates of the same run,
and failures are counted and shown; writing it leaves the rest of BENCHMARKS.md as it was."""

from __future__ import annotations

from bench.ballot import BallotParams, BallotResult, ballot_section
from bench.report import write_sections
from bench.stats import Latencies

MACHINE = {"date (UTC)": "2026-12-04 20:00", "cores": "2"}


def result(**changes) -> BallotResult:
    res = BallotResult(BallotParams(voters=4, concurrency=2), key_bits=3072, settings="2 gunicorn workers per app",
                       requests={"read the ballot": Latencies("read the ballot", [10.0, 20.0, 30.0, 40.0]),
                                 "credential request": Latencies("credential request", [100.0, 110.0, 120.0, 400.0]),
                                 "cast": Latencies("cast", [50.0, 60.0, 70.0, 80.0])},
                       voter_millis=[200.0, 210.0, 220.0, 520.0], burst_seconds=2.0, close_seconds=0.5,
                       tally_seconds=0.25, verify_seconds=1.0, counted=4, log_entries=17, sign_rate=40.0,
                       verify_rate=8.0, load_rate=4.0, durations={"burst": 2.0}, loads={"burst": (1.0, 1.5)})
    for name, value in changes.items():
        setattr(res, name, value)
    return res


def rows(section: str) -> list[str]:
    return [line for line in section.splitlines() if line.startswith("| ")]


def test_the_burst_table_and_goals():
    text = ballot_section(result(), MACHINE)
    assert text.startswith("## Ballot: 4 voters obtaining a credential and casting through the gateway")
    assert "| date (UTC) | 2026-12-04 20:00 |" in text
    assert "2 voters at a time" in text and "3072-bit credential key" in text
    lines = rows(text)
    assert "| voters who cast (of all) | 4 of 4 | all **met** |" in lines
    assert "| errors | 0 | 0 **met** |" in lines
    assert "| all casts done in | 2.00 s | ≤ 10 s **met** |" in lines
    assert "| throughput | 2.0 voters/s (6.0 requests/s) | |" in lines
    assert "| p99 of every request | 400.0 ms | < 500 ms **met** |" in lines


def test_latencies_per_request_and_per_voter():
    lines = rows(ballot_section(result(), MACHINE))
    assert "| credential request | 4 | 110.0 | 400.0 | 400.0 |" in lines
    assert "| read the ballot | 4 | 20.0 | 40.0 | 40.0 |" in lines
    assert "| one voter: all three | 4 | 210.0 | 520.0 | 520.0 |" in lines


def test_ratios_to_the_raw_rsa_rates():
    lines = rows(ballot_section(result(), MACHINE))
    assert "| the burst (one blind signature per voter) | 2.00 | 2.0 | blind-sign 40.0/s | 0.050 |" in lines
    assert "| the burst (one key load per credential) | 2.00 | 2.0 | DER key load 4.0/s | 0.500 |" in lines
    assert "| two shares until tallied | 0.25 | 16.0 | verify 8.0/s | 2.000 |" in lines
    assert "| `g1000-verify tally`, 17 log entries via the gateway | 1.00 | 4.0 | verify 8.0/s | 0.500 |" in lines


def test_errors_and_slow_runs_are_not_met():
    res = result(voter_millis=[200.0, 210.0, 220.0], errors=["BallotClientError: 503 | busy"], burst_seconds=12.0)
    res.requests["cast"] = Latencies("cast", [50.0, 60.0, 900.0])
    lines = rows(ballot_section(res, MACHINE))
    assert "| voters who cast (of all) | 3 of 4 | all **not met** |" in lines
    assert "| errors | 1 | 0 **not met** |" in lines
    assert "| all casts done in | 12.00 s | ≤ 10 s **not met** |" in lines
    assert "| p99 of every request | 900.0 ms | < 500 ms **not met** |" in lines
    assert "| BallotClientError: 503 / busy |" in lines  # a "|" in a message would break the table


def test_writing_the_section_keeps_the_rest(tmp_path):
    path = tmp_path / "BENCHMARKS.md"
    path.write_text("# Benchmarks\n\nkept\n<!-- bench:ballot:start -->\nold\n<!-- bench:ballot:end -->\n\nmine\n")
    write_sections(path, {"ballot": ballot_section(result(), MACHINE)})
    text = path.read_text()
    assert text.startswith("# Benchmarks\n\nkept\n<!-- bench:ballot:start -->\n## Ballot: 4 voters")
    assert text.endswith("<!-- bench:ballot:end -->\n\nmine\n") and "old" not in text
