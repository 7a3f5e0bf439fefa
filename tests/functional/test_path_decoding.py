"""Path parameters are percent-decoded exactly once, at the Chalice edge (chalicelib.web.http)."""

from __future__ import annotations

import json

import pytest

from chalicelib.web.http import decoded_params
from tests.factories import campaign, local


class _Request:
    def __init__(self, path: str) -> None:
        self.context = {"path": path}


@pytest.mark.parametrize(
    ("path", "handed", "expected"),
    [
        # chalice local (and a REST API's raw path): the value as it is in the request line
        ("/campaigns/store%2Dleishan", "store%2Dleishan", "store-leishan"),
        ("/campaigns/store%252Dleishan", "store%252Dleishan", "store%2Dleishan"),
        ("/api/campaigns/store%2Dleishan/ledger", "store%2Dleishan", "store-leishan"),
        # a platform that decoded the parameter already: kept as it came
        ("/campaigns/store%2Dleishan", "store-leishan", "store-leishan"),
        ("/campaigns/store%252Dleishan", "store%2Dleishan", "store%2Dleishan"),
        # nothing to decode
        ("/campaigns/store-leishan", "store-leishan", "store-leishan"),
        ("", "store%2Dleishan", "store%2Dleishan"),  # no raw path to compare with: never decoded twice
    ],
)
def test_a_path_parameter_is_decoded_exactly_once(path, handed, expected):
    assert decoded_params(_Request(path), {"campaign_id": handed}) == {"campaign_id": expected}


def test_an_encoded_campaign_id_is_the_campaigns_page_and_a_double_encoded_one_is_not(client, publish, clock):
    publish(campaign())
    clock.set(local(2026, 10, 17, 9))
    page = client.http.get("/api/campaigns/poverty%2Dday%2D2026")
    assert page.status_code == 200 and json.loads(page.body)["id"] == "poverty-day-2026"
    html = client.http.get("/campaigns/poverty%2Dday-2026?lang=en")
    assert html.status_code == 200 and "poverty-day-2026" in html.body.decode()
    ledger = client.http.get("/api/campaigns/poverty%2Dday-2026/ledger")
    assert ledger.status_code == client.http.get("/api/campaigns/poverty-day-2026/ledger").status_code
    # %25 is a percent sign: decoded once, the id is "poverty%2Dday-2026", which no campaign has.
    twice = client.http.get("/api/campaigns/poverty%252Dday-2026")
    assert twice.status_code == 404 and json.loads(twice.body)["error"] == "not_found"


def test_an_api_gateway_event_with_a_decoded_parameter_is_not_decoded_again(publish, clock, services):
    """API Gateway may hand the parameter over decoded while ``path`` stays as sent."""
    from app import app

    publish(campaign())
    clock.set(local(2026, 10, 17, 9))

    def event(raw: str, param: str) -> dict:
        resource = "/api/campaigns/{campaign_id}"
        return {
            "resource": resource,
            "path": raw,
            "httpMethod": "GET",
            "headers": {"accept": "application/json"},
            "multiValueQueryStringParameters": None,
            "pathParameters": {"campaign_id": param},
            "stageVariables": None,
            "requestContext": {"httpMethod": "GET", "resourcePath": resource, "path": "/api" + raw, "stage": "api"},
            "body": None,
            "isBase64Encoded": False,
        }

    decoded = app(event("/api/campaigns/poverty%2Dday-2026", "poverty-day-2026"), None)
    assert decoded["statusCode"] == 200 and json.loads(decoded["body"])["id"] == "poverty-day-2026"
    once = app(event("/api/campaigns/poverty%252Dday-2026", "poverty%2Dday-2026"), None)
    assert once["statusCode"] == 404
