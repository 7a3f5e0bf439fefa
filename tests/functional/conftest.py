from __future__ import annotations

import pytest

from chalicelib import wiring
from chalicelib.settings import Settings
from tests.conftest import ROOT, TABLE


class _Every:
    """Contains every campaign id: ``allow=EVERY_CAMPAIGN`` lets a setup publish make any change."""

    def __contains__(self, campaign_id: object) -> bool:
        return True


EVERY_CAMPAIGN = _Every()


@pytest.fixture
def services(table, clock):
    svc = wiring.build(Settings(table_name=TABLE), clock, table)
    wiring.configure(svc)
    yield svc
    wiring.configure(None)


@pytest.fixture
def client(services):
    from chalice.test import Client

    from app import app

    with Client(app, stage_name="local", project_dir=str(ROOT)) as c:
        yield c


@pytest.fixture
def publish(table, clock):
    """Publish ``campaigns`` as a test's setup: risky changes are allowed (test_publish.py tests the refusals)."""

    def _publish(*campaigns):
        return wiring.build(Settings(table_name=TABLE), clock, table).publisher().publish(list(campaigns), allow=EVERY_CAMPAIGN)

    return _publish
