"""The measured inputs of docs/scale.md: handler time, DynamoDB requests and bytes per view.

Run: ``.venv/bin/python tools/scale_figures.py``. No AWS: moto's in-process
DynamoDB (``mock_aws``), the real ``campaigns/`` published into it, and the
Chalice test client driving ``app.py`` with the request instant at
2026-10-17 09:00 (Asia/Shanghai), when ``poverty-day-2026`` (24 products) is live.

Prints one line per figure. The handler times are of this machine's one core;
docs/scale.md scales them to Lambda's CPU share.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

for _name, _value in {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}.items():
    os.environ[_name] = _value
os.environ.pop("AWS_ENDPOINT_URL_DYNAMODB", None)

WARM_REQUESTS = 300


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> int:
    import boto3
    from chalice.test import Client
    from moto import mock_aws

    from campaign_tools.authoring.campaign_yaml import validate_paths
    from chalicelib import observability, wiring
    from chalicelib.clock import FixedClock
    from chalicelib.settings import Settings
    from chalicelib.store.keys import RELEASE_KEY, ROTATION_KEY
    from chalicelib.store.table import create_table

    at = datetime(2026, 10, 17, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai
    result = validate_paths([ROOT / "campaigns"])
    campaigns = list(result.campaigns)
    with mock_aws():
        table = create_table(boto3.resource("dynamodb", region_name="us-east-1"), "campaign-platform-figures")
        clock = FixedClock(at)
        built = wiring.build(Settings(table_name="campaign-platform-figures"), clock, table)
        built.publisher().publish(campaigns)
        built.rotation_job.run(at)
        door = built.table
        calls: list[str] = []
        table.meta.client.meta.events.register("before-call.dynamodb.*", lambda model, **_: calls.append(model.name))

        release_item = door.get(RELEASE_KEY)
        rotation_item = door.get(ROTATION_KEY)
        size = lambda item: len(json.dumps({k: str(v) for k, v in item.items()}, ensure_ascii=False).encode())  # noqa: E731
        print(f"campaigns published: {len(campaigns)}")
        print(f"item RELEASE/CURRENT: ~{size(release_item) / 1024:.1f} KiB")
        print(f"item ROTATION/CURRENT: ~{size(rotation_item) / 1024:.1f} KiB")

        emf: list[str] = []
        logs = io.StringIO()
        from app import app

        for label, obs in (
            ("logs+metrics on (prod)", observability.Observability("prod", emit=emf.append, log_stream=logs)),
            ("logs+metrics off (local)", observability.Observability.for_stage("local")),
        ):
            for path in ("/campaigns/poverty-day-2026", "/api/campaigns/poverty-day-2026", "/"):
                wiring.configure(wiring.build(Settings(table_name="campaign-platform-figures"), clock, table, observability=obs))
                with Client(app, stage_name="local", project_dir=str(ROOT)) as client:
                    calls.clear()
                    started = time.perf_counter()
                    first = client.http.get(path)
                    cold_ms = (time.perf_counter() - started) * 1000
                    cold_calls = list(calls)
                    calls.clear()
                    times = []
                    for _ in range(WARM_REQUESTS):
                        started = time.perf_counter()
                        response = client.http.get(path)
                        times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (path, response.status_code)
                    body = response.body if isinstance(response.body, bytes) else response.body.encode()
                    print(
                        f"{label:<26} GET {path:<34} first (container cold, templates compiled) {cold_ms:6.1f} ms "
                        f"{len(cold_calls)} DynamoDB {cold_calls}; warm median {statistics.median(times):5.2f} ms "
                        f"p95 {_percentile(times, 0.95):5.2f} ms over {WARM_REQUESTS}, {len(calls)} DynamoDB calls; "
                        f"body {len(body) / 1024:.1f} KiB, gzip {len(gzip.compress(body)) / 1024:.1f} KiB; "
                        f"Cache-Control: {first.headers.get('Cache-Control')}"
                    )
        wiring.configure(None)
    log_lines = [line for line in logs.getvalue().splitlines() if line.strip()]
    requests = [line for line in log_lines if '"message":"request"' in line]
    print(
        f"log line per request: {statistics.median(len(line.encode()) + 1 for line in requests):.0f} bytes (median of {len(requests)})"
    )
    print(f"EMF line per page view: {statistics.median(len(line.encode()) + 1 for line in emf):.0f} bytes (median of {len(emf)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
