"""The `bench:gateway` section of BENCHMARKS.md: the gateway's overhead against calling a service
directly (latency, same run, as a ratio), requests/s of a public read, and what sets the pace.

Kept apart from bench/gateway.py (the measurement) as ledger_report.py is from ledger.py; the
machine table, the profile tables and the section writer are shared with the other sections.
Every sentence with a number is computed from the same run.
"""

from __future__ import annotations

import os
import statistics

from .gateway import GatewayResult, Pair, ThroughputRun
from .ledger import Latencies
from .profiling import ProfileResult
from .report import machine_table
from .stats import fmt

CORES = os.cpu_count() or 1
QUANTILES = (50, 90, 99, 100)


def ms(value: float) -> str:
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def signed(value: float) -> str:
    return ("+" if value >= 0 else "−") + ms(abs(value))


def gateway_section(res: GatewayResult, machine: dict[str, str]) -> str:
    parts = [
        "## Gateway overhead: through the gateway vs straight to the service",
        "What a request pays for passing the gateway (access matrix, bearer token and its record, rate"
        " limit, Idempotency-Key, a second HTTP hop) instead of going straight to the service that answers"
        " it, measured **in the same run, interleaved**, and requests/s of a public read through the"
        " gateway with the direct rate as the baseline. The services and the gateway run under gunicorn"
        " as `g1000 up` starts them. Latencies are percentiles of every timed request (one run; the"
        " spread is inside it); rates are the median of the runs in ABBA order, with min and max."
        " Nothing here is a test threshold.",
        machine_table(machine),
        parameters(res),
        "### 1. Latency, one client",
        latency_table(res),
        latency_notes(res),
        "### 2. Requests/s of a public read",
        throughput_table(res),
        throughput_notes(res),
        "### 3. CPU: where a request's cost goes",
        cpu_table(res),
        steps_table(res),
    ]
    parts += [profile_block(prof) for prof in res.profiles]
    parts += ["### What sets the pace", pace(res), durations_table(res)]
    return "\n\n".join(parts)


def parameters(res: GatewayResult) -> str:
    p = res.params
    served = "; ".join(f"{name}: {how}" for name, how in res.served.items())
    return "\n".join([
        "Parameters:",
        f"- stack: ledger, lottery, agenda, ballot and the gateway, each `gunicorn {res.web_settings}` (the"
        " command line of g1000/stack.py `_spawn_web`), with the environment `g1000 up` gives its children,"
        f" in a sandbox of its own (databases, topics, keys) on the servers below; {served}. The gateway's"
        " rate limits are set to 1,000,000 per minute, so the limiter counts every request (one database"
        " statement on an unlogged table, part of the overhead measured) and refuses none (every answer was"
        " checked);",
        f"- set-up (untimed): the summit is chartered through the ledger's REST API; {p.log_entries:,} agenda"
        " events are appended and carried into its log by the agenda's outbox relay and the ledger's"
        " consumer as `g1000 worker` processes until a checkpoint covers them (log size"
        f" {res.log_size:,}, checkpoint {res.checkpoint_size:,}); then those workers are stopped, so **no"
        " relay or consumer runs while requests are timed** (in a running stack they would, and a write"
        " would wake the agenda's relay). The agenda learns of the summit by applying the ledger's"
        " `ledger.summit.created` event in process, as its consume worker would. The organiser token is"
        " recorded by the gateway (as `g1000 admin` issues it), so it passes the revocation check;",
        f"- latency: one client thread (`http.client`, one keep-alive connection to the service and one to"
        f" the gateway); {p.warmup:,} untimed then {p.requests:,} timed requests of each kind on each path,"
        " alternating direct / gateway with the order swapped every pair, so machine noise hits both"
        " paths alike; a pair's two requests are the same request (the same inclusion proof; a write"
        " differs only in its topic title and its Idempotency-Key); latency = from sending the request to"
        " having read the whole body. Inclusion proofs: random index, tree_size = the checkpoint;",
        f"- requests/s: `GET /v1/summits/{{id}}` with {', '.join(str(c) for c in p.concurrency)} client"
        f" threads, each with its own keep-alive connection, {p.throughput_seconds:g} s windows after"
        f" {p.throughput_warmup:g} s of warm-up, {p.throughput_repeat} runs per target and concurrency in"
        " ABBA order. Each client thread connects from its own loopback address (127.0.0.k), as distinct"
        " citizens do, so the gateway keeps one rate-limit counter per client; at the highest concurrency"
        " the gateway also runs with every client on one address (one counter row that every request"
        " updates). The client is Python (`http.client` in threads of the benchmark's own process; `wrk` is"
        " not installed here) and **shares the 2 cores with the servers**: its CPU is in the tables;",
        "- CPU: user + system time from /proc of each gunicorn process tree (master + workers), of"
        " PostgreSQL (all backends), of the client (the benchmark's process) and of the whole machine"
        " (\"other\" = busy time not ours: other tenants of this machine), read around every measurement;",
        f"- the gateway's own steps: each called in the benchmark's process on the gateway's database,"
        f" {p.step_samples:,} times (half just before the latency runs, half just after), round robin;"
        " profiles: the gateway app in the benchmark's process under cProfile (Flask's test client instead"
        " of gunicorn; prometheus-client in its single-process mode, not the multiprocess files the deployed"
        " gateway writes), forwarding to the services under gunicorn;",
        f"- code: {res.gateway_code}.",
    ])


