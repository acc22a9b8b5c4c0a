"""Path smuggling through the gateway (issue 10, M1: the gateway's policy and vouch must be about
the request the service acts on).

The gateway judges the decoded path; it forwarded that decoded path, so a "%3F" in a parameter
became a real "?" at the service: POST .../pools/x%3Fy/members was judged as the members route
and reached .../pools/x (query "y/members"), with a vouch that matched. "%23" cut the path at a
"#". A "." or ".." segment may be resolved away by the forwarding client. Such paths match no
route and are refused at the gateway, never forwarded.
"""

from __future__ import annotations

import pytest

from tests.support.gateway_calls import new_summit

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("tail", [
    "/lottery/pools/x%3Fy/members", "/lottery/pools/x%3F/members", "/lottery/pools/x%23y/members",
    "/lottery/rounds/{summit}%3Fa/commitments", "/topics%3Fa=1", "%3F/lottery/respondents",
    "/lottery/pools/x%20y/members", "/lottery/pools/x%00y/members", "/lottery/pools/x%0Ay/members",
    "/lottery/pools/../members", "/lottery/pools/%2E%2E/members", "/lottery/pools/./members",
])
def test_a_path_that_smuggles_another_route_is_refused_at_the_gateway(stack, tail):
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    path = f"/v1/summits/{summit}" + tail.format(summit=summit)
    answer = client.post(path, json={"members": []}, headers=stack.auth())
    assert answer.status_code == 404 and answer.content_type == "application/problem+json"
    # the gateway's own 404 (a service's reads "The requested URL was not found ..."): not forwarded
    assert answer.get_json()["detail"].startswith("no such resource"), answer.get_json()


def test_an_ordinary_query_string_still_passes(stack):
    client = stack.gateway().test_client()
    summit = new_summit(client, stack.token)
    stack.announce(summit)
    assert client.get(f"/v1/summits/{summit}/lottery/rounds?x=%3F").status_code == 200
    assert client.get(f"/v1/summits/{summit}/topics?a=1&b=%23").status_code == 200
