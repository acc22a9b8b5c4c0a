"""Calls through the gateway that the integration tests share: a bearer header, a new summit, a
staff token, check-in codes for seated participants (docs/gateway.md)."""

from __future__ import annotations

from tests.integration.gateway_support import SUMMIT


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def new_summit(client, token: str, body=SUMMIT) -> str:
    response = client.post("/v1/summits", json=body, headers=bearer(token))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()["summit_id"]


def staff(client, organiser: str, summit_id: str, role: str = "facilitator", **body) -> dict:
    response = client.post(f"/v1/summits/{summit_id}/tokens", json={"role": role, **body}, headers=bearer(organiser))
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def codes(client, token: str, summit_id: str, seated: list[str]) -> list[str]:
    response = client.post(f"/v1/summits/{summit_id}/check-in-codes", json={"participants": seated},
                           headers=bearer(token))
    assert response.status_code == 201, response.get_data(as_text=True)
    return [c["code"] for c in response.get_json()["codes"]]
