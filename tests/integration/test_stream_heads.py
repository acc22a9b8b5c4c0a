"""Signed stream heads served by a service from its own database (issue 10 Build 7)."""

from __future__ import annotations

import dataclasses
import uuid

import pytest

from g1000.procs import free_port
from g1000_proofs.heads import HeadError, verify_head
from services.core.runtime import create_service_app
from services.core.events import NewEvent
from tests.helpers import runtime_for

pytestmark = pytest.mark.integration


def _topic(summit: str, n: int) -> NewEvent:
    return NewEvent("agenda.topic.nominated", {"v": 1, "topic_id": str(uuid.uuid4()), "title": f"T{n}",
                                               "description": ""}, f"summit:{summit}/topic:{n}", 1)


def test_the_head_is_the_last_recorded_seq_signed_with_the_stream_key_even_with_the_broker_down(service_env):
    rt = runtime_for("agenda", service_env)
    try:
        # the broker is unreachable: the events stay in the outbox, and the head still names them
        rt.config = dataclasses.replace(rt.config, kafka_bootstrap=f"127.0.0.1:{free_port()}")
        summit, other = str(uuid.uuid4()), str(uuid.uuid4())
        rt.store.append(summit, [_topic(summit, n) for n in range(3)])
        client = create_service_app(rt).test_client()
        keys = {rt.signer.key_id: ("agenda", rt.signer.public_key)}
        answer = client.get(f"/stream-heads/{summit}")
        assert answer.status_code == 200
        [head] = answer.get_json()["heads"]
        assert verify_head(head, keys, summit).last_seq == 3
        [empty] = client.get(f"/stream-heads/{other}").get_json()["heads"]
        assert verify_head(empty, keys, other).last_seq == 0
        # a head cannot be moved to another summit or another stream's key
        with pytest.raises(HeadError):
            verify_head(dict(head, summit_id=other), keys, other)
        with pytest.raises(HeadError, match="registers for stream 'lottery'"):
            verify_head(head, {rt.signer.key_id: ("lottery", rt.signer.public_key)}, summit)
        bad = client.get("/stream-heads/not-a-uuid")
        assert bad.status_code == 400 and bad.content_type == "application/problem+json"
    finally:
        rt.db.close()
