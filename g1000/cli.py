"""Command line of the G1000 backend: `g1000 up | demo | admin | register | agenda | trustee | ballot | migrate | worker`.

Every failure that is the user's or the environment's (bad configuration, a database or broker
that cannot be reached) ends in one line `g1000: error: …` and a non-zero exit code, never a
traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from services.core.errors import ConfigError, CoreError
from services.core.registry import SERVICES

EXIT_CONFIG = 2
EXIT_UNAVAILABLE = 3
EXIT_FAILED = 1


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"a port is 0..65535, not {port}")
    return port


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="g1000", description="G1000 citizens' summit backend")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start the whole stack on loopback")
    up.add_argument("--data-dir", type=Path, default=Path(".g1000"), help="state directory (default .g1000)")
    up.add_argument("--fast-unsafe", action="store_true", help="PostgreSQL without fsync (throw-away stacks)")
    up.add_argument("--web-workers", type=int, default=2, help="gunicorn workers per service")
    up.add_argument("--demo", action="store_true", help="once ready, run `g1000 demo` against the stack")
    up.add_argument("--host", default="127.0.0.1",
                    help="address the gateway listens on (default 127.0.0.1; the services always stay on loopback)")
    up.add_argument("--port", type=_port, default=0, help="the gateway's port (default: a free one)")

    demo = sub.add_parser("demo", help="walk through a summit day via the gateway")
    demo.add_argument("--gateway", required=True, help="gateway URL, e.g. http://127.0.0.1:8080")
    demo.add_argument("--token", help="organiser token (default: $G1000_TOKEN, else one is issued for the"
                                      " stack in --data-dir, as `g1000 admin organiser` does)")
    demo.add_argument("--data-dir", type=Path, default=Path(".g1000"), help="where stack.json is")
    demo.add_argument("--timeout", type=float, default=60.0)

    admin = sub.add_parser("admin", help="operator acts: create organiser tokens, revoke tokens")
    admin_sub = admin.add_subparsers(dest="admin_command", required=True)
    organiser = admin_sub.add_parser("organiser", help="issue an organiser token for a municipality (printed once)")
    organiser.add_argument("--tenant", required=True, help="the municipality, exactly as summit charters name it")
    organiser.add_argument("--subject", help="pseudonymous id of the organiser (default: generated)")
    organiser.add_argument("--label", default="", help="a note for the record, e.g. who holds it")
    organiser.add_argument("--ttl", type=int, help="lifetime in seconds (default 8 h; G1000_TOKEN_TTL_ORGANISER)")
    organiser.add_argument("--json", action="store_true", help="print token, id and expiry as JSON")
    organiser.add_argument("--data-dir", type=Path, default=Path(".g1000"), help="a local stack's state directory")
    revoke = admin_sub.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    revoke.add_argument("--cascade", action="store_true",
                        help="also revoke the tokens it (and its refresh chain) issued, transitively")
    revoke.add_argument("--data-dir", type=Path, default=Path(".g1000"), help="a local stack's state directory")

    register = sub.add_parser("register", help="the municipality's register extract, prepared locally")
    register_sub = register.add_subparsers(dest="register_command", required=True)
    prepare = register_sub.add_parser(
        "prepare", help="raw extract + mapping → the opaque CSV to upload and the private mapping to keep")
    prepare.add_argument("raw", type=Path, help="the raw extract (CSV; may hold names, addresses, BSN, birth dates)")
    prepare.add_argument("--mapping", type=Path, required=True, help="mapping file (TOML, or .json), see docs/lottery.md")
    prepare.add_argument("--vocabulary", type=Path, required=True,
                         help="the summit's charter vocabulary (JSON): the summit as GET /v1/summits/{id} "
                              "answers it, its `register` member, or the bare {feature: [values]} map")
    prepare.add_argument("--out", type=Path, required=True, help="the file to upload (POST /register)")
    prepare.add_argument("--private", type=Path, required=True,
                         help="pseudonym → raw line, written 0600; keep it, never upload it")
    prepare.add_argument("--k", type=int, default=5, help="k-anonymity threshold (the service's, default 5)")
    prepare.add_argument("--force", action="store_true", help="overwrite the output files")

    agenda = sub.add_parser("agenda", help="the agenda's computations, recomputed locally")
    agenda_sub = agenda.add_subparsers(dest="agenda_command", required=True)
    ground = agenda_sub.add_parser(
        "common-ground", help="opinion groups, representative statements and consensus of statement votes (JSON)")
    ground.add_argument("votes", type=Path, help="the votes (JSON, see docs/agenda.md, Common ground)")
    _trustee_parser(sub)
    _ballot_parser(sub)

    migrate = sub.add_parser("migrate", help="apply migrations and grants as the owner role (G1000_MIGRATION_DATABASE_URL)")
    migrate.add_argument("names", nargs="*", metavar="NAME",
                         help=f"{', '.join(SERVICES)}, gateway (default: all)")

    worker = sub.add_parser("worker", help="run a service's outbox relay or consumer")
    worker.add_argument("kind", choices=("relay", "consume"))
    worker.add_argument("service", choices=SERVICES)
    return parser


def _trustee_parser(sub) -> None:
    trustee = sub.add_parser("trustee", help="a ballot's sealing key: made and split locally, shares checked and submitted")
    trustee_sub = trustee.add_subparsers(dest="trustee_command", required=True)
    keygen = trustee_sub.add_parser(
        "keygen", help="make the key pair here, split the private half k-of-n, write the shares and the public file")
    keygen.add_argument("--k", type=int, default=2, help="shares needed to open the votes (default 2)")
    keygen.add_argument("--n", type=int, default=3, help="trustees, one share each (default 3)")
    keygen.add_argument("--label", action="append", help="a trustee's label, once per trustee (names the share file)")
    keygen.add_argument("--out", type=Path, required=True, help="an empty directory for the files")
    check = trustee_sub.add_parser("check-share", help="check that a share is one the ballot registered")
    check.add_argument("share", type=Path, help="the trustee's share file")
    check.add_argument("--public", type=Path, required=True,
                       help="the public file, or the ballot as GET .../ballots/{id} answers it")
    submit = trustee_sub.add_parser("submit", help="hand the share to the ballot after it closed")
    submit.add_argument("--gateway", required=True, help="gateway URL, e.g. https://g1000.example.nl")
    submit.add_argument("--summit", required=True)
    submit.add_argument("--ballot", required=True)
    submit.add_argument("share", type=Path, help="the trustee's share file")


def _ballot_parser(sub) -> None:
    ballot = sub.add_parser("ballot", help="a voter's reference client (g1000/ballot_client.py), for rehearsals")
    ballot_sub = ballot.add_subparsers(dest="ballot_command", required=True)
    vote = ballot_sub.add_parser("vote", help="obtain the credential with a participant token, then cast without it")
    receipt = ballot_sub.add_parser("receipt", help="check a saved vote's receipt against the log's key")
    for p in (vote, receipt):
        p.add_argument("--gateway", required=True, help="gateway URL")
    vote.add_argument("--summit", required=True)
    vote.add_argument("--ballot", required=True)
    vote.add_argument("--token", help="the participant's token (default: $G1000_PARTICIPANT_TOKEN)")
    vote.add_argument("--choice", required=True, help='the choice as JSON, e.g. \'{"approve": ["groen"]}\'')
    vote.add_argument("--save", type=Path, help="keep the credential and sealed vote here (0600) for `receipt`")
    receipt.add_argument("saved", type=Path, help="the file `vote --save` wrote")
    receipt.add_argument("--log-key", required=True, help="the log's verifier key, as the municipality published it")


def _ballot(args) -> int:
    from .ballot_client import BallotClient, load_vote, save_vote
    from .ballot_http import anonymous_http

    http = anonymous_http(args.gateway.rstrip("/"))
    if args.ballot_command == "vote":
        token = args.token or os.environ.get("G1000_PARTICIPANT_TOKEN")
        if not token:
            raise ConfigError("no participant token: pass --token or set G1000_PARTICIPANT_TOKEN")
        try:
            choice = json.loads(args.choice)
        except ValueError:
            raise ConfigError("--choice is not JSON") from None
        client = BallotClient(http, args.summit, args.ballot)
        credential = client.obtain_credential(token)
        nullifier, sealed = client.cast(credential, choice)
        if args.save:
            save_vote(args.save, args.summit, args.ballot, credential, sealed)
        print(json.dumps({"nullifier": nullifier, "status": "pending"}))
        return 0
    summit_id, ballot_id, credential, sealed = load_vote(args.saved)
    checked = BallotClient(http, summit_id, ballot_id).receipt(credential, sealed, args.log_key)
    if checked is None:
        print(json.dumps({"nullifier": nullifier_of(credential), "status": "pending"}))
        return EXIT_FAILED
    print(json.dumps({"nullifier": checked.nullifier, "status": "in the log", "index": checked.index,
                      "tree_size": checked.tree_size, "occurred_at": checked.occurred_at}))
    return 0


def nullifier_of(credential) -> str:
    from g1000_proofs.ballot import nullifier

    return nullifier(credential)


def _trustee(args) -> int:
    from . import trustee

    if args.trustee_command == "keygen":
        done = trustee.keygen(args.k, args.n, args.label, args.out)
        for path in done.share_files:
            print(f"share for one trustee: {path} (mode 0600; hand it over in person, keep no copy)")
        print(f"public file for the organiser: {done.public_file} (send it as the ballot's `sealing`)")
        print(f"the private key was never written; {args.k} of {args.n} shares rebuild it")
        return 0
    if args.trustee_command == "check-share":
        print(trustee.check_share(args.share, args.public))
        return 0
    print(json.dumps(trustee.submit(args.gateway, args.summit, args.ballot, args.share, trustee.http_post)))
    return 0


def _up(args) -> int:
    from .stack import Stack

    stack = Stack(args.data_dir, fast_unsafe=args.fast_unsafe, web_workers=args.web_workers,
                  gateway_host=args.host, gateway_port=args.port)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    supervisor = None
    try:
        manifest = stack.start()
        print(f"G1000 stack ready; state in {args.data_dir}/stack.json", flush=True)
        print(f"gateway: {manifest['gateway']}", flush=True)
        # supervised from here on, the demo's run included (issue 10, M5)
        supervisor = threading.Thread(target=stack.supervise, args=(stop,), name="supervisor",
                                      daemon=True)
        supervisor.start()
        if args.demo:
            from .demo import run_demo

            from .admin import create_organiser

            organiser = create_organiser(dict(os.environ), args.data_dir, "Demostad", label="g1000 up --demo")
            run_demo(manifest["gateway"], organiser["token"])
            print(f"gateway: {manifest['gateway']} (Ctrl-C stops the stack)", flush=True)
        while not stop.wait(1.0):
            pass
    finally:
        stop.set()
        if supervisor is not None:
            supervisor.join()
        stack.stop()
    print("stopped", flush=True)
    return 0


def _demo(args) -> int:
    from .demo import run_demo

    token = args.token or os.environ.get("G1000_TOKEN")
    if not token:
        from .admin import create_organiser

        if not (args.data_dir / "stack.json").exists():
            raise ConfigError(f"no organiser token: pass --token, set G1000_TOKEN, or run next to a stack"
                              f" ({args.data_dir / 'stack.json'} is missing)")
        token = create_organiser(dict(os.environ), args.data_dir, "Demostad", label="g1000 demo")["token"]
    run_demo(args.gateway, token, timeout=args.timeout)
    return 0


def _admin(args) -> int:
    from .admin import create_organiser, revoke

    if args.admin_command == "organiser":
        issued = create_organiser(dict(os.environ), args.data_dir, args.tenant, args.subject, args.ttl, args.label)
        if args.json:
            print(json.dumps(issued))
        else:
            print(issued["token"])
            print(f"organiser token {issued['token_id']} for {issued['tenant']!r}, valid until"
                  f" {issued['expires_at']} (epoch seconds); revoke with `g1000 admin revoke {issued['token_id']}`",
                  file=sys.stderr)
        return 0
    print(json.dumps(revoke(dict(os.environ), args.data_dir, args.token_id, cascade=args.cascade)))
    return 0


def _register(args) -> int:
    from .errors import PrepareRefused
    from .register_prepare import run

    try:
        done = run(args.raw, args.mapping, args.out, args.private, args.k, args.force,
                   vocabulary_path=args.vocabulary)
    except PrepareRefused as e:
        for line in e.lines:
            print(f"g1000: error: {line}", file=sys.stderr)
        print("g1000: nothing was written", file=sys.stderr)
        return EXIT_FAILED
    print(f"{done.rows} residents in {done.households} households written to {args.out} (upload it);"
          f" the private mapping is in {args.private} (mode 0600: keep it, never upload it)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=os.environ.get("G1000_LOG_LEVEL", "INFO"),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    logging.getLogger("kafka").setLevel(logging.ERROR)  # we report broker trouble ourselves
    try:
        if args.command == "up":
            return _up(args)
        if args.command == "demo":
            return _demo(args)
        if args.command == "admin":
            return _admin(args)
        if args.command == "register":
            return _register(args)
        if args.command == "agenda":
            from .agenda_cli import common_ground_json

            print(common_ground_json(args.votes))
            return 0
        if args.command == "trustee":
            return _trustee(args)
        if args.command == "ballot":
            return _ballot(args)
        if args.command == "migrate":
            from .migrate import migrate

            for name, applied in migrate(dict(os.environ), args.names).items():
                print(json.dumps({"name": name, "applied": applied}), flush=True)
            return 0
        from .worker import run_worker

        return run_worker(args.kind, args.service)
    except ConfigError as e:
        print(f"g1000: error: {e}", file=sys.stderr)
        return EXIT_CONFIG
    except CoreError as e:
        from services.core.errors import UnavailableError

        print(f"g1000: error: {e}", file=sys.stderr)
        return EXIT_UNAVAILABLE if isinstance(e, UnavailableError) else EXIT_FAILED
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
