"""The services of G1000, declared once (issue 11, item 6): the one list everyone else reads.

Each service owns one event stream of the same name, published on one Kafka topic
(`<prefix>.<stream>`, services/core/kafka.py) and appended to the log by the ledger, which
consumes every stream. The service configuration (services/core/config.py), the ledger's
producer URLs (services/ledger/settings.py), the gateway's upstreams (gateway/app.py) and the
processes `g1000 up` starts (g1000/services.py) are all derived from `REGISTRY`, so a new
service -- the ballot and the agenda are built by copying the lottery -- is one new entry here
(plus its routes in gateway/routes.py and gateway/access.py, which name its paths).
tests/unit/test_registry.py checks that nothing else declares the list.

Pure: names and conventions only, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_TOPIC_PREFIX = "g1000"


@dataclass(frozen=True)
class Service:
    """One service: its name (also its stream's), and the module with its `SPEC` and `create_app()`."""

    name: str
    app_module: str

    @property
    def stream(self) -> str:
        return self.name

    def topic(self, prefix: str = DEFAULT_TOPIC_PREFIX) -> str:
        return topic_for(self.stream, prefix)

    @property
    def url_env(self) -> str:
        """The variable that holds the base URL of its web process (the gateway's upstream)."""
        return f"G1000_{self.name.upper()}_URL"

    @property
    def database_env(self) -> str:
        """The variable that may name its own database's URL (default: `database` on the server)."""
        return f"G1000_{self.name.upper()}_DATABASE_URL"

    @property
    def database(self) -> str:
        return f"g1000_{self.name}"


REGISTRY: tuple[Service, ...] = (
    Service("ledger", "services.ledger.app"),
    Service("lottery", "services.lottery.app"),
    Service("agenda", "services.agenda.app"),
    Service("ballot", "services.ballot.app"),
)

SERVICES: tuple[str, ...] = tuple(s.name for s in REGISTRY)
STREAMS: tuple[str, ...] = tuple(s.stream for s in REGISTRY)
BY_NAME: dict[str, Service] = {s.name: s for s in REGISTRY}


def topic_for(stream: str, prefix: str = DEFAULT_TOPIC_PREFIX) -> str:
    """One topic per stream: `<prefix>.<stream>`."""
    return f"{prefix}.{stream}"
