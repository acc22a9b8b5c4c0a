"""Who is calling a service: bearer tokens checked in the service itself (Flask adapter).

The gateway is the policy enforcement point (gateway/access.py: the declared route × role ×
summit matrix, plus revocation, which needs its record of issued tokens, rate limits and
idempotency). A service checks the token again — form, Ed25519 signature, time window, role and
summit — so that its domain code knows who acted (`current_claims().subject`), and accepts it
only with the gateway's vouch for this very request (services/core/vouch.py: signed, fresh,
matching method, path, body and token, its nonce used once), so that a request that reaches a
service without passing the gateway cannot act at all. See services/core/tokens.py for the
token format.

Use `@requires("organiser", "facilitator")` as the outermost decorator of a view, before
flask-smorest's argument parsing, so an unauthenticated caller learns nothing about bodies.
When the view has a `summit_id` argument the token must act on that summit: a facilitator's or
participant's token names it; an organiser's tenant must be the municipality of its charter.
Public views that change state (no token: e.g. an invitation code is the credential) take
`@vouched` instead, so rate limits and idempotency cannot be skipped either.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from pathlib import Path

from flask import current_app, g, request

from .errors import ConfigError
from .problem import problem
from .signing import read_public_key
from .tokens import Claims, TokenError, TokenVerifier, bearer
from .vouch import HEADER as VOUCH_HEADER
from .vouch import ANY_TOKEN, FRESH_SECONDS, VouchError, target_of, verify_vouch

log = logging.getLogger(__name__)

CHALLENGE = {"WWW-Authenticate": 'Bearer realm="g1000"'}


class TokenKey:
    """The token verifier of a process, loaded from its public-key file on first use.

    The file may appear after the service started (the gateway creates the key pair when the
    stack first starts), so a missing file is retried on the next request, at most once a second.
    """

    def __init__(self, path: Path):
        self.path = path
        self._verifier: TokenVerifier | None = None
        self.public_key: bytes | None = None
        self._tried = 0.0
        self._lock = threading.Lock()

    def verifier(self) -> TokenVerifier | None:
        if self._verifier is not None:
            return self._verifier
        with self._lock:
            if self._verifier is None and time.monotonic() - self._tried > 1.0:
                self._tried = time.monotonic()
                try:
                    public_key = read_public_key(self.path)
                    self._verifier = TokenVerifier(public_key)
                    self.public_key = public_key
                except (ConfigError, OSError) as e:
                    log.warning("token public key not usable yet: %s", e)
        return self._verifier


def _unauthorized(detail: str):
    return problem(401, "Unauthorized", detail, headers=CHALLENGE)


def authenticate() -> tuple[Claims | None, object | None]:
    """(claims, None) for a valid token, (None, None) when there is no token, else (None, 401)."""
    token = bearer(request.headers.get("Authorization"))
    if token is None:
        return None, None
    key: TokenKey = current_app.extensions["g1000_token_key"]
    verifier = key.verifier()
    if verifier is None:
        return None, problem(503, "Service Unavailable", "the token key is not installed yet",
                             headers={"Retry-After": "2"})
    try:
        return verifier.verify(token, time.time()), None
    except TokenError as e:
        return None, _unauthorized(str(e))


def requires(*roles: str, summit_tenant=None):
    """Decorator: the caller must hold a valid token of one of `roles` that acts on the view's
    `summit_id` (when it has one). `summit_tenant(summit_id) -> str | None` overrides how the
    summit's municipality is found (default: the service's known_summits read model)."""
    allowed = frozenset(roles)

    def decorate(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            claims, denied = authenticate()
            if denied is not None:
                return denied
            if claims is None:
                return _unauthorized(f"this action needs a token ({', '.join(sorted(allowed))})")
            unvouched = check_vouch(claims.token_id)
            if unvouched is not None:
                return unvouched
            if claims.role not in allowed:
                return problem(403, "Forbidden", f"a {claims.role} token may not do this"
                                                 f" (needs {', '.join(sorted(allowed))})")
            summit_id = kwargs.get("summit_id")
            if summit_id is not None:
                sid = str(summit_id).lower()
                tenant = (summit_tenant or known_summit_tenant)(sid)
                if tenant is None:
                    return problem(404, "Not Found", f"no summit {sid}")
                if not claims.acts_on(sid, tenant):
                    return problem(403, "Forbidden", "this token does not act on this summit")
            g.g1000_claims = claims
            return view(*args, **kwargs)

        return wrapper

    return decorate


def vouched(view):
    """Decorator for public views that change state: the request must come through the gateway
    (its vouch, with no token), so its rate limit and idempotency cannot be skipped."""

    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        unvouched = check_vouch(ANY_TOKEN)  # a public view acts on no token, so none is bound
        if unvouched is not None:
            return unvouched
        return view(*args, **kwargs)

    return wrapper


def check_vouch(token_id):
    """None when the gateway vouches for this request (and its nonce is new), else 401 problem."""
    key: TokenKey = current_app.extensions["g1000_token_key"]
    if key.verifier() is None or key.public_key is None:
        return problem(503, "Service Unavailable", "the token key is not installed yet",
                       headers={"Retry-After": "2"})
    try:
        vouch = verify_vouch(key.public_key, request.headers.get(VOUCH_HEADER), method=request.method,
                             target=target_of(request.path, request.query_string), body=request.get_data(),
                             token_id=token_id, now=time.time())
    except VouchError as e:
        return _unauthorized(f"{e}; send requests to the gateway")
    if not _first_use(vouch.nonce):
        return _unauthorized("the gateway's vouch has been used before; send requests to the gateway")
    return None


_last_sweep = [0.0]

# where create_service_app (runtime.py) keeps the service's Runtime; read here without importing
# runtime.py, which imports this module
RUNTIME_EXTENSION = "g1000_runtime"


def _database():
    return current_app.extensions[RUNTIME_EXTENSION].db


def _first_use(nonce: str) -> bool:
    """Record a vouch's nonce; False when it was seen before. Stale nonces go once a minute."""
    with _database().transaction() as conn:
        if time.monotonic() - _last_sweep[0] > 60.0:
            _last_sweep[0] = time.monotonic()
            conn.execute("DELETE FROM vouch_nonces WHERE seen_at < now() - make_interval(secs => %s)",
                         (4 * FRESH_SECONDS,))
        return conn.execute("INSERT INTO vouch_nonces (nonce) VALUES (%s) ON CONFLICT DO NOTHING",
                            (nonce,)).rowcount == 1


def current_claims() -> Claims:
    """The claims of the token that `requires` accepted for this request."""
    return g.g1000_claims


def known_summit_tenant(summit_id: str) -> str | None:
    with _database().transaction() as conn:
        row = conn.execute("SELECT municipality FROM known_summits WHERE summit_id = %s", (summit_id,)).fetchone()
    return row[0] if row else None
