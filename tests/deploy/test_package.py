"""The deployable package, checked offline: template, lint, zip, and the app run from the zip.

``tools/package.py`` (what ``make package STAGE=...`` runs) builds each
deployed stage once per session into a temporary folder; the tests read
what it built. Building needs a pip index (PyPI) for ``requirements.txt``;
Chalice caches the built dependencies in ``.chalice/deployments/``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tools import package as packaging

CONFIG = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
DEPLOYED_STAGES = ("dev", "prod")
ZIP_BUDGET_BYTES = 2_000_000  # the issue: deployment.zip at or under 2 MB (decimal, the stricter reading)
NOT_IN_ZIP = (
    "campaign_tools",
    "yaml",
    "_yaml",
    "moto",
    "pytest",
    "_pytest",
    "boto3",
    "botocore",
    "s3transfer",
    "hypothesis",
    "cfnlint",
)
SITE_PACKAGES = sysconfig.get_paths()["purelib"]


def _build_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["AWS_DEFAULT_REGION"] = "us-east-1"  # chalice package needs a region; never credentials
    return env


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """``{stage: (summary, template, out dir)}`` for dev and prod, built once per session."""
    out = {}
    for stage in DEPLOYED_STAGES:
        folder = tmp_path_factory.mktemp(f"package-{stage}")
        summary = packaging.package(stage, folder / "build", _build_env())
        template = json.loads((folder / "build" / "sam.json").read_text(encoding="utf-8"))
        out[stage] = (summary, template, folder / "build")
    return out


def stage_env(stage: str) -> dict[str, str]:
    return {**CONFIG.get("environment_variables", {}), **CONFIG["stages"][stage]["environment_variables"]}


def functions(template: dict) -> dict[str, dict]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::Serverless::Function"}


# ------------------------------------------------------------------ the template


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_the_packaged_template_passes_cfn_lint_with_no_error_and_no_warning(built, stage):
    _, _, out = built[stage]
    status, output = packaging.lint(out / "sam.json")
    assert (status, output.strip()) == (0, "")


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_the_template_creates_the_stage_table_as_the_code_expects_it(built, stage):
    from chalicelib.store.keys import ATTRIBUTE_DEFINITIONS, KEY_SCHEMA, TTL_ATTRIBUTE

    _, template, _ = built[stage]
    table = template["Resources"]["CampaignTable"]
    assert table["Type"] == "AWS::DynamoDB::Table"
    assert (table["DeletionPolicy"], table["UpdateReplacePolicy"]) == ("Retain", "Retain")
    props = table["Properties"]
    assert props["TableName"] == stage_env(stage)["TABLE_NAME"] == f"campaign-platform-{stage}"
    assert props["KeySchema"] == KEY_SCHEMA
    assert props["AttributeDefinitions"] == ATTRIBUTE_DEFINITIONS
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["TimeToLiveSpecification"] == {"AttributeName": TTL_ATTRIBUTE, "Enabled": True}
    assert TTL_ATTRIBUTE == "expires_at_epoch_s"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["DeletionProtectionEnabled"] is True
    assert "GlobalSecondaryIndexes" not in props  # the code queries no index (see test_the_template_table_matches_create_table)


def test_the_template_table_matches_create_table(built, aws_env):
    """The local stack's table (``create_table``) and the deployed one have the same shape."""
    import boto3
    from moto import mock_aws

    from chalicelib.store.table import create_table

    _, template, _ = built["dev"]
    props = template["Resources"]["CampaignTable"]["Properties"]
    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        create_table(dynamodb, "shape-check")
        client = dynamodb.meta.client
        described = client.describe_table(TableName="shape-check")["Table"]
        ttl = client.describe_time_to_live(TableName="shape-check")["TimeToLiveDescription"]
    assert described["KeySchema"] == props["KeySchema"]
    assert sorted(described["AttributeDefinitions"], key=str) == sorted(props["AttributeDefinitions"], key=str)
    assert described["BillingModeSummary"]["BillingMode"] == props["BillingMode"]
    assert described.get("GlobalSecondaryIndexes", []) == props.get("GlobalSecondaryIndexes", [])
    assert described.get("LocalSecondaryIndexes", []) == props.get("LocalSecondaryIndexes", [])
    assert ttl["AttributeName"] == props["TimeToLiveSpecification"]["AttributeName"]


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_every_function_gets_the_table_name_from_the_table_and_the_secret_name_from_config(built, stage):
    summary, template, _ = built[stage]
    fns = functions(template)
    assert set(fns) >= {"APIHandler", "RotateHomepage"}
    assert sorted(summary["functions"]) == sorted(fns)
    for logical_id, fn in fns.items():
        props = fn["Properties"]
        variables = props["Environment"]["Variables"]
        assert variables["TABLE_NAME"] == {"Ref": "CampaignTable"}, logical_id
        assert variables["STAGE"] == stage
        assert variables["SIGNING_SECRET_PARAMETER"] == f"/campaign-platform/{stage}/signing-secret"
        # A region or credentials in the template would pin it to one account (cfn-lint E3663).
        assert not [name for name in variables if name.startswith("AWS_")], logical_id
        assert props["Tracing"] == "Active", logical_id
        assert props["Runtime"] == f"python{sys.version_info.major}.{sys.version_info.minor}" == "python3.11"


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_every_role_carries_exactly_the_stage_policy_file(built, stage):
    _, template, _ = built[stage]
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text(encoding="utf-8"))
    roles = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::IAM::Role"}
    assert len(roles) == len(functions(template))
    for logical_id, role in roles.items():
        documents = [p["PolicyDocument"] for p in role["Properties"]["Policies"]]
        assert documents == [policy], logical_id
        assert "ManagedPolicyArns" not in role["Properties"], logical_id


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_the_schedule_and_the_api_are_in_the_template(built, stage):
    _, template, _ = built[stage]
    rotate = template["Resources"]["RotateHomepage"]["Properties"]
    assert rotate["Events"]["RotateHomepageEvent"]["Properties"]["Schedule"] == "rate(15 minutes)"
    api = template["Resources"]["APIHandler"]["Properties"]
    assert (api["MemorySize"], api["Timeout"]) == (1024, 10)  # docs/scale.md: CPU-bound, so cost-neutral
    rest_api = template["Resources"]["RestAPI"]["Properties"]
    assert rest_api["StageName"] == "api"
    assert rest_api["MinimumCompressionSize"] == 1024  # gzip for pages and JSON over 1 KiB
    assert template["Outputs"]["TableName"] == {"Value": {"Ref": "CampaignTable"}}


