"""Who may call what: the declared authorisation matrix of `/v1` (route × role × summit), as data.

Every documented operation has exactly one rule here (a test compares this table with the
served `/openapi.json` both ways), and the gateway answers a path that matches no rule with 404
without forwarding it: a route nobody declared is closed. The decision itself (`decide`) is pure,
so the matrix test can also walk it without a network.

Roles (services/core/tokens.py): organiser (a municipality, tenant-wide), facilitator and
participant (one summit), auditor (tenant-wide or one summit; reads what is not public). What is
public in a G1000 — charters, logs, checkpoints, proofs, draw results, ballot results, the
Burgerbesluit — needs no token at all.

Scopes:
- PUBLIC: anyone, token or not.
- SUMMIT: the path names a summit (`{summit_id}` or `{log_id}`); the token must act on it (a
  facilitator's or participant's token names it, an organiser's or auditor's tenant is the
  municipality of its charter). A foreign summit is 403, an unknown one 404.
- TOKEN: any valid token of the listed roles (the operation itself limits what it touches,
  e.g. an organiser creates summits only for its own municipality).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.core.tokens import Claims

PUBLIC, SUMMIT, TOKEN = "public", "summit", "token"
ALL_ROLES = frozenset({"organiser", "facilitator", "participant", "auditor"})
STAFF = frozenset({"organiser", "facilitator"})
SUMMIT_PARAMS = ("summit_id", "log_id")


@dataclass(frozen=True)
class Rule:
    scope: str
    roles: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if self.scope not in (PUBLIC, SUMMIT, TOKEN):
            raise ValueError(f"unknown scope {self.scope!r}")
        if (self.scope == PUBLIC) != (not self.roles) or not self.roles <= ALL_ROLES:
            raise ValueError("a public rule names no roles; every other rule names known roles")


def public() -> Rule:
    return Rule(PUBLIC)


def summit(*roles: str) -> Rule:
    return Rule(SUMMIT, frozenset(roles))


def token(*roles: str) -> Rule:
    return Rule(TOKEN, frozenset(roles))


# (method, OpenAPI path template) -> rule. Keep it sorted by path; every service's routes are here.
POLICY: dict[tuple[str, str], Rule] = {
    # authentication (the gateway's own endpoints, gateway/auth_api.py)
    ("POST", "/v1/auth/check-in"): public(),
    ("POST", "/v1/auth/refresh"): token(*ALL_ROLES),
    ("DELETE", "/v1/auth/tokens/{token_id}"): token(*ALL_ROLES),
    ("GET", "/v1/auth/whoami"): token(*ALL_ROLES),
    # transparency logs (ledger): public, except the operator's view of refused events
    ("GET", "/v1/logs/{log_id}/checkpoint"): public(),
    ("GET", "/v1/logs/{log_id}/checkpoints"): public(),
    ("GET", "/v1/logs/{log_id}/entries"): public(),
    ("GET", "/v1/logs/{log_id}/export"): public(),
    ("GET", "/v1/logs/{log_id}/key"): public(),
    ("GET", "/v1/logs/{log_id}/proofs/consistency"): public(),
    ("GET", "/v1/logs/{log_id}/proofs/inclusion"): public(),
    ("GET", "/v1/logs/{log_id}/quarantine"): public(),
    # summits (ledger) and their credentials (gateway)
    ("GET", "/v1/summits"): public(),
    ("POST", "/v1/summits"): token("organiser"),
    ("GET", "/v1/summits/{summit_id}"): public(),
    ("GET", "/v1/summits/{summit_id}/heads"): public(),  # the gateway gathers them (gateway/heads.py)
    ("POST", "/v1/summits/{summit_id}/check-in-codes"): summit("organiser", "facilitator"),
    ("GET", "/v1/summits/{summit_id}/streams"): public(),
    ("GET", "/v1/summits/{summit_id}/tokens"): summit("organiser"),
    ("POST", "/v1/summits/{summit_id}/tokens"): summit("organiser"),
    # ballot (services/ballot; docs/ballot.md): casts and receipts carry no token (gateway/unlinked.py)
    ("GET", "/v1/summits/{summit_id}/ballots"): public(),
    ("POST", "/v1/summits/{summit_id}/ballots"): summit("organiser"),
    ("GET", "/v1/summits/{summit_id}/ballots/{ballot_id}"): public(),
    ("POST", "/v1/summits/{summit_id}/ballots/{ballot_id}/close"): summit("organiser"),
    ("POST", "/v1/summits/{summit_id}/ballots/{ballot_id}/credentials"): summit("participant"),
    ("POST", "/v1/summits/{summit_id}/ballots/{ballot_id}/open"): summit("organiser"),
    ("POST", "/v1/summits/{summit_id}/ballots/{ballot_id}/shares"): public(),
    ("POST", "/v1/summits/{summit_id}/ballots/{ballot_id}/votes"): public(),
    ("GET", "/v1/summits/{summit_id}/ballots/{ballot_id}/votes/{nullifier}"): public(),
    # lottery (services/lottery; docs/lottery.md)
    ("GET", "/v1/summits/{summit_id}/lottery/invitations"): public(),
    ("POST", "/v1/summits/{summit_id}/lottery/invitations"): summit("organiser"),
    ("GET", "/v1/summits/{summit_id}/lottery/jobs/{job_id}"): public(),
    ("GET", "/v1/summits/{summit_id}/lottery/pools"): public(),
    ("GET", "/v1/summits/{summit_id}/lottery/pools/{pool}"): public(),
    ("GET", "/v1/summits/{summit_id}/lottery/pools/{pool}/distributions"): public(),
    ("POST", "/v1/summits/{summit_id}/lottery/pools/{pool}/distributions"): summit("organiser"),
    ("GET", "/v1/summits/{summit_id}/lottery/pools/{pool}/distributions/{distribution_id}"): public(),
    ("POST", "/v1/summits/{summit_id}/lottery/pools/{pool}/draws"): summit("organiser"),
    ("POST", "/v1/summits/{summit_id}/lottery/pools/{pool}/members"): summit("organiser"),
    ("GET", "/v1/summits/{summit_id}/lottery/pools/{pool}/panel"): public(),
    ("POST", "/v1/summits/{summit_id}/lottery/pools/{pool}/replacements"): summit("organiser"),
    ("GET", "/v1/summits/{summit_id}/lottery/register"): public(),
    ("POST", "/v1/summits/{summit_id}/lottery/register"): summit("organiser"),
    ("POST", "/v1/summits/{summit_id}/lottery/respondents"): public(),
    ("GET", "/v1/summits/{summit_id}/lottery/rounds"): public(),
    ("POST", "/v1/summits/{summit_id}/lottery/rounds"): summit("organiser"),
    ("GET", "/v1/summits/{summit_id}/lottery/rounds/{round_id}"): public(),
    ("POST", "/v1/summits/{summit_id}/lottery/rounds/{round_id}/beacon"): summit("organiser", "facilitator"),
    ("POST", "/v1/summits/{summit_id}/lottery/rounds/{round_id}/commitments"): summit("organiser", "facilitator"),
    ("POST", "/v1/summits/{summit_id}/lottery/rounds/{round_id}/dice"): summit("organiser", "facilitator"),
    ("POST", "/v1/summits/{summit_id}/lottery/rounds/{round_id}/finalize"): summit("organiser"),
    ("POST", "/v1/summits/{summit_id}/lottery/rounds/{round_id}/reveals"): summit("organiser", "facilitator"),
    # agenda
    ("GET", "/v1/summits/{summit_id}/topics"): public(),
    ("POST", "/v1/summits/{summit_id}/topics"): summit("organiser", "facilitator", "participant"),
    ("GET", "/v1/summits/{summit_id}/topics/nominations"): public(),
    ("POST", "/v1/summits/{summit_id}/topics/nominations"): summit("organiser"),
    ("GET", "/v1/summits/{summit_id}/topics/texts"): public(),   # the texts beside the log (docs/agenda.md)
    ("GET", "/v1/summits/{summit_id}/topics/{topic_id}"): public(),
    ("POST", "/v1/summits/{summit_id}/topics/{topic_id}/withholdings"): summit("organiser", "facilitator"),
    ("POST", "/v1/summits/{summit_id}/topics/merges"): summit("organiser", "facilitator"),
    ("POST", "/v1/summits/{summit_id}/topics/{topic_id}/splits"): summit("organiser", "facilitator"),
}


def _regex(template: str) -> re.Pattern:
    parts = re.split(r"(\{[^}/]+\})", template)
    pattern = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{pattern}$")


@dataclass(frozen=True)
class Match:
    template: str
    rule: Rule | None          # None: the path exists but not with this method
    params: dict[str, str]
    methods: tuple[str, ...]   # the methods declared for this template

    @property
    def summit_id(self) -> str | None:
        for name in SUMMIT_PARAMS:
            if name in self.params:
                return self.params[name].lower()
        return None


class Policy:
    """The matrix compiled for matching request paths (literal segments win over parameters)."""

    def __init__(self, table: dict[tuple[str, str], Rule] | None = None):
        self.table = dict(POLICY if table is None else table)
        by_template: dict[str, dict[str, Rule]] = {}
        for (method, template), rule in self.table.items():
            by_template.setdefault(template, {})[method] = rule
        # more literal characters first, so /v1/summits/x/topics never matches a {summit_id}-only rule
        ordered = sorted(by_template, key=lambda t: (-len(re.sub(r"\{[^}/]+\}", "", t)), t))
        self._compiled = [(_regex(t), t, by_template[t]) for t in ordered]

    def match(self, method: str, path: str) -> Match | None:
        """The template `path` matches and its rule for `method`. HEAD is allowed wherever GET is,
        under GET's rule (RFC 9110 section 9.3.2: the same answer without its content)."""
        for regex, template, rules in self._compiled:
            found = regex.match(path)
            if found:
                rule = rules.get(method)
                if method == "HEAD" and rule is None:
                    rule = rules.get("GET")
                methods = set(rules) | ({"HEAD"} if "GET" in rules else set())
                return Match(template, rule, found.groupdict(), tuple(sorted(methods)))
        return None


@dataclass(frozen=True)
class Decision:
    status: int              # 200 to go on; else 401/403/404
    detail: str = ""

    @property
    def allowed(self) -> bool:
        return self.status == 200


def decide(rule: Rule, claims: Claims | None, summit_id: str | None, summit_tenant: str | None,
           summit_known: bool = True) -> Decision:
    """Whether `claims` (None: no valid token) may use an operation under `rule`. `summit_tenant`
    is the municipality of the summit the path names (None when it names none or is unknown)."""
    if rule.scope == PUBLIC:
        return Decision(200)
    if claims is None:
        return Decision(401, f"this needs a token ({', '.join(sorted(rule.roles))})")
    if claims.role not in rule.roles:
        return Decision(403, f"a {claims.role} token may not do this (needs {', '.join(sorted(rule.roles))})")
    if rule.scope == SUMMIT:
        if summit_id is None:
            raise ValueError("a summit rule on a path without a summit")
        if not summit_known:
            return Decision(404, f"no summit {summit_id}")
        if not claims.acts_on(summit_id, summit_tenant):
            return Decision(403, "this token does not act on this summit")
    return Decision(200)
