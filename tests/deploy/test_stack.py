"""An offline deployment: the packaged template, expanded from SAM, created as a stack on moto.

``tools/package.py`` builds the dev template; AWS's own SAM translator
(``aws-sam-translator``, what CloudFormation runs for ``Transform:
AWS::Serverless-2016-10-31``) expands it; moto's CloudFormation, in server
mode on a free port, creates it in each partition. Then the table, the roles,
the log groups, the functions and the topic are read back through the AWS APIs.
(That every ARN is built from ``${AWS::Partition}`` is held by
``tests/deploy/test_package.py``; moto resolves that pseudo parameter as ``aws``
even in ``cn-north-1``, while its services name their own resources ``aws-cn``.)

What moto's CloudFormation cannot model is checked in the expanded template
instead: the alarms and the SNS subscription (no CloudFormation model in moto),
the TTL of the table (not applied by moto), and API Gateway's deployment and
stage (moto does not import a REST API's OpenAPI body, and refuses to deploy
one "without methods"), which carry the access log setting.
"""

from __future__ import annotations

import ast
import json
import os
import urllib.request

import pytest

from tools import package as packaging

pytestmark = pytest.mark.server

REGIONS = {"us-east-1": "aws", "cn-north-1": "aws-cn"}
ACCOUNT = "123456789012"  # moto's default account
NOT_IN_MOTO = ("AWS::ApiGateway::Deployment", "AWS::ApiGateway::Stage")
# moto 5.2's CloudFormation resolves ${AWS::Partition} as "aws" in every region (its services
# name their own resources in the region's partition): what a Fn::Sub'd ARN becomes there.
MOTO_SUB_PARTITION = "aws"


@pytest.fixture(scope="module")
def moto_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    yield url
    urllib.request.urlopen(urllib.request.Request(url + "/moto-api/reset", method="POST"), timeout=10).read()
    server.stop()


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    out = tmp_path_factory.mktemp("stack") / "build"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"
    packaging.package("dev", out, env)
    return out


def clients(url: str, region: str):
    import boto3

    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    return lambda service: session.client(service, endpoint_url=url)


def expand(template: dict, region: str, client) -> dict:
    """The SAM template as plain CloudFormation, by AWS's translator."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.managed_policy_translator import ManagedPolicyLoader
    from samtranslator.translator.translator import Translator

    session = boto3.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    translator = Translator(None, Parser(), boto_session=session)
    return translator.translate(template, {}, feature_toggle=None, get_managed_policy_map=ManagedPolicyLoader(client("iam")).load)


@pytest.fixture(scope="module", params=sorted(REGIONS))
def stack(request, packaged, moto_server):
    """``(region, expanded template, client factory, stack outputs)`` for a dev stack created on moto."""
    region = request.param
    client = clients(moto_server, region)
    template = json.loads((packaged / "sam.json").read_text(encoding="utf-8"))
    # What `aws cloudformation package` does: the zip goes to S3, CodeUri names it.
    bucket = f"code-{region}"
    s3 = client("s3")
    s3.create_bucket(
        Bucket=bucket, **({} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}})
    )
    s3.upload_file(str(packaged / "deployment.zip"), bucket, "dev/deployment.zip")
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{bucket}/dev/deployment.zip"
    expanded = expand(template, region, client)
    body = json.loads(json.dumps(expanded))
    for logical_id in [k for k, r in body["Resources"].items() if r["Type"] in NOT_IN_MOTO]:
        del body["Resources"][logical_id]
    cfn = client("cloudformation")
    cfn.create_stack(
        StackName="campaign-platform-dev",
        TemplateBody=json.dumps(body),
        Capabilities=["CAPABILITY_IAM"],
        Parameters=[{"ParameterKey": "AlarmSubscriptionEndpoint", "ParameterValue": "ops@example.com"}],
    )
    [described] = cfn.describe_stacks(StackName="campaign-platform-dev")["Stacks"]
    assert described["StackStatus"] == "CREATE_COMPLETE", described.get("StackStatusReason")
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described["Outputs"]}
    return region, expanded, client, outputs


def _document(value) -> dict:
    """A role policy as moto returns it (JSON text, or a Python dict's repr)."""
    if isinstance(value, dict):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return ast.literal_eval(value)


def test_the_translator_leaves_no_serverless_resource(stack):
    _, expanded, _, _ = stack
    assert "Transform" not in expanded
    assert not [r["Type"] for r in expanded["Resources"].values() if r["Type"].startswith("AWS::Serverless::")]


def test_the_table_exists_as_the_code_expects_it(stack):
    from chalicelib.store.keys import KEY_SCHEMA, TTL_ATTRIBUTE

    region, expanded, client, outputs = stack
    table = client("dynamodb").describe_table(TableName="campaign-platform-dev")["Table"]
    assert table["KeySchema"] == KEY_SCHEMA
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["DeletionProtectionEnabled"] is True
    assert table["TableArn"] == f"arn:{REGIONS[region]}:dynamodb:{region}:{ACCOUNT}:table/campaign-platform-dev"
    assert outputs["TableArn"] == table["TableArn"]
    # moto's CloudFormation does not apply the TTL: it is read from the expanded template.
    props = expanded["Resources"]["CampaignTable"]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}


