"""JSON logs and EMF metrics, through the Chalice test client against moto.

Each test hands in an :class:`Observability` that appends EMF lines to a list
and writes logs to a StringIO, then reads them back as JSON.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

import pytest

from chalicelib import wiring
from chalicelib.observability import NAMESPACE, SERVICE, Observability
from chalicelib.releases.catalog import StoreCatalog
from chalicelib.settings import Settings
from tests.factories import campaign, local
from tests.faults import DownStore
from tests.logs import deployed_observability


class Captured:
    """Logs at DEBUG, so every request's line is there (a deployed stage with ``LOG_LEVEL=DEBUG``)."""

    def __init__(self, log_level: str = "DEBUG", slow_request_ms: float = 1000.0, **options: Any) -> None:
        self.emf_lines: list[str] = []
        self.log_stream = io.StringIO()
        self.obs = Observability(
            "test",
            emit=self.emf_lines.append,
            log_stream=self.log_stream,
            log_level=log_level,
            slow_request_ms=slow_request_ms,
            **options,
        )

    @property
    def emf(self) -> list[dict]:
        return [json.loads(line) for line in self.emf_lines]

    @property
    def logs(self) -> list[dict]:
        return [json.loads(line) for line in self.log_stream.getvalue().splitlines() if line.strip()]

    def metric(self, name: str, **dimensions: str) -> list[float]:
        """The values of ``name`` in documents whose dimensions include ``dimensions``."""
        values: list[float] = []
        for doc in self.emf:
            if name in doc and all(doc.get(k) == v for k, v in dimensions.items()):
                value = doc[name]
                values.extend(value if isinstance(value, list) else [value])
        return values


@pytest.fixture
def captured(services):
    cap = Captured()
    services.observability = cap.obs
    return cap


def emf_shape(doc: dict) -> tuple[str, list[list[str]], list[tuple[str, str]]]:
    directive = doc["_aws"]["CloudWatchMetrics"][0]
    return directive["Namespace"], directive["Dimensions"], [(m["Name"], m["Unit"]) for m in directive["Metrics"]]


def test_a_live_campaign_page_counts_one_view_by_state_and_logs_the_request(client, publish, clock, captured):
    publish(campaign())
    clock.set(local(2026, 10, 17, 9))
    response = client.http.get("/campaigns/poverty-day-2026")
    assert response.status_code == 200

    [doc] = captured.emf
    namespace, dimensions, metrics = emf_shape(doc)
    assert namespace == NAMESPACE == "CampaignPlatform"
    assert sorted(dimensions[0]) == ["page", "service", "stage", "state"]
    assert metrics == [("PageViews", "Count")]
    assert (doc["service"], doc["stage"], doc["page"], doc["state"], doc["PageViews"]) == (
        SERVICE,
        "test",
        "campaign",
        "live",
        [1.0],
    )

    [line] = [entry for entry in captured.logs if entry["message"] == "request"]
    assert line["level"] == "DEBUG"  # a healthy request: see test_at_info_only_failed_or_slow_requests_are_logged
    assert line["service"] == "campaign-platform"
    assert line["campaign_id"] == "poverty-day-2026"
    assert line["status"] == 200
    assert line["route"] == "/campaigns/{campaign_id}"
    assert line["method"] == "GET"
    # chalice's local context has no API Gateway request id: the Lambda request id stands in.
    assert line["request_id"] == line["lambda_request_id"]
    assert len(line["request_id"]) == 36
    assert line["correlation_id"] == line["request_id"]
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0


@pytest.mark.parametrize(
    ("at", "path", "page", "state"),
    [
        (local(2026, 10, 12), "/api/campaigns/poverty-day-2026", "campaign", "teaser"),
        (local(2026, 10, 18), "/campaigns/poverty-day-2026", "campaign", "ended"),
        (local(2026, 10, 1), "/campaigns/poverty-day-2026", "campaign", "not_found"),
        (local(2026, 10, 17), "/campaigns/no-such-campaign", "campaign", "not_found"),
        (local(2026, 10, 17), "/", "homepage", "ok"),
        (local(2026, 10, 17), "/api/homepage", "homepage", "ok"),
        (local(2026, 10, 17), "/charity", "charity", "ok"),
    ],
)
def test_page_views_carry_the_page_and_its_state(client, publish, clock, captured, at, path, page, state):
    publish(campaign())
    clock.set(at)
    client.http.get(path)
    assert captured.metric("PageViews", page=page, state=state) == [1.0]
    assert len(captured.emf) == 1


def test_metrics_are_flushed_per_invocation_not_accumulated(client, publish, clock, captured):
    publish(campaign())
    clock.set(local(2026, 10, 17, 9))
    for _ in range(3):
        client.http.get("/campaigns/poverty-day-2026")
    # Three invocations, three EMF documents of one view each.
    assert captured.metric("PageViews", state="live") == [1.0, 1.0, 1.0]
    assert len(captured.emf) == 3


