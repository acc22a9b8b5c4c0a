"""Messages in English and Dutch (issue 12, item 4) and problem types per status (item 3).

The catalogue has both languages for every message; every message the code hands to a client
(a literal or f-string passed to problem(), abort(), a marshmallow ValidationError, or raised as an
error that reaches one) is in
it; Accept-Language picks Dutch only when the request prefers it; and every status the code
answers has a documented problem type.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import marshmallow as ma
import pytest
from flask import Flask

from services.core import messages, problem_types
from services.core.messages import CATALOGUE, LANGUAGES, literal_text, negotiate, translate

REPO = Path(__file__).resolve().parents[3]
SCANNED = ("services", "gateway")


def _client_errors() -> set[str]:
    """Names of the error classes whose message becomes a problem's detail."""
    from gateway import errors as gateway_errors
    from services.agenda import errors as agenda_errors
    from services.ballot import errors as ballot_errors
    from services.agenda import errors as agenda_errors
    from services.core import errors as core_errors
    from services.ledger import errors as ledger_errors
    from services.lottery import errors as lottery_errors

    roots = (agenda_errors.AgendaError, lottery_errors.LotteryError, ballot_errors.BallotError,
             ledger_errors.LedgerError, gateway_errors.GatewayError,
             core_errors.TokenError, core_errors.VouchError, core_errors.BodyJSONError)
    # their messages are logged, never answered: a bug of the selection fails its job (jobs.py), and
    # the gateway answers an unreachable lottery with its fixed 503 text (the TransientError handler)
    internal = (lottery_errors.InvalidDistributionError, gateway_errors.SeatsUnavailableError,
                gateway_errors.ArrivalUnavailableError,
                agenda_errors.AssignmentCheckError)  # the table optimiser broke its own rule: a bug
    names = set()
    for module in (gateway_errors, core_errors, ledger_errors, lottery_errors, ballot_errors, agenda_errors):
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, roots) and not issubclass(value, internal):
                names.add(value.__name__)
    return names


def _escaped(text: str) -> str:
    return text.replace("{", "{{").replace("}", "}}")


