"""The agenda's words stay out of the log (issue 14, items 1-2; docs/agenda.md), through the gateway.

Real ledger and agenda services behind a real gateway (gateway_support.py): nominations v2 with
their texts in the agenda's store, the nominations window, withholdings by facilitators and
organisers of the summit, and the texts export checked against the log by g1000_proofs.agenda.
"""

from __future__ import annotations

import json

from g1000_proofs.agenda import check_served
from g1000_proofs.texts import sha256_hex

from tests.support.gateway_calls import bearer, new_summit

TOPIC = {"title": "Veilig fietsen naar school", "description": "Mijn buurman Jan de Vries rijdt te hard."}


def _summit(stack, client) -> str:
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    return summit


def _events(stack, summit: str) -> list[tuple[int, dict]]:
    with stack.agenda.db.transaction() as conn:
        rows = conn.execute("SELECT seq, body FROM events WHERE summit_id = %s ORDER BY seq", (summit,)).fetchall()
    return [(seq, json.loads(bytes(body))) for seq, body in rows]


def _state(stack, summit: str) -> tuple:
    with stack.agenda.db.transaction() as conn:
        return (stack.agenda_count(summit),
                conn.execute("SELECT count(*) FROM topics WHERE summit_id = %s", (summit,)).fetchone()[0],
                conn.execute("SELECT count(*), count(text) FROM topic_texts").fetchone())


def test_a_nomination_logs_hashes_and_serves_the_words(stack):
    client = stack.gateway().test_client()
    summit = _summit(stack, client)
    participant = stack.issue("participant", summit_id=summit, subject="p-1")
    made = client.post(f"/v1/summits/{summit}/topics", json=TOPIC, headers=bearer(participant))
    assert made.status_code == 201, made.get_data(as_text=True)
    topic = made.get_json()
    assert (topic["payload_v"], topic["language"], topic["title"]) == (2, "nl", TOPIC["title"])
    (seq, event), = _events(stack, summit)
    assert event["type"] == "agenda.topic.nominated" and event["payload"]["v"] == 2
    assert "Jan" not in json.dumps(event) and "fietsen" not in json.dumps(event)
    assert event["payload"]["texts"] == [
        {"field": "description", "language": "nl", "sha256": sha256_hex(TOPIC["description"]),
         "length": len(TOPIC["description"].encode())},
        {"field": "title", "language": "nl", "sha256": sha256_hex(TOPIC["title"]),
         "length": len(TOPIC["title"].encode())}]
    listed = client.get(f"/v1/summits/{summit}/topics").get_json()["topics"]
    assert listed == [topic] and topic["seq"] == seq
    one = client.get(f"/v1/summits/{summit}/topics/{topic['topic_id']}")
    assert one.status_code == 200 and one.get_json() == topic
    english = client.post(f"/v1/summits/{summit}/topics", headers=bearer(participant),
                          json={"title": "Cafe\u0301s open late", "language": "en"}).get_json()
    assert english["language"] == "en" and english["title"] == "Cafés open late"   # stored as hashed: NFC
    assert [t["field"] for t in english["texts"]] == ["title"]   # no description, none described
    exported = client.get(f"/v1/summits/{summit}/topics/texts").get_json()
    assert exported["format"] == "g1000-agenda-texts" and len(exported["texts"]) == 3
    assert check_served(_events(stack, summit), exported["texts"]) is None


def test_bad_nominations_are_refused_and_change_nothing(stack):
    client = stack.gateway().test_client()
    summit = _summit(stack, client)
    participant = bearer(stack.issue("participant", summit_id=summit, subject="p-1"))
    before = _state(stack, summit)
    for body in ({"title": "Hallo", "language": "de"}, {"title": "   "}, {"title": "x", "extra": 1}, {}):
        refused = client.post(f"/v1/summits/{summit}/topics", json=body, headers=participant)
        assert refused.status_code == 422 and refused.content_type == "application/problem+json", body
    assert client.get(f"/v1/summits/{summit}/topics/00000000-0000-4000-8000-000000000000").status_code == 404
    assert _state(stack, summit) == before


