"""schemathesis against docs/openapi.yaml, on the real local server (`campaign serve --at`).

The stack runs at 2026-12-01 10:00 Beijing time: the Bazhong charity sale and
the regional stores are live, the 2026 Poverty Day campaign has ended (410) and
the 2027 one is not visible yet (404), so every documented status is reached.

- GET routes: generated cases (positive and negative) with the checks
  not_a_server_error, status_code_conformance, content_type_conformance and
  response_schema_conformance.
- The signed POST routes: each generated request is serialized and then SIGNED
  with the stack's secret (chalicelib.webhooks.signing, the Standard Webhooks package), so
  the bodies reach the books, and is checked the same way; and the same cases
  sent unsigned are all 401 with a JSON reason.

Examples are bounded (``MAX_EXAMPLES`` per operation) so the module runs in well
under a minute.
"""

from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from campaign_tools.sign import generate_secret
from tests.conftest import ROOT
from tests.local_stack import LocalStack
from tests.webhooks import sign_any

pytestmark = pytest.mark.server

AT = "2026-12-01T10:00+08:00"
SECRET = generate_secret()
MAX_EXAMPLES = 25
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
BOUNDED = settings(max_examples=MAX_EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

schema = schemathesis.openapi.from_path(ROOT / "docs" / "openapi.yaml")
# Methods no route has are tried too, except TRACE/QUERY: Python's http.server under `chalice local`
# answers those 501 itself (API Gateway answers 403 before our code), so they say nothing about the app.
schema.config.phases.coverage.unexpected_methods = {"delete", "get", "options", "patch", "post", "put"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    local = LocalStack(tmp_path_factory.mktemp("schemathesis"), AT, SECRET).start()
    yield local
    local.stop()


@pytest.fixture(scope="module")
def session():
    with requests.Session() as s:
        yield s


@schema.include(method="GET").parametrize()
@BOUNDED
def test_get_routes_conform_to_the_openapi_description(case, stack, session):
    response = case.call(base_url=stack.base, session=session, timeout=20)
    case.validate_response(response, checks=CHECKS)
    assert "Traceback" not in response.text


def _signed_call(case, stack, session, sign: bool):
    """Send ``case`` with its body serialized once and signed over exactly those bytes."""
    kwargs = case.as_transport_kwargs(base_url=stack.base)
    headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if not k.lower().startswith("webhook-")}
    if "json" in kwargs:
        data = json.dumps(kwargs.pop("json"), ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json"
    else:
        data = kwargs.pop("data", None) or b""
        data = data.encode("utf-8") if isinstance(data, str) else data
    if sign:
        headers.update(sign_any(SECRET, data))  # the real clock: the server checks against it
    return session.request(kwargs["method"], kwargs["url"], params=kwargs.get("params"), headers=headers, data=data, timeout=20)


def _not_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


@schema.include(method="POST").parametrize()
@BOUNDED
def test_signed_system_routes_conform_to_the_openapi_description(case, stack, session):
    response = _signed_call(case, stack, session, sign=True)
    case.validate_response(response, checks=CHECKS)
    if case.method != "POST":  # the coverage phase's other methods: chalice local's 405, or 200 to OPTIONS
        assert response.status_code in ((200,) if case.method == "OPTIONS" else (403, 405)), (case.method, response.status_code)
        return
    if response.status_code == 401:  # signed correctly, so only a body that is not text can fail (the package verifies text)
        assert _not_utf8(response.request.body) and "not UTF-8" in response.json()["message"]
        return
    if response.status_code >= 400:
        reason = response.json()
        assert reason["error"] and reason["message"], reason


@schema.include(method="POST").parametrize()
@settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck))
def test_unsigned_system_requests_are_all_401(case, stack, session):
    response = _signed_call(case, stack, session, sign=False)
    case.validate_response(response, checks=CHECKS)
    if case.method == "POST":
        assert response.status_code == 401 and response.json()["error"] == "unauthorized"


def _documented_example(path: str) -> dict:
    """The request body made of the description's own property examples."""
    ref = schema.raw_schema["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    properties = schema.raw_schema["components"]["schemas"][ref.rsplit("/", 1)[1]]["properties"]
    return {name: prop["examples"][0] if "examples" in prop else "88.00" for name, prop in properties.items()}


def test_the_documented_examples_are_recorded_and_replayed_as_described(stack, session):
    """The description's examples are real: a sale, its refund and a point donation go through (201), and a
    replay answers the first body (200); every answer conforms to the description. (The ids get a suffix:
    the generated cases above may have sent the examples as they are.)"""
    from decimal import Decimal

    def charity():
        data = session.get(f"{stack.base}/api/campaigns/bazhong-pork-charity", timeout=20).json()["charity"]
        return Decimal(data["raised_from_sales"]), Decimal(data["raised_from_points"])

    before = charity()
    for path in ("/api/sales", "/api/refunds", "/api/point-donations"):
        body = _documented_example(path)
        body.update({k: f"{v}-DOC" for k, v in body.items() if k.endswith("_id") and k not in ("campaign_id", "member_id")})
        operation = schema[path]["POST"]
        for expected in (201, 200):
            case = operation.Case(body=body, media_type="application/json")
            response = _signed_call(case, stack, session, sign=True)
            case.validate_response(response, checks=CHECKS)
            assert response.status_code == expected, (path, response.text)
    after = charity()
    # 88.00 of PRK-3103 (its merchant pledged 8 %) donates 7.04; the refund of all 88.00 reverses it; 250 points = 2.50.
    assert (after[0] - before[0], after[1] - before[1]) == (Decimal("0.00"), Decimal("2.50"))
