"""Shared fixtures: a frozen clock, moto's in-process DynamoDB, the wired app."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from chalicelib.clock import FixedClock  # noqa: E402

TABLE = "campaign-platform-test"


@pytest.fixture
def aws_env(monkeypatch):
    """Fake credentials and a region, so nothing can reach a real account."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL_DYNAMODB", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)


@pytest.fixture
def table(aws_env):
    """A fresh table in moto's in-process DynamoDB (state wiped on exit)."""
    import boto3
    from moto import mock_aws

    from chalicelib.store.table import create_table

    with mock_aws():
        yield create_table(boto3.resource("dynamodb", region_name="us-east-1"), TABLE)


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 10, 17, 1, 0, tzinfo=UTC))


class RequestCounter:
    """Counts DynamoDB API calls through botocore's event hooks."""

    def __init__(self, client):
        self.calls: list[str] = []
        client.meta.events.register("before-call.dynamodb.*", self._on_call)

    def _on_call(self, model, **kwargs):
        self.calls.append(model.name)

    def reset(self):
        self.calls.clear()

    def take(self) -> list[str]:
        """The calls since the last take (or reset), oldest first; then none are kept."""
        calls, self.calls = self.calls, []
        return calls

    def count(self, *names: str) -> int:
        return sum(1 for c in self.calls if not names or c in names)

    @property
    def writes(self) -> int:
        return self.count("PutItem", "BatchWriteItem", "TransactWriteItems", "UpdateItem", "DeleteItem")


@pytest.fixture
def counter(table):
    return RequestCounter(table.meta.client)