def test_nominations_close_and_reopen(stack):
    client = stack.gateway().test_client()
    summit = _summit(stack, client)
    participant = bearer(stack.issue("participant", summit_id=summit, subject="p-1"))
    facilitator = bearer(stack.issue("facilitator", summit_id=summit, subject="f-1"))
    window = f"/v1/summits/{summit}/topics/nominations"
    assert client.get(window).get_json() == {"open": True, "seq": None}
    assert client.post(window, json={"open": True}, headers=stack.auth()).status_code == 409
    for who in (participant, facilitator):
        assert client.post(window, json={"open": False}, headers=who).status_code == 403
    assert client.post(window, json={"open": "no"}, headers=stack.auth()).status_code == 422
    closed = client.post(window, json={"open": False}, headers=stack.auth())
    assert closed.status_code == 200 and closed.get_json()["open"] is False
    assert client.get(window).get_json() == closed.get_json()
    before = _state(stack, summit)
    late = client.post(f"/v1/summits/{summit}/topics", json=TOPIC, headers=participant)
    assert late.status_code == 409 and "closed" in late.get_json()["detail"]
    assert late.content_type == "application/problem+json"
    assert client.post(window, json={"open": False}, headers=stack.auth()).status_code == 409
    assert _state(stack, summit) == before
    assert client.post(window, json={"open": True}, headers=stack.auth()).status_code == 200
    assert client.post(f"/v1/summits/{summit}/topics", json=TOPIC, headers=participant).status_code == 201
    kinds = [e["type"] for _, e in _events(stack, summit)]
    assert kinds == ["agenda.nominations.closed", "agenda.nominations.opened", "agenda.topic.nominated"]


def test_withholding_deletes_the_words_and_keeps_the_hash(stack):
    client = stack.gateway().test_client()
    summit = _summit(stack, client)
    other = _summit(stack, client)
    participant = bearer(stack.issue("participant", summit_id=summit, subject="p-1"))
    facilitator = bearer(stack.issue("facilitator", summit_id=summit, subject="f-1"))
    foreign = bearer(stack.issue("facilitator", summit_id=other, subject="f-2"))
    topic = client.post(f"/v1/summits/{summit}/topics", json=TOPIC, headers=participant).get_json()
    path = f"/v1/summits/{summit}/topics/{topic['topic_id']}/withholdings"
    body = {"field": "description", "reason": "personal-data"}
    before = _state(stack, summit)
    assert client.post(path, json=body, headers=participant).status_code == 403
    assert client.post(path, json=body, headers=foreign).status_code == 403
    assert client.post(path, json=body).status_code == 401
    assert client.post(path, json={"field": "description", "reason": "dislike"}, headers=facilitator).status_code == 422
    assert client.post(path, json={"field": "name", "reason": "abuse"}, headers=facilitator).status_code == 422
    unknown = f"/v1/summits/{summit}/topics/00000000-0000-4000-8000-000000000000/withholdings"
    assert client.post(unknown, json=body, headers=facilitator).status_code == 404
    assert _state(stack, summit) == before
    withheld = client.post(path, json=body, headers=facilitator)
    assert withheld.status_code == 201, withheld.get_data(as_text=True)
    shown = withheld.get_json()
    assert shown["description"] is None and shown["title"] == TOPIC["title"]
    description = next(t for t in shown["texts"] if t["field"] == "description")
    assert description["text"] is None and description["withheld"]["reason"] == "personal-data"
    assert description["sha256"] == sha256_hex(TOPIC["description"])
    assert client.get(f"/v1/summits/{summit}/topics").get_json()["topics"] == [shown]
    with stack.agenda.db.transaction() as conn:   # deleted from the store, not hidden
        assert "Jan de Vries" not in str(conn.execute("SELECT * FROM topic_texts").fetchall())
    *_, (seq, event) = _events(stack, summit)
    assert event["type"] == "agenda.text.withheld" and description["withheld"]["seq"] == seq
    assert event["payload"] == {"v": 1, "topic_id": topic["topic_id"], "field": "description",
                                "reason": "personal-data"}
    again = client.post(path, json={**body, "reason": "abuse"}, headers=stack.auth())
    assert again.status_code == 409 and "already withheld" in again.get_json()["detail"]
    # the organiser withholds too; the export still matches the log, a withheld text without its words
    assert client.post(path, json={"field": "title", "reason": "erasure-request"}, headers=stack.auth()).status_code == 201
    exported = client.get(f"/v1/summits/{summit}/topics/texts").get_json()["texts"]
    assert [(t["field"], t["text"], t["withheld"]) for t in exported] == \
        [("description", None, "personal-data"), ("title", None, "erasure-request")]
    assert check_served(_events(stack, summit), exported) is None