@pytest.mark.parametrize("stage", DEPLOYED_STAGES)
def test_functions_log_to_one_retained_group_the_policy_lets_them_write(built, stage):
    import fnmatch

    _, template, _ = built[stage]
    group = template["Resources"]["FunctionLogGroup"]
    assert group["Properties"] == {"LogGroupName": f"/aws/lambda/campaign-platform-{stage}", "RetentionInDays": 90}
    for logical_id, fn in functions(template).items():
        assert fn["Properties"]["LoggingConfig"] == {"LogGroup": {"Ref": "FunctionLogGroup"}, "LogFormat": "Text"}, logical_id
    policy = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text(encoding="utf-8"))
    [logs] = [s for s in policy["Statement"] if s["Sid"] == "Logs"]
    arn = (
        f"arn:aws:logs:us-east-1:123456789012:log-group:{group['Properties']['LogGroupName']}:log-stream:2026/11/29/[$LATEST]abc"
    )
    assert any(fnmatch.fnmatchcase(arn, pattern) for pattern in logs["Resource"]), logs["Resource"]
    assert template["Resources"]["RestAPI"]["Properties"]["TracingEnabled"] is True


def test_building_needs_a_region_in_the_shell_and_a_known_stage(tmp_path):
    env = _build_env()
    del env["AWS_DEFAULT_REGION"]
    with pytest.raises(packaging.UsageError, match="AWS_DEFAULT_REGION"):
        packaging.package("dev", tmp_path / "out", env)
    with pytest.raises(packaging.UsageError, match="unknown stage 'staging'"):
        packaging.package("staging", tmp_path / "out", _build_env())
    assert not (tmp_path / "out").exists()


