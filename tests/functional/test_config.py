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
    lines = [l.split("==")[0].strip().lower() for l in (ROOT / "requirements.txt").read_text().splitlines() if l.strip() and not l.startswith("#")]
    assert lines == ["jinja2", "tzdata"]
