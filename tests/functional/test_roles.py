"""Each function's IAM role against the AWS calls its code path makes, counted by botocore hooks.

The rotation (``rotate_homepage``) and the API function (every route) run against
moto, with a ``provide-client-params`` hook on the DynamoDB and SSM clients that
records each call as IAM sees it: the action (a ``TransactWriteItems`` is
authorised item by item, AWS "Using IAM with DynamoDB transactions"), the
resource ARN and the partition keys it touches (``dynamodb:LeadingKeys``).
Then, per function, against ``.chalice/<iam_policy_file>`` of each deployed stage:

- every recorded call is allowed by some statement;
- every granted DynamoDB/SSM action is one the function called, and every
  ``dynamodb:LeadingKeys`` pattern matched a key it touched: nothing more.

The policy files hold ``${AWS::Partition}``, ``${AWS::Region}`` and
``${AWS::AccountId}``, which the packaged template resolves with ``Fn::Sub``
(``tools/package.py``); here they are resolved for one account of each partition.
"""

from __future__ import annotations

import fnmatch
import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from campaign_tools.local_dynamodb import install_item_rollback
from campaign_tools.sign import generate_secret, sign_headers
from chalicelib import wiring
from chalicelib.books.service import BookSizes
from chalicelib.clock import FixedClock
from chalicelib.observability import Observability
from chalicelib.settings import Settings
from tests.conftest import ROOT, TABLE
from tests.factories import campaign, charity_sale, local

CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
DEPLOYED_STAGES = sorted(s for s in CONFIG["stages"] if s != "local")
FUNCTIONS = ("api_handler", "rotate_homepage")
SECRET = generate_secret()
WALL = datetime(2031, 5, 6, 7, 8, 9, tzinfo=UTC)
REGION, ACCOUNT = "us-east-1", "123456789012"
PARTITIONS = {"aws": "us-east-1", "aws-cn": "cn-north-1"}
TRANSACTION_ITEM_ACTIONS = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}


@dataclass(frozen=True)
class Call:
    action: str  # "dynamodb:GetItem"
    resource: str  # the ARN, in the test's partition/region/account
    leading_keys: tuple[str, ...] = ()


def _pk(key: dict) -> str:
    return str(key["PK"])


def dynamodb_calls(operation: str, params: dict) -> list[tuple[str, str, tuple[str, ...]]]:
    """``[(action, table name, leading keys)]`` for one DynamoDB request's parameters."""
    if operation == "TransactWriteItems":
        out = []
        for item in params["TransactItems"]:
            [(kind, body)] = item.items()
            key = body.get("Item") or body["Key"]
            out.append((TRANSACTION_ITEM_ACTIONS[kind], body["TableName"], (_pk(key),)))
        return out
    if operation == "BatchGetItem":
        return [(operation, name, tuple(sorted({_pk(k) for k in r["Keys"]}))) for name, r in params["RequestItems"].items()]
    if operation == "BatchWriteItem":
        return [
            (operation, name, tuple(sorted({_pk(w.get("PutRequest", {}).get("Item") or w["DeleteRequest"]["Key"]) for w in rs})))
            for name, rs in params["RequestItems"].items()
        ]
    if operation == "Query":
        return [(operation, params["TableName"], (str(params["ExpressionAttributeValues"][":pk"]),))]
    key = params.get("Key") or params.get("Item")
    return [(operation, params["TableName"], (_pk(key),) if key else ())]