class Monotonic:
    """A monotonic clock that moves only when told (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def every_10_s(services):
    """A deployed stage's observability flushing metrics every 10 s on a clock the test moves."""
    monotonic = Monotonic()
    cap = Captured(metrics_flush_s=10, monotonic=monotonic)
    services.observability = cap.obs
    return cap, monotonic


def test_with_an_interval_the_first_request_flushes_then_one_line_holds_the_interval(client, publish, clock, every_10_s):
    cap, monotonic = every_10_s
    publish(campaign())
    clock.set(local(2026, 10, 17, 9))
    page = "/campaigns/poverty-day-2026"
    client.http.get(page)  # a new container flushes its first request at once
    assert [doc["PageViews"] for doc in cap.emf] == [[1.0]]
    for step in (1.0, 4.0, 4.9):  # 9.9 s after the first flush: nothing due
        monotonic.now += step
        client.http.get(page)
    assert len(cap.emf) == 1
    monotonic.now += 0.1  # 10 s: due; the held views go out with this request's
    client.http.get(page)
    assert [doc["PageViews"] for doc in cap.emf] == [[1.0], [1.0, 1.0, 1.0, 1.0]]
    client.http.get(page)  # the next interval starts at that flush
    assert len(cap.emf) == 2
    assert cap.obs.flush() == 1  # what is held is never lost to an explicit flush
    assert sum(cap.metric("PageViews", state="live")) == 6.0


def test_with_an_interval_a_scheduled_rotation_flushes_at_once(client, publish, clock, every_10_s):
    cap, monotonic = every_10_s
    publish(campaign())
    clock.set(local(2026, 10, 17, 9))
    client.http.get("/campaigns/poverty-day-2026")
    client.http.get("/campaigns/poverty-day-2026")  # held: 0 s into the interval
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
    client.lambda_.invoke("rotate_homepage", event)
    assert cap.metric("Rotations", outcome="written") == [1.0]
    assert cap.metric("PageViews", state="live") == [1.0, 1.0]  # the held view went out with the rotation's


def test_a_metric_is_flushed_when_it_holds_the_emf_limit_of_100_values(every_10_s):
    cap, _ = every_10_s
    cap.obs.flush_if_due()  # the first flush: the interval starts
    for amount in range(1, 251):
        cap.obs.add("SalesAmountFen", "None", amount, kind="charity_sale")
    assert [len(doc["SalesAmountFen"]) for doc in cap.emf] == [100, 100]
    assert cap.obs.flush_if_due() == 0
    assert cap.obs.flush() == 1
    assert cap.metric("SalesAmountFen", kind="charity_sale") == [float(n) for n in range(1, 251)]
    assert sum(cap.metric("SalesAmountFen")) == 250 * 251 / 2  # every fen, once


def test_an_emf_line_is_stamped_with_the_wall_time_of_its_first_value(services):
    wall = [time.time() - 7.0]
    cap = Captured(metrics_flush_s=10, monotonic=Monotonic(), wall=lambda: wall[0])
    cap.obs.add("Refunds", "Count", 1)
    first = wall[0]
    wall[0] += 7.0
    cap.obs.add("Refunds", "Count", 1)
    cap.obs.flush()
    [doc] = cap.emf
    assert doc["_aws"]["Timestamp"] == int(first * 1000)
    assert doc["Refunds"] == [1.0, 1.0]


def test_bad_metrics_are_refused_as_powertools_refuses_them(every_10_s):
    from aws_lambda_powertools.metrics.exceptions import MetricUnitError, MetricValueError

    cap, _ = every_10_s
    with pytest.raises(MetricUnitError):
        cap.obs.add("PageViews", "Furlongs", 1, page="campaign", state="live")
    cap.obs.add("PageViews", "Count", 1, page="campaign", state="live")
    with pytest.raises(MetricValueError):
        cap.obs.add("PageViews", "Count", "1", page="campaign", state="live")  # type: ignore[arg-type]
    assert cap.obs.flush() == 1
    assert cap.metric("PageViews") == [1.0]


@pytest.mark.parametrize(("slow_request_ms", "expected"), [(1000.0, []), (0.0, [("WARNING", 200)])])
def test_at_info_only_failed_or_slow_requests_are_logged(client, publish, clock, services, slow_request_ms, expected):
    """The deployed default (INFO): a healthy request writes no line (the per-request cost docs/scale.md weighs),
    a slow one (here every one, with a 0 ms threshold) writes a WARNING, and so does a 5xx."""
    cap = Captured(log_level="INFO", slow_request_ms=slow_request_ms)
    services.observability = cap.obs
    try:
        publish(campaign())
        clock.set(local(2026, 10, 17, 9))
        assert client.http.get("/campaigns/poverty-day-2026").status_code == 200
        assert [(line["level"], line["status"]) for line in cap.logs if line["message"] == "request"] == expected
        assert cap.metric("PageViews", state="live") == [1.0]  # counted either way

        cap.log_stream.truncate(0)
        cap.log_stream.seek(0)
        services.catalog = StoreCatalog(DownStore(), DownStore())  # a cold container, DynamoDB down
        assert client.http.get("/campaigns/poverty-day-2026").status_code == 503
        lines = [(line["level"], line["status"]) for line in cap.logs if line["message"] == "request"]
        assert lines == [("WARNING", 503)]
    finally:
        services.observability = Observability.for_stage("local")