def _to_ledger(stack, summit: str) -> None:
    """Carry the agenda's events into the ledger's log (as its consumer would) and cut a checkpoint."""
    from services.ledger.checkpoints import LogKey, cut_checkpoint
    from services.ledger.settings import load_ledger_settings

    bodies = [e.body for e in stack.agenda.store.read_stream(summit, limit=1000)]
    assert stack.ledger.consumer().process([(f"test:{i}", b) for i, b in enumerate(bodies)]).applied == len(bodies)
    settings = load_ledger_settings(stack.ledger.config)
    with stack.ledger.db.transaction() as conn:
        cut_checkpoint(conn, LogKey.load(settings.log_key_file, settings.log_host), summit)


def _verify_agenda(tmp_path, client, summit: str, texts: dict) -> tuple[int, dict]:
    import contextlib
    import io

    from g1000_verify.cli import main

    bundle, served = tmp_path / "bundle.jsonl", tmp_path / "texts.json"
    bundle.write_bytes(client.get(f"/v1/logs/{summit}/export").get_data())
    served.write_text(json.dumps(texts), encoding="utf-8")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["agenda", str(bundle), "--texts", str(served), "--json"])
    return code, json.loads(out.getvalue())


def test_g1000_verify_agenda_checks_the_served_texts_against_the_log(stack, tmp_path):
    client = stack.gateway().test_client()
    summit = _summit(stack, client)
    participant = bearer(stack.issue("participant", summit_id=summit, subject="p-1"))
    topic = client.post(f"/v1/summits/{summit}/topics", json=TOPIC, headers=participant).get_json()
    client.post(f"/v1/summits/{summit}/topics", json={"title": "Sport voor iedereen"}, headers=participant)
    client.post(f"/v1/summits/{summit}/topics/{topic['topic_id']}/withholdings", headers=stack.auth(),
                json={"field": "description", "reason": "personal-data"})
    _to_ledger(stack, summit)
    texts = client.get(f"/v1/summits/{summit}/topics/texts").get_json()
    code, report = _verify_agenda(tmp_path, client, summit, texts)
    assert (code, report["ok"], report["agenda"]) == (0, True, {"texts": 3}), report
    changed = json.loads(json.dumps(texts))
    changed["texts"][-1]["text"] = "Sport voor sommigen"
    code, report = _verify_agenda(tmp_path, client, summit, changed)
    assert code == 1 and report["failure"]["check"] == "agenda"
    assert "does not match its sha256" in report["failure"]["reason"]
    changed = json.loads(json.dumps(texts))
    changed["texts"][0].update(text="Mijn buurman Jan de Vries rijdt te hard.", withheld=None)
    code, report = _verify_agenda(tmp_path, client, summit, changed)
    assert code == 1 and "withheld in the log (personal-data) but its text is still served" in report["failure"]["reason"]


