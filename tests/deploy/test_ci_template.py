"""The CI template for the campaigns repository runs commands that exist."""

import shlex

import yaml

from campaign_tools.cli import build_parser
from tests.conftest import ROOT


def test_every_campaign_command_in_the_workflow_and_hook_parses():
    workflow = yaml.safe_load((ROOT / "docs" / "ci" / "campaigns.yml").read_text())
    commands = [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    commands += [hook["entry"] for hook in hooks]
    campaign_commands = [shlex.split(c)[1:] for c in commands if c.startswith("campaign ")]
    assert [c[0] for c in campaign_commands] == ["validate", "plan", "publish", "validate"]
    parser = build_parser()
    for argv in campaign_commands:
        parser.parse_args(argv)