def test_a_static_file_logs_but_counts_no_page_view(client, captured):
    response = client.http.get("/static/no-such-file.css")
    assert response.status_code == 404
    assert captured.emf == []
    [line] = [entry for entry in captured.logs if entry["message"] == "request"]
    assert line["status"] == 404


def test_the_scheduled_rotation_records_its_outcome(client, publish, clock, captured):
    publish(campaign())
    clock.set(local(2026, 10, 17, 9))
    event = client.events.generate_cw_event(
        source="aws.events", detail_type="Scheduled Event", detail={}, resources=["arn:aws:events:us-east-1:1:rule/r"]
    )
    client.lambda_.invoke("rotate_homepage", event)
    assert captured.metric("Rotations", outcome="written") == [1.0]
    assert captured.metric("RotationSlots", outcome="written") == [3.0]
    [line] = [entry for entry in captured.logs if entry["message"] == "invocation"]
    assert line["event"] == "scheduled"
    assert line["rule"] == "arn:aws:events:us-east-1:1:rule/r"
    assert line["result"]["rotation"] == 1


def test_a_failing_rotation_is_counted_logged_and_still_flushed(table, clock, captured):
    import boto3
    from chalice.test import Client

    from app import app
    from tests.conftest import ROOT

    missing = boto3.resource("dynamodb", region_name="us-east-1").Table("no-such-table")
    wiring.configure(wiring.build(Settings(table_name="no-such-table"), clock, missing, observability=captured.obs))
    try:
        with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
            event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={}, resources=[])
            with pytest.raises(Exception) as raised:
                client.lambda_.invoke("rotate_homepage", event)
    finally:
        wiring.configure(None)
    assert type(raised.value).__name__ == "StoreUnavailable"
    assert captured.metric("Rotations", outcome="failed") == [1.0]
    assert captured.metric("InvocationErrors", event="scheduled") == [1.0]
    [line] = [entry for entry in captured.logs if entry["message"] == "unhandled error"]
    assert line["level"] == "ERROR"
    assert "StoreUnavailable" in line["exception"]


def test_the_donation_functions_write_exact_fen_amounts(captured):
    obs = captured.obs
    obs.sale("charity_sale", amount_fen=110_000_00, donation_fen=5_995_00)
    obs.sale("featured", amount_fen=39_90, donation_fen=0)
    obs.refund(amount_fen=10_00, donation_reversed_fen=55)
    obs.point_donation(points=1234, amount_fen=12_34)
    obs.system_request("sales", 201)
    # One EMF line per set of dimensions: kind=charity_sale, kind=featured, source=sale,
    # source=points, route+status, and none (refund and point counters).
    assert captured.obs.flush() == 6
    assert captured.metric("SalesRecorded", kind="charity_sale") == [1.0]
    assert captured.metric("SalesAmountFen", kind="charity_sale") == [11_000_000.0]
    assert captured.metric("SalesAmountFen", kind="featured") == [3990.0]
    assert captured.metric("DonationsFen", source="sale") == [599_500.0]  # the featured sale donated nothing
    assert captured.metric("DonationsFen", source="points") == [1234.0]
    assert captured.metric("DonationsReversedFen") == [55.0]
    assert captured.metric("PointsDonated") == [1234.0]
    assert captured.metric("SystemRequests", route="sales", status="201") == [1.0]
    assert captured.obs.flush() == 0  # nothing twice


def test_the_local_stage_drops_metrics_and_keeps_quiet():
    obs = Observability.for_stage("local")
    obs.add("PageViews", "Count", 1, page="campaign", state="live")
    assert obs.flush() == 0
    assert Observability.for_stage("prod")._emit is not None


def test_bind_adds_keys_to_the_rest_of_the_invocation_only(captured):
    captured.obs.begin(request_id="r-1")
    captured.obs.bind(campaign_id="bazhong-pork-charity", order_id=None)
    captured.obs.logger().info("sale recorded")
    captured.obs.begin(request_id="r-2")
    captured.obs.logger().info("next request")
    first, second = captured.logs
    assert (first["request_id"], first["campaign_id"]) == ("r-1", "bazhong-pork-charity")
    assert "order_id" not in first
    assert second["request_id"] == "r-2"
    assert "campaign_id" not in second


def test_on_deployed_stages_chalicelib_logs_are_json_too(monkeypatch, services):
    import logging

    obs, stream = deployed_observability(monkeypatch, services)
    obs.begin(request_id="r-9", campaign_id="poverty-day-2026")
    logging.getLogger("chalicelib.web.http").error("request failed: %s", "store_unavailable")
    [line] = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert (line["level"], line["name"], line["message"]) == ("ERROR", "chalicelib.web.http", "request failed: store_unavailable")
    assert (line["request_id"], line["campaign_id"]) == ("r-9", "poverty-day-2026")
