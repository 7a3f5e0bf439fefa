"""The project's configuration holds together."""

import json

from tests.conftest import ROOT


def test_schedule_rate_equals_every_stage_rotation_minutes():
    import app

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    stages = config["stages"]
    assert set(stages) == {"local", "dev", "prod"}
    for name, stage in stages.items():
        env = {**config.get("environment_variables", {}), **stage.get("environment_variables", {})}
        assert int(env["ROTATION_MINUTES"]) == app.ROTATION_RATE_MINUTES, name


def test_every_stage_environment_is_valid_settings_and_deployed_stages_flush_metrics_every_10_s(table):
    from chalicelib.observability import Observability
    from chalicelib.settings import Settings
    from chalicelib.wiring import build

    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    for name, stage in config["stages"].items():
        settings = Settings.from_env({**config["environment_variables"], **stage["environment_variables"]})
        assert settings.stage == name
        assert settings.metrics_flush_s == 10, name
        obs = build(settings, table=table).observability
        assert isinstance(obs, Observability)
        # The local stage drops metrics; a deployed stage flushes them on the stage's interval.
        assert (obs._emit is None, obs.metrics_flush_s) == ((True, 0) if name == "local" else (False, 10)), name


def test_the_app_serves_text_only_and_declares_no_binary_media_types():
    import app
    from chalicelib.web.assets import TYPES
    from chalicelib.web.pages.sitemap import TEXT, XML
    from chalicelib.web.response import HTML, JSON

    # A response of a binary type would need its type here (Chalice base64-encodes it, and
    # API Gateway's x-amazon-apigateway-binary-media-types is this list).
    assert app.app.api.binary_types == []
    served = {HTML, JSON, XML, TEXT, *TYPES.values()}
    assert all(t.startswith(("text/", "application/json", "application/xml", "image/svg+xml")) for t in served), served


def test_lambda_requirements_hold_only_runtime_imports():
    lines = [
        line.split("==")[0].strip().lower()
        for line in (ROOT / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert {"jinja2", "tzdata", "aws-lambda-powertools"} <= set(lines)
    assert "standardwebhooks" in lines  # the signed system webhooks (chalicelib/signing.py)
    # boto3 comes with the Lambda runtime; YAML, moto and test tooling never ship.
    assert not set(lines) & {"boto3", "botocore", "pyyaml", "moto", "pytest", "cfn-lint"}


def test_dynamodb_clients_retry_throttling_in_standard_mode_with_bounded_attempts(aws_env):
    from chalicelib.settings import Settings
    from chalicelib.wiring import dynamodb_resource

    config = dynamodb_resource(Settings()).meta.client.meta.config
    assert config.retries == {"mode": "standard", "total_max_attempts": 3}
    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    from chalicelib.books.service import LEDGER_SHARDS

    assert config.max_pool_connections == LEDGER_SHARDS == 32  # a ledger page's queries at once, each pooled