class Recorder:
    """The calls made through the hooked clients, as IAM sees them."""

    def __init__(self) -> None:
        self.calls: list[Call] = []

    def hook_dynamodb(self, client) -> None:
        def record(params, model, **kwargs):
            for action, table, keys in dynamodb_calls(model.name, params):
                arn = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
                self.calls.append(Call(f"dynamodb:{action}", arn, keys))

        client.meta.events.register("provide-client-params.dynamodb.*", record)

    def hook_ssm(self, client) -> None:
        def record(params, model, **kwargs):
            name = params["Name"]
            self.calls.append(Call(f"ssm:{model.name}", f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{name}"))

        client.meta.events.register("provide-client-params.ssm.*", record)


# ------------------------------------------------------------------ a small IAM evaluator


def resolved(document: dict, partition: str = "aws", region: str = REGION, account: str = ACCOUNT) -> dict:
    text = json.dumps(document)
    for name, value in {"AWS::Partition": partition, "AWS::Region": region, "AWS::AccountId": account}.items():
        text = text.replace("${" + name + "}", value)
    assert "${" not in text, f"an unresolved placeholder in {text}"
    return json.loads(text)


def _listify(value) -> list:
    return [value] if isinstance(value, str) else list(value)


def _condition_allows(condition: dict, call: Call) -> bool:
    for operator, tests in condition.items():
        for key, patterns in tests.items():
            assert key == "dynamodb:LeadingKeys", f"the evaluator knows only dynamodb:LeadingKeys, not {key}"
            match = fnmatch.fnmatchcase if operator.endswith("StringLike") else str.__eq__
            assert operator in ("ForAllValues:StringLike", "ForAllValues:StringEquals"), operator
            # ForAllValues over an empty set is true: a request that names no key (none here) passes.
            if not all(any(match(k, p) for p in _listify(patterns)) for k in call.leading_keys):
                return False
    return True


def allowed(policy: dict, call: Call) -> bool:
    for statement in policy["Statement"]:
        assert statement["Effect"] == "Allow"
        if not any(fnmatch.fnmatchcase(call.action, a) for a in _listify(statement["Action"])):
            continue
        if not any(fnmatch.fnmatchcase(call.resource, r) for r in _listify(statement["Resource"])):
            continue
        if _condition_allows(statement.get("Condition", {}), call):
            return True
    return False


def grants(policy: dict) -> set[str]:
    return {a for s in policy["Statement"] for a in _listify(s["Action"]) if a.split(":")[0] in ("dynamodb", "ssm")}


def unused_key_patterns(policy: dict, calls: list[Call]) -> list[str]:
    """``"Sid: pattern"`` for each ``dynamodb:LeadingKeys`` pattern no call of the statement's actions matched."""
    out = []
    for statement in policy["Statement"]:
        actions = _listify(statement["Action"])
        keys = {k for c in calls if c.action in actions for k in c.leading_keys}
        for tests in statement.get("Condition", {}).values():
            for pattern in _listify(tests.get("dynamodb:LeadingKeys", [])):
                if not any(fnmatch.fnmatchcase(k, pattern) for k in keys):
                    out.append(f"{statement.get('Sid')}: {pattern}")
    return out


def policy_of(stage: str, function: str) -> dict:
    name = CONFIG["stages"][stage]["lambda_functions"][function]["iam_policy_file"]
    return json.loads((ROOT / ".chalice" / name).read_text(encoding="utf-8"))


def stage_table(stage: str) -> str:
    return CONFIG["stages"][stage]["environment_variables"]["TABLE_NAME"]


def stage_parameter(stage: str) -> str:
    return CONFIG["stages"][stage]["environment_variables"]["SIGNING_SECRET_PARAMETER"]


def as_stage(calls: list[Call], stage: str) -> list[Call]:
    """The calls as the stage's functions make them: its table name and parameter name."""
    out = []
    for call in calls:
        resource = call.resource.replace(f"table/{TABLE}", f"table/{stage_table(stage)}")
        resource = resource.replace(f"parameter{PARAMETER}", f"parameter{stage_parameter(stage)}")
        out.append(replace(call, resource=resource))
    return out


# ------------------------------------------------------------------ the two code paths

PARAMETER = "/campaign-platform/test/signing-secret"


@pytest.fixture
def recorded(table, clock):
    """``{"api_handler": [Call...], "rotate_homepage": [Call...]}``: every route and two rotations."""
    import boto3
    from chalice.test import Client

    from app import app

    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name=PARAMETER, Value=SECRET, Type="SecureString")
    undo = install_item_rollback()
    recorder = Recorder()
    settings = Settings(stage="dev", table_name=TABLE, signing_secret_parameter=PARAMETER)
    sizes = BookSizes(counter_shards=4, ledger_shards=3, page_size=2)

    def ssm_client():
        client = boto3.client("ssm", region_name=REGION)
        recorder.hook_ssm(client)
        return client

    svc = wiring.build(
        settings,
        clock,
        table,
        wall_clock=FixedClock(WALL),
        ssm_client=ssm_client,
        observability=Observability("dev", emit=None),
        book_sizes=sizes,
        sleep=lambda s: None,
    )
    c = charity_sale()
    pledged = replace(c.products[1], donation_rate_percent=Decimal("8"))
    svc.publisher(actor="test").publish([replace(c, products=(c.products[0], pledged)), campaign()])
    clock.set(local(2026, 12, 1, 9))
    recorder.hook_dynamodb(table.meta.client)
    wiring.configure(svc)
    out: dict[str, list[Call]] = {}
    visited: set[tuple[str, str]] = set()
    try:
        with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
            event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
            for minutes in (0, 15):
                clock.set(local(2026, 12, 1, 9, minutes))
                assert client.lambda_.invoke("rotate_homepage", event).payload["rotation"] >= 1
            out["rotate_homepage"], recorder.calls = recorder.calls, []

            def get(route: str, path: str) -> None:
                visited.add((route, "GET"))
                response = client.http.get(path)
                assert response.status_code == 200, (path, response.body[:300])

            def post(route: str, body: dict, expected: int = 201) -> None:
                visited.add((route, "POST"))
                data = json.dumps(body).encode()
                headers = {**sign_headers(SECRET, data, "msg_" + str(len(visited)), WALL), "content-type": "application/json"}
                response = client.http.post(route, headers=headers, body=data)
                assert response.status_code == expected, (route, response.body)

            cid = "bazhong-pork-charity"
            sale = {"order_id": "ORD-1", "campaign_id": cid, "sku": "PORK-0001", "quantity": 1, "amount": "200.00"}
            post("/api/sales", {**sale, "paid_at": "2026-12-01T08:30:00+08:00"})
            post("/api/sales", {**sale, "paid_at": "2026-12-01T08:30:00+08:00"}, expected=200)  # a replay
            post("/api/refunds", {"refund_id": "RF-1", "order_id": "ORD-1", "amount": "50.00"})
            donation = {"donation_id": "PD-1", "campaign_id": cid, "member_id": "M", "points": 100}
            post("/api/point-donations", donation)
            post("/api/point-donations", donation, expected=200)  # a replay
            post("/api/refunds", {"refund_id": "RF-2", "order_id": "ORD-1", "amount": "500.00"}, expected=422)
            get("/", "/?lang=en")
            get("/api/homepage", "/api/homepage")
            get("/campaigns/{campaign_id}", f"/campaigns/{cid}")
            get("/api/campaigns/{campaign_id}", f"/api/campaigns/{cid}")
            get("/charity", "/charity")
            get("/campaigns/{campaign_id}/ledger", f"/campaigns/{cid}/ledger")
            get("/api/campaigns/{campaign_id}/ledger", f"/api/campaigns/{cid}/ledger")
            get("/api/campaigns/{campaign_id}/ledger", f"/api/campaigns/{cid}/ledger?order=ORD-1")  # find my order
            get("/impact", "/impact")
            get("/api/impact", "/api/impact")
            get("/static/{name}", "/static/placeholder.svg")
            get("/homepage/exposure", "/homepage/exposure?date=2026-12-01")
            get("/api/homepage/exposure", "/api/homepage/exposure?date=2026-12-01")
            get("/sitemap.xml", "/sitemap.xml")
            get("/robots.txt", "/robots.txt")
            out["api_handler"] = recorder.calls
    finally:
        wiring.configure(None)
        undo()
    routes = {(path, method) for path, methods in app.routes.items() for method in methods}
    visited |= {(route, "HEAD") for route, method in visited if method == "GET"}  # HEAD runs GET's code path
    assert visited == routes, f"routes this test does not exercise: {sorted(routes - visited)}"
    return out


def test_the_hooks_see_what_each_code_path_is_known_to_do(recorded):
    rotation = {c.action for c in recorded["rotate_homepage"]}
    api = {c.action for c in recorded["api_handler"]}
    assert {"dynamodb:Query", "dynamodb:PutItem"} <= rotation
    assert not {c for c in recorded["rotate_homepage"] if c.action.startswith("ssm:")}
    assert {"dynamodb:GetItem", "dynamodb:UpdateItem", "dynamodb:PutItem", "ssm:GetParameter"} <= api
    keys = {k for c in recorded["rotate_homepage"] for k in c.leading_keys}
    assert "ROTATION" in keys and not [k for k in keys if k.startswith(("ORDER#", "TOTALS#", "LEDGER#"))]


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("partition", sorted(PARTITIONS))
def test_every_call_of_the_function_is_allowed_by_its_role(recorded, stage, function, partition):
    policy = resolved(policy_of(stage, function), partition, PARTITIONS[partition])
    calls = [
        replace(c, resource=c.resource.replace("arn:aws:", f"arn:{partition}:").replace(REGION, PARTITIONS[partition]))
        for c in as_stage(recorded[function], stage)
    ]
    denied = sorted({f"{c.action} on {c.resource} keys {c.leading_keys}" for c in calls if not allowed(policy, c)})
    assert denied == [], f"{function}'s role on {stage} ({partition}) denies: {denied}"


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_role_grants_nothing_the_function_does_not_call(recorded, stage, function):
    policy = policy_of(stage, function)
    calls = recorded[function]
    assert grants(policy) == {c.action for c in calls}, function
    assert unused_key_patterns(policy, calls) == [], f"{function}'s role allows keys it never touches"


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_the_rotation_cannot_read_the_secret_or_touch_the_books(stage):
    policy = resolved(policy_of(stage, "rotate_homepage"))
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{stage_table(stage)}"
    secret = f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter{stage_parameter(stage)}"
    assert not allowed(policy, Call("ssm:GetParameter", secret))
    for pk in ("ORDER#ORD-1", "REFUND#RF-1", "POINTS#PD-1", "TOTALS#c#000", "LEDGER#c#00", "CAMPAIGN#c"):
        for action in ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"):
            assert not allowed(policy, Call(action, table, (pk,))), (action, pk)
    assert allowed(policy, Call("dynamodb:Query", table, ("ROTATION",)))


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_the_api_cannot_write_the_release_or_the_rotation(stage):
    policy = resolved(policy_of(stage, "api_handler"))
    table = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{stage_table(stage)}"
    for pk in ("RELEASE", "ROTATION", "CAMPAIGN#c", "LOCAL"):
        for action in ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"):
            assert not allowed(policy, Call(action, table, (pk,))), (action, pk)
    assert allowed(policy, Call("dynamodb:UpdateItem", table, ("TOTALS#c#000",)))
    assert allowed(policy, Call("dynamodb:GetItem", table, ("RELEASE",)))


def test_the_evaluator_denies_what_no_statement_names():
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["dynamodb:GetItem"],
                "Resource": ["arn:aws:dynamodb:*:*:table/t"],
                "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["ROTATION", "CAMPAIGN#*"]}},
            }
        ]
    }
    t = "arn:aws:dynamodb:us-east-1:1:table/t"
    assert allowed(policy, Call("dynamodb:GetItem", t, ("CAMPAIGN#x",)))
    assert not allowed(policy, Call("dynamodb:GetItem", t, ("ORDER#x",)))
    assert not allowed(policy, Call("dynamodb:GetItem", t, ("ROTATION", "ORDER#x")))
    assert not allowed(policy, Call("dynamodb:PutItem", t, ("ROTATION",)))
    assert not allowed(policy, Call("dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:1:table/other", ("ROTATION",)))
    assert not allowed(policy, Call("dynamodb:GetItem", "arn:aws-cn:dynamodb:cn-north-1:1:table/t", ("ROTATION",)))