def test_facilitators_merge_and_split_keeping_provenance(stack, tmp_path):
    client = stack.gateway().test_client()
    summit, other = _summit(stack, client), _summit(stack, client)
    participant = bearer(stack.issue("participant", summit_id=summit, subject="p-1"))
    facilitator = bearer(stack.issue("facilitator", summit_id=summit, subject="f-1"))
    foreign = bearer(stack.issue("facilitator", summit_id=other, subject="f-2"))
    base = f"/v1/summits/{summit}/topics"
    a, b, c = (client.post(base, json={"title": t}, headers=participant).get_json()["topic_id"]
               for t in ("Fietspaden", "Fietsen naar school", "Groen en sport"))
    merge = {"into": a, "from": [b]}
    before = _state(stack, summit)
    assert client.post(f"{base}/merges", json=merge, headers=participant).status_code == 403
    assert client.post(f"{base}/merges", json=merge, headers=foreign).status_code == 403
    assert client.post(f"{base}/merges", json={"into": a, "from": [a]}, headers=facilitator).status_code == 409
    assert client.post(f"{base}/merges", json={"into": a, "from": []}, headers=facilitator).status_code == 422
    unknown = {"into": a, "from": ["00000000-0000-4000-8000-000000000000"]}
    assert client.post(f"{base}/merges", json=unknown, headers=facilitator).status_code == 404
    assert _state(stack, summit) == before
    merged = client.post(f"{base}/merges", json=merge, headers=facilitator)
    assert merged.status_code == 201, merged.get_data(as_text=True)
    assert merged.get_json()["merged_from"] == [b] and merged.get_json()["state"] == "open"
    gone = client.get(f"{base}/{b}").get_json()
    assert (gone["state"], gone["merged_into"], gone["title"]) == ("merged", a, "Fietsen naar school")
    again = client.post(f"{base}/merges", json={"into": c, "from": [b]}, headers=facilitator)
    assert again.status_code == 409 and "already merged" in again.get_json()["detail"]

    parts = {"into": [{"title": "Groen in de wijk"}, {"title": "Sport for all", "language": "en"}]}
    before = _state(stack, summit)
    assert client.post(f"{base}/{c}/splits", json=parts, headers=participant).status_code == 403
    assert client.post(f"{base}/{c}/splits", json={"into": parts["into"][:1]}, headers=facilitator).status_code == 422
    assert client.post(f"{base}/{b}/splits", json=parts, headers=facilitator).status_code == 409
    assert _state(stack, summit) == before
    split = client.post(f"{base}/{c}/splits", json=parts, headers=stack.auth())
    assert split.status_code == 201, split.get_data(as_text=True)
    made = split.get_json()
    assert made["from"]["state"] == "split" and len(made["into"]) == 2
    assert [(t["title"], t["language"], t["split_from"]) for t in made["into"]] == \
        [("Groen in de wijk", "nl", c), ("Sport for all", "en", c)]
    assert sorted(made["from"]["split_into"]) == sorted(t["topic_id"] for t in made["into"])
    *_, (_, merged_event), (_, split_event) = _events(stack, summit)
    assert merged_event["payload"] == {"v": 1, "into": a, "from": [b]}
    assert split_event["type"] == "agenda.topic.split" and "Groen" not in json.dumps(split_event)
    assert [p["texts"][0]["sha256"] for p in split_event["payload"]["into"]] == \
        [sha256_hex("Groen in de wijk"), sha256_hex("Sport for all")]
    # a part's text is withheld like any other; the export and the verifier cover the parts
    part = made["into"][1]["topic_id"]
    assert client.post(f"{base}/{part}/withholdings", json={"field": "title", "reason": "off-topic"},
                       headers=facilitator).status_code == 201
    _to_ledger(stack, summit)
    texts = client.get(f"{base}/texts").get_json()
    assert len(texts["texts"]) == 5
    code, report = _verify_agenda(tmp_path, client, summit, texts)
    assert (code, report["agenda"]) == (0, {"texts": 5}), report