def _template(node) -> str | None:
    """The message as a catalogue template: literal braces doubled, each formatted value `{}`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return _escaped(node.value)
    if isinstance(node, ast.JoinedStr):
        return "".join(_escaped(part.value) if isinstance(part, ast.Constant) else "{}" for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _template(node.left), _template(node.right)
        return left + right if left is not None and right is not None else None
    return None


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    return node.func.attr if isinstance(node.func, ast.Attribute) else None


def scan(sources: dict[str, str], errors: set[str]) -> tuple[list[tuple[str, int, str]], list[int]]:
    """(where, line, template) of every client message, and every literal status, in the sources."""
    found, statuses = [], []
    for where, text in sources.items():
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node)
            keywords = {k.arg: k.value for k in node.keywords}
            if name == "problem":
                args = node.args[1:3] + [keywords[k] for k in ("detail",) if k in keywords]
            elif name == "abort":
                args = node.args[1:] + [keywords[k] for k in ("message",) if k in keywords]
            elif name in errors or name == "ValidationError":  # a schema's own field message too
                args = node.args[:1]
            else:
                continue
            if name in ("problem", "abort") and node.args and isinstance(node.args[0], ast.Constant):
                statuses.append(node.args[0].value)
            for arg in args:
                template = _template(arg)
                if template is not None:
                    found.append((where, node.lineno, template))
    return found, statuses


def _sources() -> dict[str, str]:
    return {str(path.relative_to(REPO)): path.read_text(encoding="utf-8")
            for top in SCANNED for path in sorted((REPO / top).rglob("*.py"))}


KNOWN = {literal_text(en) for en in CATALOGUE}


def _worth_translating(template: str) -> bool:
    return any(ch.isalpha() for ch in template.replace("{}", ""))


def test_every_message_has_every_language_with_the_same_placeholders():
    import string

    fields = lambda text: sorted(f for _l, f, _s, _c in string.Formatter().parse(text) if f is not None)  # noqa: E731
    assert len(CATALOGUE) > 150
    for en, row in CATALOGUE.items():
        assert tuple(row) == LANGUAGES, en
        assert all(row[language].strip() for language in LANGUAGES), en
        assert fields(row["nl"]) == fields(en), en
    same_in_both = {"Conflict", "{feature}={value}: min {low} > max {high}"}
    assert all(row["nl"] != en for en, row in CATALOGUE.items() if en not in same_in_both), \
        "a Dutch message that is the English one is a missing translation"


def test_every_message_the_code_hands_a_client_is_in_the_catalogue():
    found, _ = scan(_sources(), _client_errors())
    assert len(found) > 150, "the scan must see the call sites"
    missing = sorted({f"{where}:{line}: {template}" for where, line, template in found
                      if _worth_translating(template) and literal_text(template) not in KNOWN})
    assert missing == []


def test_the_scan_finds_a_message_missing_from_the_catalogue():
    source = ("def view():\n    abort(404, message=f'no gizmo {x}')\n"
              "def other():\n    raise PhaseError('the moon is in the wrong phase')\n"
              "def third():\n    return problem(409, 'Conflict', 'no summit ' + sid)\n")
    found, statuses = scan({"x.py": source}, {"PhaseError"})
    assert [t for _w, _l, t in found] == ["no gizmo {}", "the moon is in the wrong phase", "Conflict"]
    assert statuses == [404, 409]
    assert [t for _w, _l, t in found if literal_text(t) not in KNOWN] == ["no gizmo {}",
                                                                          "the moon is in the wrong phase"]


def test_every_status_the_code_answers_has_a_documented_type():
    _, statuses = scan(_sources(), _client_errors())
    assert {400, 404, 409, 422, 503} <= set(statuses)
    assert [s for s in statuses if problem_types.for_status(s).slug == problem_types.FALLBACK] == []


def test_marshmallow_standard_field_messages_are_in_the_catalogue():
    used = (ma.fields.Field, ma.fields.String, ma.fields.Integer, ma.fields.Float, ma.fields.Boolean,
            ma.fields.UUID, ma.fields.List, ma.fields.Dict, ma.fields.Nested, ma.fields.Tuple, ma.fields.Email,
            ma.fields.Url)
    templates = {t for cls in used for klass in cls.__mro__
                 for t in getattr(klass, "default_error_messages", {}).values()}
    templates |= set(ma.Schema._default_error_messages.values())
    templates |= {"Missing data for required field.", "Not a valid datetime.", "Not a valid aware datetime.",
                  ma.validate.Length.message_min, ma.validate.Length.message_max, ma.validate.Length.message_all,
                  ma.validate.Length.message_equal, ma.validate.OneOf.default_message,
                  ma.validate.Regexp.default_message, ma.validate.Equal.default_message}
    assert sorted(t for t in templates if literal_text(t) not in KNOWN) == []
    ranged = ma.validate.Range(min=1, max=9)
    with pytest.raises(ma.ValidationError) as refused:
        ranged(10)
    assert translate(refused.value.messages[0], "nl") != refused.value.messages[0]


@pytest.mark.parametrize("header, language", [
    (None, "en"), ("", "en"), ("nl", "nl"), ("nl-NL", "nl"), ("NL-be", "nl"), ("en", "en"),
    ("en, nl;q=0.9", "en"), ("nl;q=0.8, en;q=0.5", "nl"), ("en;q=0.5, nl;q=0.5", "en"),
    ("fr, nl;q=0.4", "nl"), ("fr", "en"), ("*", "en"), ("nl;q=0", "en"), ("de, *;q=0.2", "en"),
    ("nl;q=abc", "en"), ("x" * 500, "en"),
])
def test_accept_language_picks_dutch_only_when_preferred(header, language):
    assert negotiate(header) == language


def test_templates_match_formatted_messages_and_keep_their_values():
    assert translate("no summit 1234", "nl") == "geen top 1234"
    assert translate("round r-1 is for the panel draw, not the invitation draw", "nl") == \
        "ronde r-1 is voor de panel-trekking, niet voor de invitation-trekking"
    assert translate("too late: the commit phase of round r ended at T", "nl") == \
        "te laat: de commit-fase van ronde r eindigde om T"  # the longer template wins
    assert translate("Missing data for required field.", "nl") == "Verplicht veld ontbreekt."
    assert translate('exactly {"features": {name: [value, ...]}}', "nl") == \
        'precies {"features": {naam: [waarde, ...]}}'   # literal braces are text, not placeholders
    assert translate("something nobody wrote down", "nl") == "something nobody wrote down"
    assert translate("no summit 1234", "en") == "no summit 1234"
    assert messages.translate_errors({"name": ["Not a valid string."], "rows": {"0": ["Unknown field."]},
                                      "items": [{"line": 3, "column": "Conflict", "message": "Invalid value."}]},
                                     "nl") == {"name": ["Geen geldige tekst."], "rows": {"0": ["Onbekend veld."]},
                                               "items": [{"line": 3, "column": "Conflict",
                                                          "message": "Ongeldige waarde."}]}


def test_problem_renders_in_the_requests_language():
    from services.core.problem import problem

    app = Flask("t")
    with app.test_request_context(headers={"Accept-Language": "nl-NL, en;q=0.5"}):
        answer = problem(404, "Not Found", "no summit abc", errors={"x": ["Unknown field."]})
        body = answer.get_json()
        assert (body["title"], body["detail"], body["errors"]) == \
            ("Niet gevonden", "geen top abc", {"x": ["Onbekend veld."]})
        assert answer.headers["Content-Language"] == "nl"
    with app.test_request_context(headers={"Accept-Language": "en"}):
        body = problem(404, "Not Found", "no summit abc").get_json()
        assert (body["title"], body["detail"]) == ("Not Found", "no summit abc")