def test_no_stage_config_holds_a_region_or_credentials():
    for name, stage in CONFIG["stages"].items():
        names = set(CONFIG.get("environment_variables", {})) | set(stage.get("environment_variables", {}))
        assert not [n for n in names if n.startswith("AWS_")], name


def test_make_package_runs_the_packaging_tool_then_lints():
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = makefile.split("\npackage:", 1)[1].split("\n\n", 1)[0]
    assert "tools/package.py --stage $(STAGE)" in recipe
    assert "build/" in makefile and "build/" in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()


# ------------------------------------------------------------------ the zip


def zip_names(out: Path) -> list[str]:
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        return archive.namelist()


def test_the_zip_is_within_budget_and_holds_no_runtime_provided_or_test_tooling(built):
    summary, _, out = built["prod"]
    size = (out / "deployment.zip").stat().st_size
    assert size == summary["zip_bytes"]
    assert size <= ZIP_BUDGET_BYTES, f"deployment.zip is {size / 1024:.0f} KiB, over the 2 MB budget"
    top = {name.split("/", 1)[0] for name in zip_names(out)}
    assert not top & set(NOT_IN_ZIP), sorted(top & set(NOT_IN_ZIP))
    assert [n for n in zip_names(out) if "studio" in n] == []  # campaign studio is a tool: never packaged
    assert {"app.py", "chalicelib", "templates", "static", "jinja2", "tzdata", "aws_lambda_powertools"} <= top


def test_the_templates_and_static_files_reach_the_zip_root(built):
    # They travel as vendor/ symlinks (Chalice ships vendor/ and drops a top-level templates/).
    for name in ("templates", "static"):
        link = ROOT / "vendor" / name
        assert link.is_symlink() and link.resolve() == (ROOT / name).resolve(), link
    _, _, out = built["dev"]
    names = set(zip_names(out))
    for template in sorted((ROOT / "templates").glob("*.html")):
        assert f"templates/{template.name}" in names, template.name
    for asset in sorted((ROOT / "static").iterdir()):
        assert f"static/{asset.name}" in names, asset.name
    for module in sorted((ROOT / "chalicelib").rglob("*.py")):
        name = module.relative_to(ROOT).as_posix()
        assert name in names, name


# ------------------------------------------------------------------ the app, run from the zip


