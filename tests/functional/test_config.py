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
