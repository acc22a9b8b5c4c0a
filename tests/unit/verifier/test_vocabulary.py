"""Properties of g1000_proofs.vocabulary: the charter's allow-list and opaque ids (issue 10 H1/H2)."""

from __future__ import annotations

import secrets
import string

from hypothesis import given
from hypothesis import strategies as st

from g1000_proofs.vocabulary import check_features, check_vocabulary, is_opaque_id, opaque_id_problem

names = st.from_regex(r"\A[a-z][a-z0-9_]{0,39}\Z").filter(lambda n: n not in ("pseudonym", "household"))
values = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x2FF,
                                        blacklist_categories=("Cs",)),
                 min_size=1, max_size=64).filter(lambda v: v == v.strip() and not any(
                     0x7F <= ord(c) <= 0x9F for c in v))
vocabularies = st.dictionaries(names, st.lists(values, min_size=1, max_size=8, unique=True),
                               min_size=1, max_size=6)


@given(st.binary(min_size=16, max_size=16))
def test_every_128_bit_hex_id_is_opaque(raw):
    assert is_opaque_id(raw.hex()) and opaque_id_problem("pseudonym", raw.hex()) is None


@given(st.text(max_size=40))
def test_only_32_lowercase_hex_characters_are_opaque(text):
    expected = len(text) == 32 and all(c in "0123456789abcdef" for c in text)
    assert is_opaque_id(text) is expected


def test_names_and_addresses_are_not_opaque():
    for text in ("Jan.de.Vries", "3811AB-12", "r00000", "hh00001", "123456782", secrets.token_hex(16).upper(),
                 secrets.token_hex(16) + "\n", secrets.token_hex(15), secrets.token_hex(17), None, 12):
        assert not is_opaque_id(text)
        assert "opaque" in opaque_id_problem("household", text)


@given(vocabularies)
def test_generated_vocabularies_are_valid(vocabulary):
    assert check_vocabulary(vocabulary) == []


@given(vocabularies, st.data())
def test_declared_values_are_accepted_complete_or_not(vocabulary, data):
    features = {name: data.draw(st.sampled_from(vs)) for name, vs in vocabulary.items()}
    assert check_features(features, vocabulary, complete=True) == []
    some = dict(list(features.items())[: data.draw(st.integers(0, len(features)))])
    assert check_features(some, vocabulary) == []
    missing = set(vocabulary) - set(some)
    assert len(check_features(some, vocabulary, complete=True)) == len(missing)


@given(vocabularies, st.data())
def test_an_undeclared_name_or_value_is_refused(vocabulary, data):
    features = {name: data.draw(st.sampled_from(vs)) for name, vs in vocabulary.items()}
    extra = data.draw(st.text(min_size=1, max_size=20).filter(lambda n: n not in vocabulary))
    assert len(check_features(features | {extra: "x"}, vocabulary, complete=True)) == 1
    name = data.draw(st.sampled_from(sorted(vocabulary)))
    wrong = data.draw(st.text(max_size=70).filter(lambda v: v not in vocabulary[name]))
    problems = check_features(features | {name: wrong}, vocabulary, complete=True)
    assert len(problems) == 1 and problems[0].startswith(f"{name}:")


def test_the_issue_h2_body_is_refused_entirely():
    vocabulary = {"age_band": ["16-29", "30-59", "60+"], "neighbourhood": ["centrum", "noord"]}
    body = {"opmerking": "woon Kerkstraat 12 …", "religie": "…", "gezondheid": "diabetes type 2"}
    problems = check_features(body, vocabulary)
    assert len(problems) == 3
    assert not any("Kerkstraat" in p or "diabetes" in p for p in problems)  # never echo the value


def test_bad_vocabularies_are_refused():
    good = ["a"]
    for bad, fragment in (
        ({}, "1-16 features"),
        ({f"f{i}": good for i in range(17)}, "1-16 features"),
        ({"Age": good}, "a-z 0-9"),
        ({"a" * 41: good}, "a-z 0-9"),
        ({"pseudonym": good}, "ids, not features"),
        ({"household": good}, "ids, not features"),
        ({"age": []}, "1-100 values"),
        ({"age": [str(i) for i in range(101)]}, "1-100 values"),
        ({"age": "16-29"}, "1-100 values"),
        ({"age": ["a", "a"]}, "distinct"),
        ({"age": [""]}, "1-64 characters"),
        ({"age": ["x" * 65]}, "1-64 characters"),
        ({"age": ["a\nb"]}, "1-64 characters"),
        ({"age": ["\x85"]}, "1-64 characters"),
        ({"age": [" a"]}, "white space"),
        ({"age": [3]}, "1-64 characters"),
        (["age"], "an object"),
    ):
        problems = check_vocabulary(bad)
        assert problems and any(fragment in p for p in problems), (bad, problems)
    assert check_vocabulary({f"f{i}": [str(v) for v in range(100)] for i in range(16)}) == []
    assert check_vocabulary({"a" * 40: ["x" * 64, string.punctuation]}) == []


def test_a_refusal_lists_at_most_twelve_allowed_values():
    vocabulary = {"wijk": [f"wijk{i:03d}" for i in range(100)]}
    (problem,) = check_features({"wijk": "Kerkstraat 12"}, vocabulary)
    assert problem.startswith("wijk: not one of the charter's values (wijk000, ") and "(88 more)" in problem