RUN_FROM_ZIP = textwrap.dedent(
    r'''
    """Runs in a fresh interpreter (-S), cwd = the unzipped package; prints one JSON line last."""
    import json, os, re, sys
    from datetime import datetime, timedelta, timezone
    from decimal import Decimal

    repo, unzipped = sys.argv[1], os.getcwd()

    import boto3
    from moto import mock_aws

    class Context:  # what Lambda hands the handler
        aws_request_id = "0f9b6b1e-lambda-request"
        function_name = "campaign-platform-dev"
        memory_limit_in_mb = 512
        invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:campaign-platform-dev"
        def get_remaining_time_in_millis(self):
            return 10_000

    def api_event(resource, path, params, query=None):
        """A REST API proxy event as API Gateway sends it on the raw execute-api URL (stage "api")."""
        return {
            "resource": resource, "path": path, "httpMethod": "GET",
            "headers": {"Host": "abc123.execute-api.us-east-1.amazonaws.com", "Accept": "text/html"},
            "multiValueHeaders": {}, "queryStringParameters": query,
            "multiValueQueryStringParameters": None if query is None else {k: [v] for k, v in query.items()},
            "pathParameters": params, "stageVariables": None, "body": None, "isBase64Encoded": False,
            "requestContext": {"resourcePath": resource, "path": "/api" + path, "stage": "api",
                               "httpMethod": "GET", "requestId": "apigw-req-1", "identity": {"sourceIp": "203.0.113.9"}},
        }

    with mock_aws():
        dynamodb = boto3.resource("dynamodb", region_name="us-east-1")
        boto3.client("ssm", region_name="us-east-1").put_parameter(
            Name=os.environ["SIGNING_SECRET_PARAMETER"], Value="whsec_" + "QUJDREVGR0hJSktMTU5PUA==", Type="SecureString")
        import app as app_module
        from chalicelib.web import templates as rendering
        from chalicelib.clock import system_clock
        from chalicelib.domain.model import Campaign, County, Homepage, Merchant, Pick, Text
        from chalicelib.releases.publishing import Publisher
        from chalicelib.store.releases import ReleaseStore
        from chalicelib.store.table import Table, create_table

        table = create_table(dynamodb, os.environ["TABLE_NAME"])
        now = datetime.now(timezone.utc)
        pick = Pick(sku="EGG-0017", name=Text({"zh-CN": "散养鸡蛋 30枚", "en": "Cage-free eggs, 30"}), price_fen=3990,
                    merchant=Merchant("m-0042", Text({"zh-CN": "合作社", "en": "Cooperative"})),
                    county=County("511902", Text({"zh-CN": "巴州区", "en": "Bazhou District"})),
                    image="/static/placeholder.svg")
        campaign = Campaign(id="zip-check", kind="featured", title=Text({"zh-CN": "打包检查", "en": "Package check"}),
                            timezone="Asia/Shanghai", starts_at=now - timedelta(days=1), ends_at=now + timedelta(days=1),
                            products=(pick,), homepage=Homepage(1, ()))
        Publisher(ReleaseStore(Table(table)), system_clock).publish([campaign])

        page = app_module.app(api_event("/campaigns/{campaign_id}", "/campaigns/zip-check",
                                        {"campaign_id": "zip-check"}, {"lang": "en"}), Context())
        body = page["body"]
        static_urls = sorted(set(re.findall(r'(?:href|src)="(/api/static/[^"?#]+)"', body)))
        statics = {}
        for url in static_urls:
            name = url.rsplit("/", 1)[1]
            response = app_module.app(api_event("/static/{name}", "/static/" + name, {"name": name}), Context())
            statics[url] = [response["statusCode"], response["headers"].get("Content-Type")]

    ours = [m.__file__ for m in list(sys.modules.values())
            if getattr(m, "__file__", None) and m.__file__.startswith(repo + os.sep)
            and not m.__file__.startswith(os.path.join(repo, ".venv") + os.sep)]
    import chalicelib, jinja2, aws_lambda_powertools
    print(json.dumps({
        "status": page["statusCode"],
        "content_type": page["headers"]["Content-Type"],
        "body": body,
        "statics": statics,
        "app_file": app_module.__file__,
        "chalicelib_file": chalicelib.__file__,
        "templates_dir": str(rendering.TEMPLATES_DIR),
        "jinja2_file": jinja2.__file__,
        "powertools_file": aws_lambda_powertools.__file__,
        "loaded_from_repo": ours,
        "repo_on_path": [p for p in sys.path if p in (repo, "")],
    }))
    '''
)


@pytest.fixture(scope="session")
def run_from_zip(built, tmp_path_factory):
    """Unzip the dev package into an empty folder and render a live campaign page from it."""
    _, _, out = built["dev"]
    unzipped = tmp_path_factory.mktemp("unzipped")
    assert list(unzipped.iterdir()) == []
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        archive.extractall(unzipped)
    script = tmp_path_factory.mktemp("script") / "run_from_zip.py"
    script.write_text(RUN_FROM_ZIP, encoding="utf-8")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        # The package first, then the venv's site-packages for moto and boto3 (which Lambda provides).
        # -S keeps site's .pth files (the editable install of this repo) out.
        "PYTHONPATH": os.pathsep.join([str(unzipped), SITE_PACKAGES]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        **{k: v for k, v in stage_env("dev").items()},
        "LOG_LEVEL": "DEBUG",  # one line per request (at INFO, only 5xx and slow ones: docs/runbook.md)
    }
    result = subprocess.run(
        [sys.executable, "-S", str(script), str(ROOT)], cwd=unzipped, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-4000:]
    lines = result.stdout.strip().splitlines()
    return unzipped, json.loads(lines[-1]), [json.loads(line) for line in lines[:-1] if line.startswith("{")]