def test_each_function_has_its_own_role_with_partition_resolved_arns(stack):
    region, _, client, _ = stack
    partition = MOTO_SUB_PARTITION  # the partition is a pseudo parameter: tests/deploy/test_package.py
    iam = client("iam")
    lambda_ = client("lambda")
    functions = {f["FunctionName"]: f for f in lambda_.list_functions()["Functions"]}
    by_kind = {name.split("-")[3]: f for name, f in functions.items()}
    assert sorted(by_kind) == ["APIHandler", "RotateHomepage"]
    roles = {f["Role"].rsplit("/", 1)[1] for f in by_kind.values()}
    assert len(roles) == 2
    documents = {}
    for kind, function in by_kind.items():
        role = function["Role"].rsplit("/", 1)[1]
        [name] = iam.list_role_policies(RoleName=role)["PolicyNames"]
        documents[kind] = _document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
        text = json.dumps(documents[kind])
        assert "${" not in text and "Fn::Sub" not in text
        arns = [
            r
            for s in documents[kind]["Statement"]
            for r in ([s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"])
        ]
        assert [a for a in arns if a != "*" and not a.startswith(f"arn:{partition}:")] == []
        assert f"arn:{partition}:dynamodb:{region}:{ACCOUNT}:table/campaign-platform-dev" in arns
    rotation_actions = {a for s in documents["RotateHomepage"]["Statement"] for a in s["Action"]}
    assert not [a for a in rotation_actions if a.startswith("ssm:")]
    api_arns = [r for s in documents["APIHandler"]["Statement"] for r in s["Resource"] if isinstance(s["Resource"], list)]
    assert f"arn:{partition}:ssm:{region}:{ACCOUNT}:parameter/campaign-platform/dev/signing-secret" in api_arns
    concurrency = {k: lambda_.get_function_concurrency(FunctionName=f["FunctionName"]) for k, f in by_kind.items()}
    assert concurrency["RotateHomepage"]["ReservedConcurrentExecutions"] == 1
    assert concurrency["APIHandler"]["ReservedConcurrentExecutions"] == 100


def test_the_log_groups_exist_with_their_retention(stack):
    region, _, client, outputs = stack
    groups = {g["logGroupName"]: g for g in client("logs").describe_log_groups()["logGroups"]}
    assert {name: g["retentionInDays"] for name, g in groups.items()} == {
        "/aws/lambda/campaign-platform-dev": 90,
        "/aws/apigateway/campaign-platform-dev/access": 90,
    }
    assert outputs["AccessLogGroupName"] == "/aws/apigateway/campaign-platform-dev/access"
    assert groups["/aws/apigateway/campaign-platform-dev/access"]["arn"].startswith(f"arn:{REGIONS[region]}:logs:{region}:")


def test_the_alarm_topic_exists_and_the_alarms_and_subscription_are_in_the_expanded_template(stack):
    region, expanded, client, outputs = stack
    topics = [t["TopicArn"] for t in client("sns").list_topics()["Topics"]]
    arn = f"arn:{REGIONS[region]}:sns:{region}:{ACCOUNT}:campaign-platform-dev-alarms"
    assert topics == [arn] and outputs["AlarmTopicArn"] == arn
    alarms = {k: r["Properties"] for k, r in expanded["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm"}
    assert sorted(a["AlarmName"] for a in alarms.values()) == [
        "campaign-platform-dev-api-5xx",
        "campaign-platform-dev-api-error-rate",
        "campaign-platform-dev-dynamodb-throttling",
        "campaign-platform-dev-rotation-error-rate",
        "campaign-platform-dev-rotation-stalled",
        "campaign-platform-dev-signature-failures",
    ]
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms.values())
    subscription = expanded["Resources"]["AlarmSubscription"]
    assert subscription["Type"] == "AWS::SNS::Subscription" and subscription["Condition"] == "HasAlarmSubscription"


def test_the_api_stage_logs_json_access_lines_to_its_group_in_the_expanded_template(stack):
    _, expanded, _, outputs = stack
    [stage] = [r["Properties"] for r in expanded["Resources"].values() if r["Type"] == "AWS::ApiGateway::Stage"]
    assert stage["StageName"] == "api" and stage["TracingEnabled"] is True
    assert stage["AccessLogSetting"]["DestinationArn"] == {
        "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${ApiAccessLogGroup}"
    }
    assert json.loads(stage["AccessLogSetting"]["Format"]) == packaging.ACCESS_LOG_FORMAT
    [api] = [r["Properties"] for r in expanded["Resources"].values() if r["Type"] == "AWS::ApiGateway::RestApi"]
    assert api["Name"] == "campaign-platform-dev" and api["EndpointConfiguration"] == {"Types": ["REGIONAL"]}
    assert outputs["EndpointURL"].endswith("/api/")
