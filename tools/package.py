"""Build the deployable CloudFormation (SAM) template of a stage, offline.

``make package STAGE=dev`` runs this. It needs no AWS credentials, only
``AWS_DEFAULT_REGION`` in the shell (never in ``.chalice/config.json``: a
region there is copied into the template, and cfn-lint flags it) and a
reachable pip index, since ``chalice package`` builds the Lambda's
dependencies from ``requirements.txt``.

Steps, all into ``build/<stage>/`` (gitignored):

1. ``chalice package --stage S build/S/base``: Chalice's own template, read only
   to learn the logical ids of the Lambda functions it makes.
2. :func:`merge_template` writes ``build/S/resources.json``: the DynamoDB table
   (key, TTL, point-in-time recovery, on-demand billing, deletion protection);
   for every function whose environment names ``TABLE_NAME``, an override
   of that variable with ``{"Ref": "CampaignTable"}``, so the functions depend
   on the table and get its name from it; one log group
   ``/aws/lambda/<app>-<stage>`` with a retention, which every function logs
   to (``LoggingConfig``); X-Ray tracing on the API Gateway stage; each role's
   policy (the function's ``iam_policy_file``) again with its ARNs under
   ``Fn::Sub`` (:func:`role_overrides`: ``${AWS::Partition}`` and friends, so
   one template deploys in ``aws`` and ``aws-cn``); API Gateway's JSON access
   log to its own group; reserved concurrency, alarm thresholds and the alarm
   topic's subscription as template parameters (:data:`PARAMETERS`); the alarm
   topic and the alarms (:func:`alarm_resources`, docs/runbook.md "Alarms").
3. ``chalice package --stage S --merge-template build/S/resources.json build/S``:
   ``build/S/sam.json`` + ``build/S/deployment.zip``, the deployable pair.
4. ``cfn-lint build/S/sam.json``: fails the build on any error (exit bit 2) and
   on any warning (bit 4).

The table's key schema and TTL attribute come from
:mod:`chalicelib.store.keys`, the same constants ``create_table`` uses for the
local stack, so the deployed table cannot drift from the code. Its name comes
from the stage's ``TABLE_NAME`` in ``.chalice/config.json`` (which
``.chalice/policy-<stage>-api.json`` and ``-rotation.json`` name too;
``tests/deploy/test_policy.py`` holds them together).

Usage: ``python tools/package.py --stage dev [--out build/dev]``.
Exit status: 0 built and clean; 1 lint errors or a failed step; 2 bad usage
(unknown stage, no ``AWS_DEFAULT_REGION``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.store.keys import ATTRIBUTE_DEFINITIONS, KEY_SCHEMA, TTL_ATTRIBUTE  # noqa: E402

TABLE_LOGICAL_ID = "CampaignTable"
LOG_GROUP_LOGICAL_ID = "FunctionLogGroup"
LOG_RETENTION_DAYS = 90  # CloudWatch Logs keeps Lambda logs forever unless told (docs/scale.md, cost)
BIN = Path(sys.executable).parent


class PackageError(RuntimeError):
    """A step of the build failed; the message says which and why (exit 1)."""


class UsageError(PackageError):
    """The build cannot start: unknown stage, or no ``AWS_DEFAULT_REGION`` (exit 2)."""


def stage_environment(config: Mapping[str, Any], stage: str) -> dict[str, str]:
    """The environment variables ``stage`` gets: the top level, then the stage's own.

    Raises ``UsageError`` for a stage that ``.chalice/config.json`` lacks
    (Chalice itself would silently use the top-level values).
    """
    stages = config.get("stages", {})
    if stage not in stages:
        raise UsageError(f"unknown stage {stage!r}; .chalice/config.json has {sorted(stages)}")
    return {**config.get("environment_variables", {}), **stages[stage].get("environment_variables", {})}


def table_resource(table_name: str, stage: str) -> dict[str, Any]:
    """The ``AWS::DynamoDB::Table`` of a stage.

    ``Retain`` on delete and on replacement, plus deletion protection: the
    table holds the releases and the donation ledger, which no stack
    operation may destroy (see docs/runbook.md, "Tearing down a stage").
    """
    return {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "TableName": table_name,
            "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [dict(k) for k in KEY_SCHEMA],
            "AttributeDefinitions": [dict(a) for a in ATTRIBUTE_DEFINITIONS],
            "TimeToLiveSpecification": {"AttributeName": TTL_ATTRIBUTE, "Enabled": True},
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "DeletionProtectionEnabled": True,
            "Tags": [
                {"Key": "app", "Value": "campaign-platform"},
                {"Key": "stage", "Value": stage},
            ],
        },
    }


def log_group_resource(app_name: str, stage: str) -> dict[str, Any]:
    """The stage's log group, named as the policy files' Logs statements expect."""
    return {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": {
            "LogGroupName": f"/aws/lambda/{app_name}-{stage}",
            "RetentionInDays": LOG_RETENTION_DAYS,
        },
    }


# ------------------------------------------------------------------ partitions (docs/runbook.md, "AWS China")

PSEUDO_PARAMETERS = ("${AWS::Partition}", "${AWS::Region}", "${AWS::AccountId}")
API_FUNCTION = "APIHandler"  # Chalice's logical id for the function behind every route
ROTATION_FUNCTION = "RotateHomepage"  # the @app.schedule function rotate_homepage
API_LOGICAL_ID = "RestAPI"


def substituted(value: Any) -> Any:
    """``value`` with every string holding ``${...}`` wrapped in ``{"Fn::Sub": ...}``.

    The policy files write ARNs as
    ``arn:${AWS::Partition}:dynamodb:${AWS::Region}:${AWS::AccountId}:table/...``
    (Chalice copies them into the template verbatim); CloudFormation resolves
    them in the partition, region and account it deploys to, so one template
    serves ``aws`` and ``aws-cn``.
    """
    if isinstance(value, dict):
        return {k: substituted(v) for k, v in value.items()}
    if isinstance(value, list):
        return [substituted(v) for v in value]
    if isinstance(value, str) and "${" in value:
        return {"Fn::Sub": value}
    return value


def literal_arns(value: Any, where: str = "") -> list[str]:
    """``"where: arn:aws:..."`` for each string that starts ``arn:`` but not ``arn:${AWS::Partition}:``.

    Such an ARN names one partition and matches nothing in another (an ``arn:aws:``
    resource grants nothing in ``cn-north-1``).
    """
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in literal_arns(v, f"{where}/{k}")]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in literal_arns(v, f"{where}/{i}")]
    if isinstance(value, str) and value.startswith("arn:") and not value.startswith("arn:${AWS::Partition}:"):
        return [f"{where}: {value}"]
    return []


def role_overrides(base_template: Mapping[str, Any]) -> dict[str, Any]:
    """Each IAM role's inline policies again, their ARNs under ``Fn::Sub`` (lists replace in the merge).

    Raises ``PackageError`` for a policy ARN with a literal partition.
    """
    out: dict[str, Any] = {}
    for logical_id, resource in sorted(base_template.get("Resources", {}).items()):
        if resource.get("Type") != "AWS::IAM::Role":
            continue
        policies = resource["Properties"].get("Policies", [])
        problems = literal_arns(policies, logical_id)
        if problems:
            raise PackageError("policy ARNs must start arn:${AWS::Partition}: (see docs/runbook.md):\n  " + "\n  ".join(problems))
        out[logical_id] = {"Properties": {"Policies": substituted(policies)}}
    return out


# ------------------------------------------------------------------ operations: parameters, alarms, access log

ACCESS_LOG_GROUP_LOGICAL_ID = "ApiAccessLogGroup"
ALARM_TOPIC_LOGICAL_ID = "AlarmTopic"
SYSTEM_ROUTES = ("sales", "refunds", "point-donations")  # the route dimension of SystemRequests
ALARM_PERIOD_S = 300

# API Gateway's access log: one JSON object a request. $context.path is the path without
# its query string (a query string may carry personal data); no source IP, no user agent.
ACCESS_LOG_FORMAT = {
    "requestId": "$context.requestId",
    "requestTimeEpoch": "$context.requestTimeEpoch",
    "httpMethod": "$context.httpMethod",
    "resourcePath": "$context.resourcePath",
    "path": "$context.path",
    "status": "$context.status",
    "responseLength": "$context.responseLength",
    "responseLatencyMs": "$context.responseLatency",
    "integrationLatencyMs": "$context.integrationLatency",
    "integrationStatus": "$context.integrationStatus",
    "errorMessage": "$context.error.message",
    "xrayTraceId": "$context.xrayTraceId",
}

PARAMETERS: dict[str, Any] = {
    "AlarmSubscriptionEndpoint": {
        "Type": "String",
        "Default": "",
        "Description": "Where the alarm topic delivers (an e-mail address, an HTTPS URL, ...); empty: no subscription",
    },
    "AlarmSubscriptionProtocol": {
        "Type": "String",
        "Default": "email",
        "AllowedValues": ["email", "email-json", "http", "https", "sqs", "lambda", "sms"],
        "Description": "The SNS protocol of AlarmSubscriptionEndpoint",
    },
    "ApiReservedConcurrency": {
        "Type": "Number",
        "Default": 100,
        "MinValue": 1,
        "MaxValue": 900,
        "Description": "Ceiling of concurrent API executions (docs/scale.md: about 65 at the peak without a CDN)",
    },
    "RotationReservedConcurrency": {
        "Type": "Number",
        "Default": 1,
        "MinValue": 1,
        "MaxValue": 1,
        "Description": "The rotation runs one at a time",
    },
    "Api5xxThreshold": {
        "Type": "Number",
        "Default": 5,
        "MinValue": 1,
        "Description": "5xx answers in 5 minutes that raise the alarm",
    },
    "SignatureFailureThreshold": {
        "Type": "Number",
        "Default": 20,
        "MinValue": 1,
        "Description": "401 answers on the system routes in 5 minutes that raise the alarm",
    },
    "LambdaErrorRatePercent": {
        "Type": "Number",
        "Default": 5,
        "MinValue": 1,
        "MaxValue": 100,
        "Description": "Percent of a function's invocations failing in 5 minutes that raises the alarm",
    },
}
CONDITIONS = {"HasAlarmSubscription": {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmSubscriptionEndpoint"}, ""]}]}}


def emf_dimensions(stage: str, **dimensions: str) -> list[dict[str, str]]:
    """The dimension set of one of our EMF metrics (``chalicelib/observability.py``: service, stage, plus its own)."""
    from chalicelib.observability import SERVICE

    values = {"service": SERVICE, "stage": stage, **dimensions}
    return [{"Name": k, "Value": v} for k, v in sorted(values.items())]


def _alarm(name: str, description: str, **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": name,
            "AlarmDescription": description,
            "ActionsEnabled": True,
            "AlarmActions": [{"Ref": ALARM_TOPIC_LOGICAL_ID}],
            "OKActions": [{"Ref": ALARM_TOPIC_LOGICAL_ID}],
            **properties,
        },
    }


def _metric(id_: str, namespace: str, name: str, dimensions: list[dict[str, Any]], stat: str = "Sum") -> dict[str, Any]:
    return {
        "Id": id_,
        "ReturnData": False,
        "MetricStat": {
            "Metric": {"Namespace": namespace, "MetricName": name, "Dimensions": dimensions},
            "Period": ALARM_PERIOD_S,
            "Stat": stat,
        },
    }


def alarm_resources(app_name: str, stage: str, rotation_minutes: int) -> dict[str, Any]:
    """The alarm topic (and its optional subscription) and the stage's alarms.

    Each description says what to do; docs/runbook.md ("Alarms") says the same.
    """
    from chalicelib.observability import NAMESPACE

    prefix = f"{app_name}-{stage}"
    resources: dict[str, Any] = {
        ALARM_TOPIC_LOGICAL_ID: {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": f"{prefix}-alarms"}},
        "AlarmSubscription": {
            "Type": "AWS::SNS::Subscription",
            "Condition": "HasAlarmSubscription",
            "Properties": {
                "TopicArn": {"Ref": ALARM_TOPIC_LOGICAL_ID},
                "Protocol": {"Ref": "AlarmSubscriptionProtocol"},
                "Endpoint": {"Ref": "AlarmSubscriptionEndpoint"},
            },
        },
        "RotationStalledAlarm": _alarm(
            f"{prefix}-rotation-stalled",
            f"No homepage rotation written for {2 * rotation_minutes} minutes (2 x ROTATION_MINUTES): the homepage "
            "shows stale picks. Check RotateHomepage's errors in the log group (message 'unhandled error'), "
            f"then run `campaign rotate --stage {stage}`. docs/runbook.md#alarms",
            Namespace=NAMESPACE,
            MetricName="Rotations",
            Dimensions=emf_dimensions(stage, outcome="written"),
            Statistic="Sum",
            Period=rotation_minutes * 60,
            EvaluationPeriods=2,
            DatapointsToAlarm=2,
            Threshold=1,
            ComparisonOperator="LessThanThreshold",
            TreatMissingData="breaching",
        ),
        "Api5xxAlarm": _alarm(
            f"{prefix}-api-5xx",
            "API Gateway answered 5xx above Api5xxThreshold in 5 minutes. Find the requests with Logs Insights "
            "(message = 'request' and status >= 500) and the traceback ('unhandled error'); a bad publish: "
            f"`campaign rollback --stage {stage}`. docs/runbook.md#alarms",
            Namespace="AWS/ApiGateway",
            MetricName="5XXError",
            Dimensions=[{"Name": "ApiName", "Value": prefix}, {"Name": "Stage", "Value": "api"}],
            Statistic="Sum",
            Period=ALARM_PERIOD_S,
            EvaluationPeriods=1,
            Threshold={"Ref": "Api5xxThreshold"},
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        ),
        "TableThrottlingAlarm": _alarm(
            f"{prefix}-dynamodb-throttling",
            "DynamoDB throttled reads or writes of the table in 5 minutes. On-demand tables throttle on a hot key or "
            "past the account's table quota: check the table's CloudWatch Contributor Insights for the key, and the "
            "account's DynamoDB quotas. docs/runbook.md#alarms",
            Metrics=[
                _metric(
                    "reads", "AWS/DynamoDB", "ReadThrottleEvents", [{"Name": "TableName", "Value": {"Ref": TABLE_LOGICAL_ID}}]
                ),
                _metric(
                    "writes", "AWS/DynamoDB", "WriteThrottleEvents", [{"Name": "TableName", "Value": {"Ref": TABLE_LOGICAL_ID}}]
                ),
                {"Id": "throttled", "Expression": "FILL(reads, 0) + FILL(writes, 0)", "Label": "throttled", "ReturnData": True},
            ],
            EvaluationPeriods=1,
            Threshold=0,
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        ),
        "SignatureFailuresAlarm": _alarm(
            f"{prefix}-signature-failures",
            "Many system requests (sales, refunds, point donations) failed their signature (401) in 5 minutes. "
            "After a secret rotation a sender has the wrong secret: see 'Rotating the signing secret'; otherwise "
            "someone is probing the routes. Senders retry: nothing is lost. docs/runbook.md#alarms",
            Metrics=[
                *[
                    _metric(f"r{i}", NAMESPACE, "SystemRequests", emf_dimensions(stage, route=route, status="401"))
                    for i, route in enumerate(SYSTEM_ROUTES)
                ],
                {
                    "Id": "failures",
                    "Expression": " + ".join(f"FILL(r{i}, 0)" for i in range(len(SYSTEM_ROUTES))),
                    "Label": "401 answers",
                    "ReturnData": True,
                },
            ],
            EvaluationPeriods=1,
            Threshold={"Ref": "SignatureFailureThreshold"},
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        ),
    }
    for function, what in ((API_FUNCTION, "API"), (ROTATION_FUNCTION, "rotation")):
        dimensions = [{"Name": "FunctionName", "Value": {"Ref": function}}]
        resources[f"{function}ErrorRateAlarm"] = _alarm(
            f"{prefix}-{what.lower()}-error-rate",
            f"The {what} function failed more than LambdaErrorRatePercent of its invocations in 5 minutes "
            "(errors, timeouts, out of memory). Read the 'unhandled error' lines and Lambda's REPORT lines in the "
            "log group; after a bad deploy, redeploy the previous version. docs/runbook.md#alarms",
            Metrics=[
                _metric("errors", "AWS/Lambda", "Errors", dimensions),
                _metric("invocations", "AWS/Lambda", "Invocations", dimensions),
                {
                    "Id": "rate",
                    "Expression": "100 * FILL(errors, 0) / FILL(invocations, 1)",
                    "Label": "error rate (%)",
                    "ReturnData": True,
                },
            ],
            EvaluationPeriods=1,
            Threshold={"Ref": "LambdaErrorRatePercent"},
            ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="notBreaching",
        )
    return resources


def access_log_group_resource(app_name: str, stage: str) -> dict[str, Any]:
    """API Gateway's access log group, apart from the functions' (its own retention)."""
    return {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": {
            "LogGroupName": f"/aws/apigateway/{app_name}-{stage}/access",
            "RetentionInDays": LOG_RETENTION_DAYS,
        },
    }


def function_ids(template: Mapping[str, Any]) -> list[str]:
    """Logical ids of the Lambda functions whose environment names ``TABLE_NAME``."""
    out = []
    for logical_id, resource in sorted(template.get("Resources", {}).items()):
        if resource.get("Type") not in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            continue
        variables = resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
        if "TABLE_NAME" in variables:
            out.append(logical_id)
    return out


def merge_template(config: Mapping[str, Any], stage: str, base_template: Mapping[str, Any]) -> dict[str, Any]:
    """The ``--merge-template`` document for ``stage``.

    Parameters
    ----------
    config:
        ``.chalice/config.json``, parsed.
    stage:
        ``dev`` or ``prod`` (any stage of the config).
    base_template:
        Chalice's ``sam.json`` for the stage without a merge (step 1), read
        for its function logical ids.

    Returns
    -------
    ``{"Resources": {"CampaignTable": {...}, "FunctionLogGroup": {...},
    "<Function>": {"Properties": {"Environment": {"Variables": {"TABLE_NAME":
    {"Ref": "CampaignTable"}}}, "LoggingConfig": {...}}}, "RestAPI": {...}},
    "Outputs": {...}}``. Chalice deep-merges dicts, so each function keeps
    its other variables; lists (the key schema) replace.

    Raises ``PackageError`` when the stage has no ``TABLE_NAME``.
    """
    env = stage_environment(config, stage)
    table_name = env.get("TABLE_NAME")
    if not table_name:
        raise PackageError(f"stage {stage!r} has no TABLE_NAME in .chalice/config.json")
    resources: dict[str, Any] = {
        TABLE_LOGICAL_ID: table_resource(table_name, stage),
        LOG_GROUP_LOGICAL_ID: log_group_resource(config["app_name"], stage),
    }
    concurrency = {API_FUNCTION: "ApiReservedConcurrency", ROTATION_FUNCTION: "RotationReservedConcurrency"}
    ids = function_ids(base_template)
    if sorted(concurrency) != sorted(ids):
        raise PackageError(f"expected the functions {sorted(concurrency)}, Chalice made {ids}")
    for logical_id in ids:
        resources[logical_id] = {
            "Properties": {
                "Environment": {"Variables": {"TABLE_NAME": {"Ref": TABLE_LOGICAL_ID}}},
                "LoggingConfig": {"LogGroup": {"Ref": LOG_GROUP_LOGICAL_ID}, "LogFormat": "Text"},
                "ReservedConcurrentExecutions": {"Ref": concurrency[logical_id]},
            }
        }
    resources.update(role_overrides(base_template))
    for logical_id, resource in base_template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Api":
            resources[logical_id] = {
                "Properties": {
                    "Name": f"{config['app_name']}-{stage}",
                    "TracingEnabled": True,
                    "AccessLogSetting": {
                        # API Gateway wants the group's ARN without the ":*" of its Arn attribute.
                        "DestinationArn": {
                            "Fn::Sub": "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:${"
                            + ACCESS_LOG_GROUP_LOGICAL_ID
                            + "}"
                        },
                        "Format": json.dumps(ACCESS_LOG_FORMAT, separators=(",", ":")),
                    },
                }
            }
    resources[ACCESS_LOG_GROUP_LOGICAL_ID] = access_log_group_resource(config["app_name"], stage)
    resources.update(alarm_resources(config["app_name"], stage, int(env.get("ROTATION_MINUTES", "15"))))
    outputs: dict[str, Any] = {
        "TableName": {"Value": {"Ref": TABLE_LOGICAL_ID}},
        "TableArn": {"Value": {"Fn::GetAtt": [TABLE_LOGICAL_ID, "Arn"]}},
        "LogGroupName": {"Value": {"Ref": LOG_GROUP_LOGICAL_ID}},
        "AccessLogGroupName": {"Value": {"Ref": ACCESS_LOG_GROUP_LOGICAL_ID}},
        "AlarmTopicArn": {"Value": {"Ref": ALARM_TOPIC_LOGICAL_ID}},
    }
    if env.get("SIGNING_SECRET_PARAMETER"):
        outputs["SigningSecretParameter"] = {"Value": env["SIGNING_SECRET_PARAMETER"]}
    return {"Parameters": PARAMETERS, "Conditions": CONDITIONS, "Resources": resources, "Outputs": outputs}


def _run(argv: list[str], env: Mapping[str, str], what: str) -> None:
    result = subprocess.run(argv, cwd=ROOT, env=dict(env), capture_output=True, text=True)
    if result.returncode != 0:
        raise PackageError(f"{what} failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")


def lint(template: Path) -> tuple[int, str]:
    """Run cfn-lint on ``template``; returns ``(exit status, output)``.

    cfn-lint's exit status is a bit mask: 2 errors, 4 warnings, 8 informational.
    """
    result = subprocess.run([str(BIN / "cfn-lint"), str(template)], capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


def package(stage: str, out: Path, env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """Build ``out/sam.json``, ``out/deployment.zip`` and ``out/resources.json`` for ``stage``.

    ``env`` is the environment for the ``chalice`` subprocesses (default:
    this process's); it must hold ``AWS_DEFAULT_REGION``. Returns a summary:
    ``{"stage", "out", "zip_bytes", "seconds", "functions"}``. Raises
    ``PackageError`` on a missing region, an unknown stage or a failed step.
    Nothing outside ``out`` is written (Chalice also caches built
    dependencies under ``.chalice/deployments/``, gitignored).
    """
    env = dict(os.environ if env is None else env)
    if not env.get("AWS_DEFAULT_REGION"):
        raise UsageError(
            "AWS_DEFAULT_REGION is not set: `chalice package` needs it in the shell "
            "(e.g. `AWS_DEFAULT_REGION=ap-southeast-1 make package STAGE=dev`); never put it in .chalice/config.json"
        )
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    stage_environment(config, stage)  # unknown stage: fail before building anything
    started = time.monotonic()
    out = out.resolve()
    if out.exists():
        shutil.rmtree(out)
    base = out / "base"
    chalice = str(BIN / "chalice")
    _run([chalice, "package", "--stage", stage, str(base)], env, "chalice package (base)")
    base_template = json.loads((base / "sam.json").read_text(encoding="utf-8"))
    merge = merge_template(config, stage, base_template)
    shutil.rmtree(base)
    merge_path = out / "resources.json"
    merge_path.write_text(json.dumps(merge, indent=2) + "\n", encoding="utf-8")
    _run(
        [chalice, "package", "--stage", stage, "--merge-template", str(merge_path), str(out)],
        env,
        "chalice package (merged)",
    )
    return {
        "stage": stage,
        "out": str(out),
        "zip_bytes": (out / "deployment.zip").stat().st_size,
        "seconds": round(time.monotonic() - started, 1),
        "functions": function_ids(base_template),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True)
    parser.add_argument("--out", type=Path, help="default: build/<stage>")
    parser.add_argument("--no-lint", action="store_true", help="skip cfn-lint (not for CI)")
    args = parser.parse_args(argv)
    out = args.out or ROOT / "build" / args.stage
    try:
        summary = package(args.stage, out)
    except PackageError as exc:
        print(f"package: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, UsageError) else 1
    print(
        f"package: {summary['stage']}: {summary['out']}/sam.json + deployment.zip "
        f"({summary['zip_bytes'] / 1024:.0f} KiB) in {summary['seconds']} s; "
        f"TABLE_NAME from Ref in {', '.join(summary['functions'])}"
    )
    if args.no_lint:
        return 0
    status, output = lint(Path(summary["out"]) / "sam.json")
    if status:
        print(output, file=sys.stderr)
        print(f"package: cfn-lint found problems (exit {status})", file=sys.stderr)
        return 1
    print("package: cfn-lint: no errors, no warnings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