def test_the_app_from_the_unzipped_package_renders_a_live_page_with_the_repository_out_of_reach(run_from_zip):
    unzipped, result, _ = run_from_zip
    base = str(unzipped) + os.sep
    assert result["repo_on_path"] == []
    assert result["loaded_from_repo"] == []
    for key in ("app_file", "chalicelib_file", "templates_dir", "jinja2_file", "powertools_file"):
        assert result[key].startswith(base), (key, result[key])
    assert result["templates_dir"] == str(unzipped / "templates")
    assert result["status"] == 200
    assert result["content_type"] == "text/html; charset=utf-8"
    assert "Package check" in result["body"]
    assert "Cage-free eggs, 30" in result["body"]
    assert "¥39.90" in result["body"]


def test_links_and_static_urls_keep_the_api_stage_prefix(run_from_zip):
    _, result, _ = run_from_zip
    body = result["body"]
    local_urls = re.findall(r'(?:href|src|action)="(/[^"]*)"', body)
    assert local_urls, "the page links nowhere"
    assert [u for u in local_urls if not u.startswith("/api/")] == []
    assert any(u.startswith("/api/?") or u == "/api/" for u in local_urls), local_urls  # home
    assert result["statics"], "the page loads no static file"
    for url, (status, content_type) in result["statics"].items():
        assert status == 200, url
        assert content_type.split(";")[0] in ("text/css", "text/javascript", "image/svg+xml"), (url, content_type)


def test_the_packaged_app_logs_json_and_emits_emf_to_stdout(run_from_zip):
    _, _, lines = run_from_zip
    requests = [line for line in lines if line.get("message") == "request"]
    request, *statics = requests
    assert statics and all("campaign_id" not in line and line["route"] == "/static/{name}" for line in statics)
    assert (request["request_id"], request["lambda_request_id"]) == ("apigw-req-1", "0f9b6b1e-lambda-request")
    assert (request["campaign_id"], request["status"], request["path"]) == ("zip-check", 200, "/api/campaigns/zip-check")
    views = [line for line in lines if "_aws" in line and "PageViews" in line]
    assert [(v["stage"], v["page"], v["state"], v["PageViews"]) for v in views] == [("dev", "campaign", "live", [1.0])]


# ------------------------------------------------------------------ import-time budget


IMPORT_TRAP = textwrap.dedent(
    r'''
    """Import the app with the environment and boto3 trapped: module-level code may touch neither."""
    import os, sys
    from collections.abc import MutableMapping

    # The dependencies' own import-time work is theirs: import them before the trap.
    import boto3, botocore.session, chalice, jinja2, zoneinfo, json, decimal, logging  # noqa: F401

    class Trapped(Exception):
        pass

    class TrappedEnviron(MutableMapping):
        def _trip(self, *args):
            raise Trapped(f"os.environ read at import time: {args!r}")
        __getitem__ = __setitem__ = __delitem__ = __iter__ = __len__ = __contains__ = _trip
        def get(self, *args):
            self._trip(*args)
        def copy(self):
            self._trip("copy")

    def trapped_boto(*args, **kwargs):
        raise Trapped(f"boto3 used at import time: {args!r}")

    os.environ = TrappedEnviron()
    boto3.client = boto3.resource = boto3.Session = trapped_boto
    botocore.session.get_session = botocore.session.Session = trapped_boto

    import app  # noqa: F401
    print("imported", len(app.app.routes), "routes")
    '''
)


def test_importing_the_app_reads_no_environment_and_creates_no_boto3_client(tmp_path):
    script = tmp_path / "trap.py"
    script.write_text(IMPORT_TRAP, encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([sys.executable, str(script)], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.startswith("imported ")
    assert int(result.stdout.split()[1]) >= 6


def test_the_import_trap_does_trip_on_module_level_env_reads(tmp_path):
    """The trap is not vacuous: a module that reads the environment at import fails it."""
    (tmp_path / "app.py").write_text("import os\nTABLE = os.environ.get('TABLE_NAME')\n", encoding="utf-8")
    script = tmp_path / "trap.py"
    script.write_text(IMPORT_TRAP, encoding="utf-8")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(tmp_path), "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run([sys.executable, str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Trapped: os.environ read at import time: ('TABLE_NAME',)" in result.stderr