# ---- 1. latency --------------------------------------------------------------------------------------


def _lat_cells(lat: Latencies) -> str:
    return " | ".join(ms(lat.p(q)) for q in QUANTILES)


def gateway_cpu_per_request(pair: Pair) -> float:
    """CPU seconds of the gateway's processes per request it answered in the latency run."""
    return pair.usage.webs.get("gateway", 0.0) / len(pair.gateway.millis)


def latency_table(res: GatewayResult) -> str:
    rows = []
    for pair in res.pairs:
        d, g = pair.direct, pair.gateway
        cpu = ms(1000 * gateway_cpu_per_request(pair))
        if pair.kind.forwarded:
            rows.append(f"| {pair.kind.label}: direct to the {pair.kind.service} | {len(d.millis):,} | {_lat_cells(d)}"
                        " | | | | | |")
            rows.append(f"| through the gateway | {len(g.millis):,} | {_lat_cells(g)}"
                        f" | **{signed(g.p(50) - d.p(50))}** | {signed(g.p(99) - d.p(99))}"
                        f" | **{g.p(50) / d.p(50):.2f}** | {g.p(99) / d.p(99):.2f} | {cpu} |")
        else:
            rows.append(f"| `GET /healthz` of the {pair.kind.service} (no forwarding, no database)"
                        f" | {len(d.millis):,} | {_lat_cells(d)} | | | | | |")
            rows.append(f"| `GET /healthz` of the gateway (no forwarding, no database) | {len(g.millis):,} |"
                        f" {_lat_cells(g)} | | | | | {cpu} |")
    return ("| request | n | p50 ms | p90 ms | p99 ms | max ms | overhead p50 ms | overhead p99 ms | ratio p50 |"
            " ratio p99 | gateway CPU per request ms |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def latency_notes(res: GatewayResult) -> str:
    reopened = sum(pair.reopened for pair in res.pairs)
    text = ("Overhead = the gateway's percentile minus the direct one; ratio = gateway ÷ direct; gateway CPU per"
            " request = user + system time of the gateway's gunicorn processes over the requests they answered in"
            " that row's run. `/healthz` is the floor of one HTTP request through gunicorn and Flask on each"
            " server (neither forwards it). What the gateway does for each kind (from gateway/app.py): every `/v1`"
            " request is matched"
            " against the access matrix and counted by the rate limiter (one `INSERT … ON CONFLICT DO UPDATE`"
            " on an unlogged table of its database, so the commit writes no WAL and waits for no flush);"
            " a request with a token also has its signature checked (Ed25519) and its record read (revoked?),"
            " in the same transaction as the count;"
            " a summit-scoped write also needs the summit's municipality (asked of the ledger once, then kept"
            " by each gateway worker); a POST with an Idempotency-Key claims the key before forwarding and"
            " stores the answer after (two more durable commits). Then the request is forwarded over a"
            " second keep-alive HTTP connection and the answer copied back. The service checks the token"
            " again either way, so the direct write is a complete request, not a shortcut.")
    write, keyed = _pair(res, "write"), _pair(res, "write-key")
    if write and keyed:
        text += (f" The two direct write rows are the same request to the agenda (it ignores the Idempotency-Key);"
                 f" their medians ({ms(write.direct.p(50))} and {ms(keyed.direct.p(50))} ms) show how much a commit's"
                 " latency drifts between two parts of one run on this disk.")
    if reopened:
        text += (f" {reopened} timed requests found their connection closed by the server and were sent again on a"
                 " new one (the failed attempt is not timed).")
    return text


# ---- 2. throughput ------------------------------------------------------------------------------------


def runs_of(res: GatewayResult, concurrency: int, target: str) -> list[ThroughputRun]:
    return [r for r in res.throughput if r.concurrency == concurrency and r.target == target]


def targets(res: GatewayResult) -> list[str]:
    seen: list[str] = []
    for r in res.throughput:
        if r.target not in seen:
            seen.append(r.target)
    return seen


def median_rate(runs: list[ThroughputRun]) -> float:
    return statistics.median(r.rate for r in runs)


def cores_cell(runs: list[ThroughputRun]) -> str:
    """Cores busy: ours + other tenants' (+ steal when the hypervisor took any), over the runs' windows."""
    _, ours, other, _ = pooled_usage(runs)
    steal = sum(r.usage.cpu.steal for r in runs) / sum(r.usage.seconds for r in runs)
    return f"{ours:.2f} + {other:.2f}" + (f" (steal {steal:.2f})" if steal >= 0.005 else "")


def pooled_usage(runs: list[ThroughputRun]) -> tuple[dict[str, float], float, float, int]:
    """CPU seconds per request by process over all runs, cores busy (ours, other tenants), requests."""
    total = sum(r.requests for r in runs)
    per: dict[str, float] = {}
    for r in runs:
        for name, value in r.usage.per_request(1).items():
            per[name] = per.get(name, 0.0) + value
    seconds = sum(r.usage.seconds for r in runs)
    ours = sum(r.usage.cpu.ours for r in runs) / seconds
    other = sum(r.usage.cpu.other_cores * r.usage.seconds for r in runs) / seconds
    return {name: value / total for name, value in per.items()}, ours, other, total


def _label(target: str) -> str:
    if target == "direct":
        return "direct to the ledger"
    if target == "gateway":
        return "through the gateway (one address per client)"
    return "through the gateway, every client on one address"


def throughput_table(res: GatewayResult) -> str:
    rows = []
    for c in res.params.concurrency:
        direct = runs_of(res, c, "direct")
        base = median_rate(direct) if direct else None
        for target in targets(res):
            runs = runs_of(res, c, target)
            if not runs:
                continue
            rate = median_rate(runs)
            lat = Latencies(target, [m for r in runs for m in r.latency.millis])
            ratio = f"**{rate / base:.2f}**" if base and target != "direct" else ""
            errors = sum(r.errors for r in runs)
            rows.append(f"| {c} | {_label(target)} | **{fmt(rate)}** | {fmt(min(r.rate for r in runs))}"
                        f" | {fmt(max(r.rate for r in runs))} | {ratio} | {ms(lat.p(50))} | {ms(lat.p(99))} |"
                        f" {cores_cell(runs)} | {errors} |")
    return ("| client threads | path | requests/s (median) | min | max | ÷ direct | p50 ms | p99 ms |"
            " cores busy: ours + other | non-200 |\n|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def throughput_notes(res: GatewayResult) -> str:
    buckets = [r.buckets for r in res.throughput if r.buckets is not None]
    text = ("Latency percentiles here are over every request completed in the windows of that row (all its"
            " runs), measured by the client, so they include waiting for a turn on a busy machine.")
    if buckets:
        text += (f" The gateway held {max(buckets)} address counters at the end (the latency client's address"
                 " and one per client thread), so the per-address runs did spread over distinct counters.")
    return text


# ---- 3. CPU -------------------------------------------------------------------------------------------


CPU_COLUMNS = ("client", "gateway", "ledger", "postgres")


def cpu_table(res: GatewayResult) -> str:
    rows = []
    for c in res.params.concurrency:
        for target in targets(res):
            runs = runs_of(res, c, target)
            if not runs:
                continue
            per, _, _, total = pooled_usage(runs)
            rest = sum(v for k, v in per.items() if k not in CPU_COLUMNS)
            cells = " | ".join(ms(1000 * per.get(k, 0.0)) for k in CPU_COLUMNS)
            rows.append(f"| {c} | {_label(target)} | {total:,} | **{ms(1000 * sum(per.values()))}** | {cells} |"
                        f" {ms(1000 * rest)} | {cores_cell(runs)} |")
    return ("CPU per request during the throughput runs (all runs of a row pooled), ms of user + system time:\n\n"
            "| client threads | path | requests | total | client | gateway | ledger | PostgreSQL | other services,"
            " broker | cores busy: ours + other |\n|---|---|---|---|---|---|---|---|---|---|\n" + "\n".join(rows))


def steps_table(res: GatewayResult) -> str:
    steps = [lat for lat in res.steps.values() if lat.millis]
    if not steps:
        return ""
    rows = "\n".join(f"| {lat.label} | {len(lat.millis):,} | {_lat_cells(lat)} |" for lat in steps)
    return ("The gateway's own steps, each called alone in the benchmark's process on the gateway's database"
            " (round robin, so noise hits them alike; half of them just before the latency runs, half just"
            " after):\n\n| step | n | p50 ms | p90 ms | p99 ms | max ms |\n"
            "|---|---|---|---|---|---|\n" + rows)


def profile_block(prof: ProfileResult) -> str:
    rows = "\n".join(f"| {name} | {sec:.2f} | {100 * sec / prof.seconds:.0f} % |" for name, sec in prof.categories)
    top = ", ".join(f"`{name}` {sec:.2f} s" for name, sec in prof.top_functions[:6])
    trips = ("" if prof.round_trips_per_event is None else
             f" PostgreSQL round trips (psycopg waits) per request: {prof.round_trips_per_event:.1f}.")
    return (f"**Profile of the {prof.stage}**: cProfile of the gateway app in the benchmark's process over"
            f" {prof.events:,} requests ({fmt(prof.rate_under_profile)} requests/s under the profiler), timed with"
            " the thread's CPU clock, so waiting for the service or a commit is left out: the shares are of the"
            " gateway's own CPU. Own time per category; built-ins and generic helpers are charged to their"
            " callers; the profiler inflates Python-heavy categories, so the shares are a map, not a"
            f" measurement.{trips}\n\n| category | CPU seconds | share |\n|---|---|---|\n{rows}\n\n"
            f"Largest single functions (own time): {top}.")


# ---- what sets the pace ------------------------------------------------------------------------------


def _pair(res: GatewayResult, key: str) -> Pair | None:
    return next((p for p in res.pairs if p.kind.key == key), None)


def _overhead(pair: Pair, q: float = 50) -> float:
    return pair.gateway.p(q) - pair.direct.p(q)


def _latency_load(res: GatewayResult) -> str:
    loads = [v for name, v in res.loads.items() if name.startswith("latency:")]
    if not loads:
        return ""
    values = [x for pair in loads for x in pair]
    return (f" The 1-minute load average was {min(values):.1f}–{max(values):.1f} during the latency runs,"
            f" on {CORES} cores.")


def _decompose(pair: Pair, waits: dict[str, float]) -> str:
    """The overhead at the median against what the steps timed alone and the gateway's CPU explain."""
    cpu = 1000 * gateway_cpu_per_request(pair)
    known = sum(waits.values()) + cpu
    parts = [f"{label} {ms(value)} ms" for label, value in waits.items()]
    parts.append(f"the gateway's own CPU {ms(cpu)} ms")
    rest = _overhead(pair) - known
    text = f"{', '.join(parts)}: {ms(known)} ms of the {signed(_overhead(pair))} ms"
    if rest > 0:
        text += (f"; the other {ms(rest)} ms are not accounted for by these parts (the extra hops' loopback round"
                 " trips, waits for a core, commits slower inside the request than timed alone)")
    return text


def latency_pace(res: GatewayResult) -> str:
    read, health, write, keyed = (_pair(res, k) for k in ("read", "healthz", "write", "write-key"))
    proof = _pair(res, "proof")
    step = {name: lat.p(50) for name, lat in res.steps.items() if lat.millis}
    text = []
    if read and "limiter" in step:
        limiter, cpu = step["limiter"], 1000 * gateway_cpu_per_request(read)
        floor = f", {ms(1000 * gateway_cpu_per_request(health))} ms of it even for its `/healthz`" if health else ""
        text.append(
            f"**Latency.** A public read takes {ms(read.direct.p(50))} ms straight from the ledger and"
            f" {ms(read.gateway.p(50))} ms through the gateway at the median ({signed(_overhead(read))} ms,"
            f" {read.gateway.p(50) / read.direct.p(50):.1f} ×; at p99 {signed(_overhead(read, 99))} ms). The ledger"
            " does the same work on both paths. The gateway adds its own CPU (gunicorn and Flask for the incoming"
            f" request{floor}; the forwarding client) and the rate limiter's counter (a statement and its commit,"
            " on an unlogged table) on every read, anonymous public ones included. At the"
            " medians (the counter timed alone, the CPU from the gateway's processes in the same runs): "
            + _decompose(read, {"the counter": limiter}) + "." + _latency_load(res) + " "
            + ("The counter is the largest single part here." if limiter > cpu else
               "The gateway's CPU is the larger part here."))
        if proof:
            text.append(f"A log read (inclusion proof) pays about the same, {signed(_overhead(proof))} ms"
                        f" ({proof.gateway.p(50) / proof.direct.p(50):.1f} ×) at the median.")
    if write and keyed and {"limiter", "token-record", "idempotency"} <= step.keys():
        text.append(
            f"An organiser's write takes {ms(write.direct.p(50))} ms direct (the agenda's own commit of the event)"
            f" and {signed(_overhead(write))} ms more through the gateway"
            f" ({write.gateway.p(50) / write.direct.p(50):.1f} ×): "
            + _decompose(write, {"the counter": step["limiter"], "the token's record": step["token-record"]})
            + ". With an Idempotency-Key, as careful clients send it, the overhead is"
            f" {signed(_overhead(keyed))} ms ({keyed.gateway.p(50) / keyed.direct.p(50):.1f} ×): "
            + _decompose(keyed, {"the counter": step["limiter"], "the token's record": step["token-record"],
                                 "claiming the key and storing the answer (two commits)": step["idempotency"]})
            + ". The more the gateway waits on PostgreSQL and hands work between processes, the more it loses"
            " to a machine whose cores are busy with other work.")
    return " ".join(text)


def throughput_pace(res: GatewayResult) -> str:
    top = max(res.params.concurrency)
    direct, gateway = runs_of(res, top, "direct"), runs_of(res, top, "gateway")
    if not direct or not gateway:
        return ""
    d_rate, g_rate = median_rate(direct), median_rate(gateway)
    d_per, d_ours, d_other, _ = pooled_usage(direct)
    g_per, g_ours, g_other, _ = pooled_usage(gateway)
    d_total, g_total = sum(d_per.values()), sum(g_per.values())
    busy = g_ours + g_other
    bound = "CPU-bound: the machine's cores were busy" if busy >= 0.85 * CORES else "not CPU-bound on our side alone"
    text = (
        f"**Requests/s.** With {top} client threads the ledger serves {fmt(d_rate)} public reads/s directly and"
        f" {fmt(g_rate)} through the gateway ({g_rate / d_rate:.2f} ×). Both are {bound}"
        f" ({d_ours:.2f} + {d_other:.2f} cores direct, {g_ours:.2f} + {g_other:.2f} through the gateway, ours +"
        f" other tenants', of {CORES}). A read through the gateway costs {ms(1000 * g_total)} ms of CPU in all"
        f" (gateway {ms(1000 * g_per.get('gateway', 0))}, ledger {ms(1000 * g_per.get('ledger', 0))}, PostgreSQL"
        f" {ms(1000 * g_per.get('postgres', 0))}, client {ms(1000 * g_per.get('client', 0))}) against"
        f" {ms(1000 * d_total)} ms direct (ledger {ms(1000 * d_per.get('ledger', 0))}, PostgreSQL"
        f" {ms(1000 * d_per.get('postgres', 0))}, client {ms(1000 * d_per.get('client', 0))}); on shared cores"
        f" that predicts {d_total / g_total:.2f} × the direct rate, and {g_rate / d_rate:.2f} × was measured."
        f" The gateway process itself spends {g_per.get('gateway', 0) / max(g_per.get('ledger', 0), 1e-9):.1f} ×"
        " the CPU of the ledger it fronts per request: it, not the ledger, sets the pace of a public read.")
    if g_per.get("ledger", 0) > 1.15 * d_per.get("ledger", 0):
        text += (f" The ledger itself also used more CPU per read when reached through the gateway"
                 f" ({ms(1000 * g_per['ledger'])} against {ms(1000 * d_per['ledger'])} ms), likely because at a"
                 " quarter of the rate its workers wake for every request instead of finding the next one waiting"
                 " (measured, not explained, here).")
    one = runs_of(res, top, "gateway, one address")
    if one:
        o_rate = median_rate(one)
        text += (f" With every client on one address (one rate-limit counter row, updated by every request) the"
                 f" gateway serves {fmt(o_rate)} reads/s ({o_rate / g_rate:.2f} × the per-address rate).")
    return text


ENV_LOOKUP = "requests' per-request look-ups"


def profile_pace(res: GatewayResult) -> str:
    out = []
    for prof in res.profiles:
        shares = sorted(((n, sec / prof.seconds) for n, sec in prof.categories), key=lambda kv: -kv[1])
        top = ", ".join(f"{n.split(' (')[0].split(':')[0]} {100 * sh:.0f} %" for n, sh in shares[:4])
        out.append(f"Profiled, the CPU of the {prof.stage} goes to {top}.")
    env = [dict(prof.categories).get(next((n for n, _ in prof.categories if n.startswith(ENV_LOOKUP)), ""), 0.0)
           / prof.seconds for prof in res.profiles]
    if env and max(env) >= 0.05:
        out.append(f"One avoidable part stands out: the gateway's `requests.Session` trusts the environment"
                   f" (`trust_env`), so every forwarded request scans all environment variables for proxy"
                   f" settings and looks for a `.netrc` file ({100 * min(env):.0f}–{100 * max(env):.0f} % of the"
                   " gateway's profiled CPU); a session with `trust_env = False` would skip that.")
    return " ".join(out)


def pace(res: GatewayResult) -> str:
    parts = [latency_pace(res), throughput_pace(res), profile_pace(res),
             "Caveats: one run; everything is on loopback; the client is Python and shares the 2 cores with"
             " the servers (a client on another machine would leave the servers more CPU, for both paths);"
             " no relay or consumer runs meanwhile; other tenants of this shared machine (\"other\" cores, the"
             " load average) move every number here, by tens of per cent at times."]
    return "\n\n".join(p for p in parts if p)


def durations_table(res: GatewayResult) -> str:
    rows = "\n".join(f"| {name} | {sec:.0f} | {res.loads[name][0]:.2f} → {res.loads[name][1]:.2f} |"
                     for name, sec in res.durations.items())
    total = sum(res.durations.values())
    return ("Durations of the parts of this run (wall clock) and the machine's 1-minute load average at their"
            " start and end:\n\n| part | seconds | load average |\n|---|---|---|\n"
            f"{rows}\n| **gateway benchmark total** | **{total:.0f}** | |")



def summary(res: GatewayResult) -> str:
    """One line for the terminal: the public read's overhead and the requests/s at the highest concurrency."""
    read = _pair(res, "read")
    top = max(res.params.concurrency)
    direct, gateway = runs_of(res, top, "direct"), runs_of(res, top, "gateway")
    text = "gateway:"
    if read:
        text += (f" public read p50 {ms(read.direct.p(50))} ms direct, {ms(read.gateway.p(50))} ms through the"
                 f" gateway ({read.gateway.p(50) / read.direct.p(50):.2f} x; p99 {ms(read.direct.p(99))} vs"
                 f" {ms(read.gateway.p(99))} ms);")
    if direct and gateway:
        text += (f" {top} clients: {fmt(median_rate(direct))} reads/s direct, {fmt(median_rate(gateway))} through"
                 f" the gateway ({median_rate(gateway) / median_rate(direct):.2f} x)")
    return text
