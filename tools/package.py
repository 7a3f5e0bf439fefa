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
   to (``LoggingConfig``); and X-Ray tracing on the API Gateway stage.
3. ``chalice package --stage S --merge-template build/S/resources.json build/S``:
   ``build/S/sam.json`` + ``build/S/deployment.zip``, the deployable pair.
4. ``cfn-lint build/S/sam.json``: fails the build on any error (exit bit 2) and
   on any warning (bit 4).

The table's key schema and TTL attribute come from
:mod:`chalicelib.store.keys`, the same constants ``create_table`` uses for the
local stack, so the deployed table cannot drift from the code. Its name comes
from the stage's ``TABLE_NAME`` in ``.chalice/config.json`` (which
``.chalice/policy-<stage>.json`` names too; ``tests/deploy/test_policy.py``
holds the three together).

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
    """The stage's log group, named as ``.chalice/policy-<stage>.json``'s Logs statement expects."""
    return {
        "Type": "AWS::Logs::LogGroup",
        "DeletionPolicy": "Delete",
        "UpdateReplacePolicy": "Delete",
        "Properties": {
            "LogGroupName": f"/aws/lambda/{app_name}-{stage}",
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
    for logical_id in function_ids(base_template):
        resources[logical_id] = {
            "Properties": {
                "Environment": {"Variables": {"TABLE_NAME": {"Ref": TABLE_LOGICAL_ID}}},
                "LoggingConfig": {"LogGroup": {"Ref": LOG_GROUP_LOGICAL_ID}, "LogFormat": "Text"},
            }
        }
    for logical_id, resource in base_template.get("Resources", {}).items():
        if resource.get("Type") == "AWS::Serverless::Api":
            resources[logical_id] = {"Properties": {"TracingEnabled": True}}
    outputs: dict[str, Any] = {
        "TableName": {"Value": {"Ref": TABLE_LOGICAL_ID}},
        "TableArn": {"Value": {"Fn::GetAtt": [TABLE_LOGICAL_ID, "Arn"]}},
        "LogGroupName": {"Value": {"Ref": LOG_GROUP_LOGICAL_ID}},
    }
    if env.get("SIGNING_SECRET_PARAMETER"):
        outputs["SigningSecretParameter"] = {"Value": env["SIGNING_SECRET_PARAMETER"]}
    return {"Resources": resources, "Outputs": outputs}


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
