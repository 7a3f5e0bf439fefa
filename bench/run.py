"""`make bench`: the platform's costs, each as a ratio to a floor measured in the same run.

Prints one table and writes BENCHMARKS.md (machine, date, figures). Absolute
times on a shared machine drift; the ratios are what to compare between runs.

Sections
--------
1. Handler overhead: a bare Chalice hello-world route (the floor) against the
   warm campaign page (24 products) and the warm homepage through the full
   handler (an API Gateway event in, a response out). Jinja2 render time and
   the one-off template compile are reported on their own.
2. Cold start: importing ``app`` in fresh processes against a bare Chalice app
   that imports boto3 and jinja2 (the unavoidable floor).
3. DynamoDB requests per request, counted with botocore's event hooks;
   `campaign validate` per file on the real campaigns and on hostile files near
   the 1 MiB limit (budget: 2 s a file).
4. Scale curves: rotation with 100 / 1,000 / 10,000 live picks; publish of
   10 / 100 / 1,000 campaigns (and the writes of an unchanged re-publish);
   a ledger page with 10 and 10,000 donations recorded.
5. A load run: threads send a fixed mix (90 % campaign pages, 9 % homepage,
   1 % signed sales) at the local stack (``campaign serve``'s LocalStack, in
   this process so its DynamoDB requests can be counted).
6. Deadlines: DynamoDB hangs (a TCP listener that accepts and never answers,
   in front of moto's server until the hang starts); each route's time to
   answer through the real SDK, as a ratio to its budget (docs/resilience.md).
   ``python bench/run.py --deadlines`` runs this section alone (about 15 s).
7. Charity reads: DynamoDB requests of a charity page (HTML and JSON) and of
   ``/charity`` with 1 and 5 charity sales in a cold container, counted, each
   against the layout before the one-request page rebuilt in the same run (256
   counter shards read after the page's batch, ``/charity`` a sale at a time).
8. Ledger latency: the uncached ledger page on a table whose every request
   takes 20 ms, its shard queries on 32 threads (now), 8 (before) and 1, in
   round trips of that latency. ``python bench/run.py --charity`` runs 7 and 8
   alone (about 15 s).

The embedded DynamoDB is moto's server on a free loopback port.
"""

from __future__ import annotations

import functools
import io
import json
import operator
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import RequestCounter  # noqa: E402  (the tests' request counter, after the path is set)
from tests.local_stack import free_port  # noqa: E402

ROWS: list[tuple[str, str, str, str]] = []  # section, measure, value, ratio / note


def row(section: str, measure: str, value: str, note: str = "") -> None:
    ROWS.append((section, measure, value, note))
    print(f"{section:<12} {measure:<58} {value:>14}  {note}", flush=True)


def best_per_call_s(fn, number: int, repeat: int = 5) -> float:
    """Best of ``repeat`` runs of ``number`` calls, per call, in seconds (timeit's advice)."""
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number


def best_of_rounds(calls: dict, number: int, rounds: int) -> dict:
    """Best seconds per call of each of ``calls`` (name -> function), measured in interleaved
    rounds of ``number`` calls, so a burst of load on a shared machine hits them all alike."""
    best = {name: float("inf") for name in calls}
    for _ in range(rounds):
        for name, fn in calls.items():
            started = time.perf_counter()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (time.perf_counter() - started) / number)
    return best


def us(seconds: float) -> str:
    return f"{seconds * 1e6:,.1f} µs"


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:,.2f} ms"


def growth(ratio: float, factor: int, what: str) -> str:
    """A curve's step in words: the ratio, its exponent (log ratio / log factor) and a verdict.

    Exponent 1 is linear. Up to 1.2 is called linear (timing noise on a shared machine).
    """
    import math

    exponent = math.log(ratio) / math.log(factor) if ratio > 0 else 0.0
    verdict = "sublinear" if exponent < 0.8 else "linear" if exponent <= 1.2 else "SUPERLINEAR (linear or better expected)"
    return f"x{ratio:.1f} for x{factor:,} {what}: exponent {exponent:.2f}, {verdict}"


def api_event(path: str, resource: str, params: dict | None = None, query: dict | None = None) -> dict:
    return {
        "resource": resource,
        "path": path,
        "httpMethod": "GET",
        "headers": {"accept": "text/html"},
        "multiValueQueryStringParameters": None if not query else {k: [v] for k, v in query.items()},
        "pathParameters": params,
        "stageVariables": None,
        "requestContext": {
            "httpMethod": "GET",
            "resourcePath": resource,
            "path": path,
            "stage": "api",
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": None,
        "isBase64Encoded": False,
    }


def bare_app():
    from chalice import Chalice

    hello = Chalice(app_name="hello")

    @hello.route("/")
    def index():
        return {"hello": "world"}

    return hello


def handler_section(table, clock) -> None:
    import app as app_module
    from campaign_tools.authoring.campaign_yaml import validate_paths
    from chalicelib import wiring
    from chalicelib.settings import Settings
    from chalicelib.web.templates import environment

    campaigns = validate_paths([ROOT / "campaigns"]).campaigns
    services = wiring.build(Settings(table_name=table.name), clock, table)
    services.publisher().publish(campaigns)
    services.rotation_job.run()
    wiring.configure(services)
    counter = RequestCounter(table.meta.client)

    hello = bare_app()
    hello_event = api_event("/", "/")
    page_event = api_event("/campaigns/poverty-day-2026", "/campaigns/{campaign_id}", {"campaign_id": "poverty-day-2026"})
    home_event = api_event("/", "/")

    counter.take()
    first = app_module.app(page_event, None)
    cold_page = counter.take()
    assert first["statusCode"] == 200, first
    app_module.app(page_event, None)
    warm_page = counter.take()
    wiring.configure(wiring.build(Settings(table_name=table.name), clock, table))  # another cold container
    app_module.app(home_event, None)
    cold_home = counter.take()
    app_module.app(home_event, None)
    warm_home = counter.take()
    wiring.configure(services)
    row(
        "requests",
        "campaign page, cold container (pointer + head, one batch)",
        str(len(cold_page)),
        ", ".join(cold_page) + "; <= 1 expected",
    )
    row("requests", "campaign page, warm", str(len(warm_page)), "0 expected")
    row(
        "requests",
        "homepage, cold container (pointer + rotation, one batch)",
        str(len(cold_home)),
        ", ".join(cold_home) + "; <= 1 expected",
    )
    row("requests", "homepage, warm", str(len(warm_home)), "0 expected")
    counter.take()
    services.rotation_job.run(clock() + timedelta(minutes=15))
    rotation_calls = counter.take()
    row(
        "requests",
        "one rotation",
        str(len(rotation_calls)),
        ", ".join(rotation_calls) + " (the Query pages, then 2 writes in one transaction)",
    )

    page_json = api_event("/api/campaigns/poverty-day-2026", "/api/campaigns/{campaign_id}", {"campaign_id": "poverty-day-2026"})
    home_json = api_event("/api/homepage", "/api/homepage")
    moving = clock()

    def page_moving_clock():  # a clock one second on at every request: the countdown is filled afresh
        nonlocal moving
        moving += timedelta(seconds=1)
        clock.set(moving)
        return app_module.app(page_event, None)

    from chalicelib import observability
    from tools.package import stage_environment

    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    deployed_settings = Settings.from_env(stage_environment(config, "prod"))  # LOG_LEVEL, METRICS_FLUSH_S
    flush_s = deployed_settings.metrics_flush_s
    sink = io.StringIO()  # the deployed stage's lines, thrown away (a StringIO: never closed under the log handler)

    def deployed_stage(metrics_flush_s: int) -> observability.Observability:
        return observability.Observability(
            "prod", emit=sink.write, log_stream=sink, log_level=deployed_settings.log_level, metrics_flush_s=metrics_flush_s
        )

    local_obs = wiring.services().observability

    def page(event):
        return lambda: app_module.app(event, None)

    # Sets of interleaved rounds, each on one stage's observability and with its own floor: the
    # process has one Powertools log handler, and moving it between the local stage's stream and
    # level and the deployed stage's (about 0.2 ms) would be charged to the round after the move.
    start = clock()
    rounds = {
        "local": (local_obs, {"page": page(page_event), "page json": page(page_json), "home": page(home_event)}),
        "deployed": (deployed_stage(flush_s), {"page, deployed": page(page_event), "home, deployed": page(home_event)}),
        "every request": (deployed_stage(0), {"page, deployed, flush every request": page(page_event)}),
    }
    rounds["local"][1].update({"home json": page(home_json), "page, moving clock": page_moving_clock})
    best = {}
    for stage, (obs, calls) in rounds.items():
        wiring.services().observability = obs
        best[stage] = best_of_rounds({"floor": lambda: hello(hello_event, None), **calls}, number=200, rounds=15)
    wiring.services().observability = local_obs
    clock.set(start)
    local_obs.logger()  # the shared log handler back on the local stage's stream
    floor = best["local"]["floor"]
    row("handler", "bare Chalice hello-world route (floor)", us(floor), "1.00x (rounds interleaved, best of each)")
    labels = {
        "page": "warm campaign page, 24 products, full handler",
        "page json": "warm campaign JSON, full handler",
        "home": "warm homepage, full handler",
        "home json": "warm homepage JSON, full handler",
        "page, moving clock": "warm campaign page, the clock 1 s on every request",
        "page, deployed": f"warm campaign page, deployed stage's logs and EMF metrics (flushed every {flush_s} s)",
        "home, deployed": f"warm homepage, deployed stage's logs and EMF metrics (flushed every {flush_s} s)",
        "page, deployed, flush every request": "warm campaign page, deployed stage, EMF metrics flushed every request",
    }
    for stage, times in best.items():
        stage_floor = times.pop("floor")
        if stage != "local":
            row("handler", f"bare Chalice hello-world route (floor of the {stage} rounds)", us(stage_floor), "1.00x")
        for name, seconds in times.items():
            target = "METRICS_FLUSH_S=0, for comparison" if name.endswith("flush every request") else "target <= 3x"
            row("handler", labels[name], us(seconds), f"{seconds / stage_floor:.2f}x floor ({target})")

    env = environment()
    template = env.get_template("campaign.html")
    from chalicelib.releases.catalog import YamlCatalog
    from chalicelib.web.pages import campaign as campaign_page
    from chalicelib.web.view import View

    uncached = YamlCatalog([services.catalog.campaign("poverty-day-2026")])  # no page cache: a render every call
    render = best_per_call_s(lambda: campaign_page.page(uncached, View.of(clock()), "poverty-day-2026"), 300)
    row("handler", "Jinja2 render of the campaign page alone", us(render), f"{render / floor:.2f}x floor")
    environment.cache_clear()
    start = time.perf_counter()
    environment().get_template("campaign.html")
    compile_s = time.perf_counter() - start
    row("handler", "template compile (once per container)", ms(compile_s), "first request only")
    del template
    wiring.configure(None)


def import_section() -> None:
    floor_src = "import boto3, jinja2\nfrom chalice import Chalice\napp = Chalice(app_name='floor')\n"
    with tempfile.TemporaryDirectory() as tmp:
        floor_file = Path(tmp) / "floor_app.py"
        floor_file.write_text(floor_src)

        def fresh(code: str, cwd: str) -> float:
            env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
            out = subprocess.run(
                [sys.executable, "-X", "importtime", "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
            )
            # the last line of -X importtime is the outermost import; its cumulative column is in µs
            lines = [line for line in out.stderr.splitlines() if line.startswith("import time:") and "|" in line]
            return int(lines[-1].split("|")[1]) / 1e6

        floors, ours = [], []
        for _ in range(7):
            floors.append(fresh("import floor_app", tmp))
            ours.append(fresh("import app", str(ROOT)))
    floor, own = statistics.median(floors), statistics.median(ours)
    row("cold start", "import a bare Chalice app + boto3 + jinja2 (floor)", ms(floor), "median of 7 fresh processes")
    row("cold start", "import app", ms(own), f"{own / floor:.2f}x floor (target <= 1.3x)")


def _libyaml_parse(text: str) -> None:
    """The floor of reading a file: libyaml's events for ``text``, nothing built (errors ignored),
    up to the validator's nesting bound of 50 (libyaml slows down quadratically with depth)."""
    import yaml

    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.CSafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > 50:
                    return
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass


def validate_section() -> None:
    """`campaign validate` (the CLI entry) per file, on the real campaigns and on hostile files
    near the 1 MiB limit: the issue's budget is 2 s a file. The note says which parser read
    the file (chalicelib/yaml_compose.py: libyaml, or PyYAML's pure parser where the two may differ)."""
    import contextlib

    from campaign_tools.authoring.yaml_compose import LIBYAML_ERRORS_FROM_CHARS, compose
    from campaign_tools.cli import main as cli
    from tests.yaml_inputs import products_campaign

    hostile = {
        "1 MiB of valid products": products_campaign("39.90"),
        "1 MiB of products, every price wrong": products_campaign("39.999"),
        "alias expansion (billion laughs)": "a: &a [x, x, x, x, x, x, x, x, x]\n"
        + "".join(
            f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
            for i in range(9)
        ),
        "nesting 300,000 deep": "x: " + "[" * 300_000 + "]" * 300_000 + "\n",
        "one 1 MiB line": "id: " + "x" * 1_000_000 + "\n",
        "1 MiB of products, an unclosed '[' at the end": products_campaign("39.90", 999_960) + "  - sku: [EGG-0017, POT\n",
    }
    files = {p.name: p.read_text(encoding="utf-8") for p in sorted((ROOT / "campaigns").glob("*.yaml"))}
    files.update(hostile)
    worst = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        for i, (label, text) in enumerate(files.items()):
            # The file name must equal the id: the real files keep theirs, the big ones are poverty-day-2026.
            path = Path(tmp) / str(i) / (label if label.endswith(".yaml") else "poverty-day-2026.yaml")
            path.parent.mkdir()
            path.write_text(text, encoding="utf-8")
            out, err = io.StringIO(), io.StringIO()
            floor = best_per_call_s(lambda text=text: _libyaml_parse(text), 1, repeat=3)
            started = time.perf_counter()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                status = cli(["validate", str(path)])
            took = time.perf_counter() - started
            worst = max(worst, took)
            errors = len(re.findall(r"^.+:\d+:\d+: error: ", err.getvalue(), re.MULTILINE))
            try:  # which parser read it (not timed): libyaml, or the pure parser where they may differ
                engine = compose(text.removeprefix("\ufeff")).engine
            except Exception:  # a YAML error: libyaml's own in a large file, else the pure parser's
                engine = "libyaml" if len(text) >= LIBYAML_ERRORS_FROM_CHARS else "pure"
            row(
                "validate",
                f"{label} ({len(text.encode()) // 1024} KiB)",
                ms(took),
                f"{took / floor:,.1f}x libyaml's bare parse ({ms(floor)}); exit {status}, {errors} error(s), read by {engine}",
            )
    row("validate", "slowest file", ms(worst), f"budget 2,000 ms a file (docs/yaml.md): {'within' if worst <= 2.0 else 'OVER'}")


def rotation_curve() -> None:
    from chalicelib.domain.model import Text
    from chalicelib.homepage.engine import HomepageEntry, RotationState, SlotPick, rotate

    at = datetime(2026, 10, 17, tzinfo=UTC)
    previous = None
    for picks in (100, 1_000, 10_000):
        per_campaign = 20
        entries = []
        for c in range(picks // per_campaign):
            cid = f"c{c:05d}"
            items = tuple(
                SlotPick(cid, f"{cid}-{i:03d}", Text({"zh-CN": "x"}), 100, "/static/egg.svg") for i in range(per_campaign)
            )
            entries.append(HomepageEntry(cid, 1 + c % 5, at, None, items, (items[0].sku,) if c < 2 else ()))
        seconds = best_per_call_s(lambda entries=entries: rotate(entries, 8, RotationState(), 1), 5, repeat=3)
        step = "" if previous is None else growth(seconds / previous, 10, "picks")
        row("scale", f"one rotation (engine), {picks:,} live picks", ms(seconds), step)
        previous = seconds


def publish_curve(table_factory, clock) -> None:
    from chalicelib import wiring
    from chalicelib.releases.publishing import ReleaseTooLarge
    from chalicelib.settings import Settings
    from chalicelib.store.table import RequestRefused
    from tests.factories import campaign

    previous = None
    for count in (10, 100, 1_000):
        table = table_factory()
        counter = RequestCounter(table.meta.client)
        campaigns = [campaign(f"camp-{i:04d}", weight=1 if i % 2 else None) for i in range(count)]
        publisher = wiring.build(Settings(table_name=table.name), clock, table).publisher()
        start = time.perf_counter()
        try:
            publisher.publish(campaigns)
        except ReleaseTooLarge as exc:  # DynamoDB's item limit, checked before any write; the bench goes on
            row("scale", f"publish {count:,} campaigns", "REFUSED", str(exc).removeprefix("nothing was published: "))
            continue
        except RequestRefused as exc:  # another limit of the table, reported as a row
            row("scale", f"publish {count:,} campaigns", "REFUSED", f"{exc}: {exc.__cause__}")
            continue
        seconds = time.perf_counter() - start
        writes = [c for c in counter.take() if c in ("PutItem", "BatchWriteItem", "TransactWriteItems")]
        publisher.publish(campaigns)
        again = [c for c in counter.take() if c in ("PutItem", "BatchWriteItem", "TransactWriteItems", "DeleteItem")]
        step = "" if previous is None else growth(seconds / previous, 10, "campaigns")
        row("scale", f"publish {count:,} campaigns ({len(writes)} write requests)", ms(seconds), step)
        row("scale", f"unchanged re-publish of {count:,} campaigns: write requests", str(len(again)), "0 expected")
        previous = seconds


SECRET = "whsec_" + "YmVuY2gtc2lnbmluZy1zZWNyZXQtMDEyMzQ1Njc4OWFi"


def sale_body(order_id: str, amount: str = "88.00", sku: str = "PRK-3103") -> bytes:
    return json.dumps(
        {
            "order_id": order_id,
            "campaign_id": "bazhong-pork-charity",
            "sku": sku,
            "quantity": 1,
            "amount": amount,
            "paid_at": "2026-12-01T10:00:00+08:00",
        }
    ).encode()


def books_section(table_factory) -> None:
    """DynamoDB requests per recorded sale, and the ledger page at 10 and 10,000 donations."""

    import app as app_module
    from campaign_tools.authoring.campaign_yaml import validate_paths
    from campaign_tools.sign import sign_headers
    from chalicelib import wiring
    from chalicelib.clock import FixedClock
    from chalicelib.settings import Settings

    clock = FixedClock(datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    campaigns = validate_paths([ROOT / "campaigns"]).campaigns
    previous = None
    for size in (10, 10_000):
        table = table_factory()
        services = wiring.build(Settings(table_name=table.name, system_signing_secret=SECRET), clock, table)
        services.publisher().publish(campaigns)
        wiring.configure(services)
        if size == 10:
            counter = RequestCounter(table.meta.client)
            body = sale_body("ORD-BENCH-0")
            event = api_event("/api/sales", "/api/sales")
            event.update(httpMethod="POST", body=body.decode())
            event["requestContext"]["httpMethod"] = "POST"
            event["headers"] = {"content-type": "application/json", **sign_headers(SECRET, body)}
            app_module.app(event, None)  # warms the catalog cache
            counter.take()
            event["headers"] = {"content-type": "application/json", **sign_headers(SECRET, sale_body("ORD-BENCH-1"))}
            event["body"] = sale_body("ORD-BENCH-1").decode()
            response = app_module.app(event, None)
            calls = counter.take()
            assert response["statusCode"] == 201, response
            row(
                "requests",
                "a recorded sale, warm container",
                str(len(calls)),
                ", ".join(calls) + " (the minimum: one transaction)",
            )
            app_module.app(event, None)
            row("requests", "a replayed sale", str(len(counter.take())), "the cancelled transaction + one GetItem")
        # The entries are written as the books write them (one item per entry, spread over the
        # ledger shards), in batches: recording 10,000 sales one transaction at a time against
        # moto's server would take minutes and measure moto, not the ledger read.
        from chalicelib.books.rules import shard_of
        from chalicelib.store.items import LedgerEntry
        from chalicelib.store.keys import order_pk

        books = services.books
        paid = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
        items = [
            LedgerEntry(paid + timedelta(seconds=i), "sale", f"ORD-****-{i:04d}", 370).to_item(
                "bazhong-pork-charity", shard_of(f"ORD-L{i:06d}", books.ledger_shards), f"{i:012x}", order_pk(f"ORD-L{i:06d}")
            )
            for i in range(size)
        ]
        services.table.batch_write(puts=items)
        entries, _ = books.store.query_ledger("bazhong-pork-charity", None, books.page_size, books.ledger_shards)
        assert len(entries) == min(size + (2 if size == 10 else 0), books.page_size)  # + the 2 sales above
        ledger = best_per_call_s(
            lambda books=books: books.store.query_ledger("bazhong-pork-charity", None, books.page_size, books.ledger_shards),
            3,
            repeat=3,
        )
        step = f"{books.ledger_shards} shard queries merged"
        if previous is not None:
            step += "; " + growth(ledger / previous, 1_000, "donations")
        row("scale", f"ledger page (first {books.page_size} entries, uncached) with {size:,} donations", ms(ledger), step)
        previous = ledger
        wiring.configure(None)


def _keys_read(client) -> list[int]:
    """The number of keys of each ``GetItem`` (1) and ``BatchGetItem`` sent on ``client``, in order
    (the read-count tests' ``keys_read``, with the single reads counted too)."""
    sizes: list[int] = []

    def on_batch(params, **kwargs):
        sizes.append(sum(len(r["Keys"]) for r in params["RequestItems"].values()))

    client.meta.events.register("before-parameter-build.dynamodb.BatchGetItem", on_batch)
    client.meta.events.register("before-parameter-build.dynamodb.GetItem", lambda **kwargs: sizes.append(1))
    return sizes


def charity_reads_section(table_factory) -> None:
    """DynamoDB requests of a charity page and of ``/charity`` in a cold container, counted.

    "Before" is the layout before the one-request page, rebuilt in the same run on the same
    table: 256 counter shards (``BookSizes``), read after the page's own batch (no riders on
    the catalog), and ``/charity`` reading its sales' totals one sale at a time.
    """
    import app as app_module
    from campaign_tools.authoring.campaign_yaml import validate_paths
    from chalicelib import wiring
    from chalicelib.books.inputs import SaleRequest
    from chalicelib.books.service import COUNTER_SHARDS, BookSizes
    from chalicelib.clock import FixedClock
    from chalicelib.settings import Settings
    from tests.factories import charity_sale

    clock = FixedClock(datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=8))))  # the charity sales are live
    real = validate_paths([ROOT / "campaigns"]).campaigns
    cid = "bazhong-pork-charity"
    page = {
        "HTML": api_event(f"/campaigns/{cid}", "/campaigns/{campaign_id}", {"campaign_id": cid}),
        "JSON": api_event(f"/api/campaigns/{cid}", "/api/campaigns/{campaign_id}", {"campaign_id": cid}),
    }
    channel = api_event("/charity", "/charity")
    old = BookSizes(counter_shards=256)

    def cold(table, counter, keys, event, sizes=BookSizes(), before=False):
        """One request in a new container on ``table``: (the requests sent, the keys of each, the response)."""
        svc = wiring.build(Settings(table_name=table.name), clock, table, book_sizes=sizes)
        if before:
            svc.catalog.riders = None  # the totals are read after the page's batch
            books = svc.books
            books.totals_of = lambda ids: {i: books.totals(i) for i in ids}  # one sale at a time
        wiring.configure(svc)
        counter.take()
        keys.clear()
        answer = app_module.app(event, None)
        assert answer["statusCode"] == 200, answer
        return counter.take(), list(keys), answer

    def calls(sent: list[str], sizes: list[int]) -> str:
        return ", ".join(f"{c} ({k})" for c, k in zip(sent, sizes, strict=True))

    for sales in (1, 5):
        table = table_factory()
        counter = RequestCounter(table.meta.client)
        keys = _keys_read(table.meta.client)
        extra = [charity_sale(f"bench-charity-{i}", skus=(f"TEA-{i:04d}",)) for i in range(1, sales)]
        services = wiring.build(Settings(table_name=table.name), clock, table)
        services.publisher().publish([*real, *extra])
        if sales == 1:
            paid = clock().astimezone(UTC)
            for i, fen in enumerate((10_000, 20_000, 30_000)):
                sale = SaleRequest(f"ORD-BENCH-C{i}", cid, "PRK-3103", 1, fen, paid)
                assert services.books.record_sale(sale, clock()).status == 201
            for fmt, event in page.items():
                sent, sizes, answer = cold(table, counter, keys, event)
                sent_before, sizes_before, answer_before = cold(table, counter, keys, event, old, before=True)
                assert answer["body"] == answer_before["body"]  # the same page, the same totals
                assert fmt == "HTML" or json.loads(answer["body"])["charity"]["raised"] != "0.00"  # the sales are in it
                row(
                    "requests",
                    f"charity page {fmt}, cold container (pointer + head + {COUNTER_SHARDS} shards)",
                    str(len(sent)),
                    f"{calls(sent, sizes)}; 1 expected; before: {len(sent_before)} (next row)",
                )
                row(
                    "requests",
                    f"charity page {fmt}, cold, before (256 shards, read after)",
                    str(len(sent_before)),
                    f"{calls(sent_before, sizes_before)}; 1 + ceil(256 / 100) = 4 expected; the same body",
                )
        sent, sizes, answer = cold(table, counter, keys, channel)
        sent_before, sizes_before, answer_before = cold(table, counter, keys, channel, old, before=True)
        assert all(c.id in answer["body"] for c in extra) and answer["body"] == answer_before["body"]
        expected = 1 + -(-COUNTER_SHARDS * sales // 100)
        row(
            "requests",
            f"/charity, cold container, {sales} charity sale{'s' if sales > 1 else ''}",
            str(len(sent)),
            f"{calls(sent, sizes)}; the pointer + ceil({COUNTER_SHARDS} x {sales} / 100) = {expected} expected; before: {len(sent_before)}",
        )
        row(
            "requests",
            f"/charity, cold, before (256 shards, a sale at a time), {sales} sale{'s' if sales > 1 else ''}",
            str(len(sent_before)),
            f"{sum(sizes_before)} keys; the pointer + {sales} x ceil(256 / 100) = {1 + 3 * sales} expected",
        )
        warm = wiring.build(Settings(table_name=table.name), clock, table)
        elapsed = [0.0]
        moved = functools.partial(operator.getitem, elapsed, 0)  # the caches' clock, moved below
        warm.catalog._monotonic = warm.books._cache._monotonic = moved
        wiring.configure(warm)
        app_module.app(channel, None)  # a warm container: the pointer and the books held
        elapsed[0] = 5.0  # both due
        counter.take()
        keys.clear()
        assert app_module.app(channel, None)["statusCode"] == 200
        sent = counter.take()
        row(
            "requests",
            f"/charity, warm container, pointer and totals due, {sales} charity sale{'s' if sales > 1 else ''}",
            str(len(sent)),
            f"{calls(sent, keys)}; ceil((1 + {COUNTER_SHARDS} x {sales}) / 100) = {-(-(1 + COUNTER_SHARDS * sales) // 100)} expected",
        )
        wiring.configure(None)


LATENCY_S = 0.020  # the time of every DynamoDB request in the ledger's latency section


class FixedLatency:
    """A table whose every request takes ``latency_s``, on botocore's ``before-send`` of ``client``.

    While :attr:`on`, each request is answered with moto's answer to the same request body
    (sent once, then kept) after sleeping ``latency_s``: moto's server is serialized and costs
    milliseconds a request on a shared machine, which would hide what concurrency saves. Off,
    requests go to moto as usual (set-up, writes). Use it for reads that repeat, like a page.
    """

    def __init__(self, client) -> None:
        import urllib3

        self.on = False
        self.latency_s = 0.0
        self._answers: dict[bytes, tuple[int, dict[str, str], bytes]] = {}
        self._http = urllib3.PoolManager(maxsize=64)
        client.meta.events.register("before-send.dynamodb", self._send)

    def _send(self, request, **kwargs):
        if not self.on:
            return None
        from botocore.awsrequest import AWSResponse

        body = request.body if isinstance(request.body, bytes) else str(request.body or "").encode()
        if body not in self._answers:  # its first time: moto answers, once
            got = self._http.request(request.method, request.url, body=body, headers=dict(request.headers))
            self._answers[body] = (got.status, dict(got.headers), got.data)
        status, headers, data = self._answers[body]
        if self.latency_s:
            time.sleep(self.latency_s)
        return AWSResponse(request.url, status, headers, _Raw(data))


class _Raw:
    """The raw body of a kept answer (what ``AWSResponse.content`` streams)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **kwargs):
        yield self.data


def ledger_latency_section(endpoint: str, donations: int = 3_200, rounds: int = 5) -> None:
    """The uncached ledger page (``/campaigns/{id}/ledger``, full handler) on a table whose every
    request takes :data:`LATENCY_S` (:class:`FixedLatency`), through a client made as a deployed
    stage makes it (:func:`chalicelib.wiring.dynamodb_resource`) and the page's 0.8 s deadline.

    The ledger's shard queries run on 32 threads (one a shard: now), 8 (before) and 1 (one query
    after another). Round trips = (wall time - the same page's wall time at no latency) /
    :data:`LATENCY_S`, so the figure holds on any machine. The pointer, the campaign and the
    totals are held warm; only the ledger's first page is dropped before each call.
    """
    import app as app_module
    from campaign_tools.authoring.campaign_yaml import validate_paths
    from chalicelib import wiring
    from chalicelib.books.rules import shard_of
    from chalicelib.clock import FixedClock
    from chalicelib.deadline import BUDGETS_S
    from chalicelib.settings import Settings
    from chalicelib.store.books import BooksStore
    from chalicelib.store.items import LedgerEntry
    from chalicelib.store.keys import order_pk
    from chalicelib.store.table import create_table

    settings = Settings(stage="local", table_name="bench-ledger-latency", dynamodb_endpoint=endpoint)
    resource = wiring.dynamodb_resource(settings)
    table = create_table(resource, settings.table_name)
    latency = FixedLatency(table.meta.client)
    clock = FixedClock(datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=8))))
    svc = wiring.build(settings, clock, table)
    svc.publisher().publish(validate_paths([ROOT / "campaigns"]).campaigns)
    cid = "bazhong-pork-charity"
    shards = svc.books.ledger_shards
    paid = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    svc.table.batch_write(
        puts=[
            LedgerEntry(paid + timedelta(seconds=i), "sale", f"ORD-****-{i:04d}", 370).to_item(
                cid, shard_of(f"ORD-T{i:06d}", shards), f"{i:012x}", order_pk(f"ORD-T{i:06d}")
            )
            for i in range(donations)
        ]
    )
    svc.catalog._monotonic = lambda: 0.0  # the pointer and the campaign stay warm
    svc.books._cache._monotonic = lambda: 0.0  # so do the totals; the ledger page is dropped below
    wiring.configure(svc)
    event = api_event(f"/campaigns/{cid}/ledger", "/campaigns/{campaign_id}/ledger", {"campaign_id": cid})
    assert app_module.app(event, None)["statusCode"] == 200  # the pointer, the campaign, the totals
    stores = {threads: BooksStore(svc.table, None if threads == shards else threads) for threads in (shards, 8, 1)}
    counter = RequestCounter(table.meta.client)
    failed: list[str] = []

    def ledger(threads: int, latency_s: float):
        def call() -> None:
            svc.books._cache._values.pop(("ledger", cid), None)  # uncached, the rest warm
            svc.books.store = stores[threads]
            latency.latency_s = latency_s
            status = app_module.app(event, None)["statusCode"]
            if status != 200:
                failed.append(f"{threads} thread{'s' if threads > 1 else ''}: {status}")

        return call

    latency.on = True
    counter.take()
    ledger(shards, 0.0)()  # moto's answers, kept
    sent = counter.take()
    assert set(sent) == {"Query"} and not failed, (sent, failed)
    calls = {(t, s): ledger(t, s) for t in stores for s in (0.0, LATENCY_S)}
    started = time.perf_counter()
    best = best_of_rounds(calls, number=1, rounds=rounds)
    took = time.perf_counter() - started
    latency.on = False
    row(
        "latency",
        "every DynamoDB request's latency (the unit below)",
        ms(LATENCY_S),
        f"moto's answers replayed after a sleep; {donations:,} donations, {len(sent)} Query a page; best of {rounds} rounds, {took:.1f} s",
    )
    refills = len(sent) - shards  # each a round of its own (rare: chalicelib.store.books.first_batch)
    labels = {shards: f"{shards} threads, one a shard (now)", 8: "8 threads (before)", 1: "1 thread, in turn"}
    for threads, label in labels.items():
        wall, floor = best[(threads, LATENCY_S)], best[(threads, 0.0)]
        expected = -(-shards // threads) + refills
        note = (
            f"{(wall - floor) / LATENCY_S:.1f} round trips of added time (ceil({shards} / {threads}) + {refills} refills = "
            f"{expected}, less where the waits overlap the parsing of other answers; {ms(floor)} at no latency)"
        )
        if threads != shards:
            note += f"; x{wall / best[(shards, LATENCY_S)]:.1f} the time on {shards} threads"
        if threads == 1:
            note += f"; x{wall / BUDGETS_S['page']:.2f} of the page's {BUDGETS_S['page']:g} s deadline"
        row("latency", f"ledger page, uncached, {label}", ms(wall), note)
    if failed:
        row("latency", "ledger pages not answered 200", str(len(failed)), "; ".join(sorted(set(failed))))
    wiring.configure(None)


def load_section(requests_total: int = 2000, threads: int = 4) -> None:
    """The mixed workload at the local stack; latency percentiles and DynamoDB requests per 1,000 page views."""
    import contextlib
    import http.client
    import random
    import threading

    from campaign_tools.serve import LocalStack
    from chalicelib.wiring import services

    os.environ["SYSTEM_SIGNING_SECRET"] = SECRET
    stack = LocalStack(
        str(ROOT / "campaigns"),
        "127.0.0.1",
        free_port(),
        free_port(),
        datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=8))),
    )
    with contextlib.redirect_stdout(io.StringIO()):  # its start-up lines are not the table's
        stack.start()
    import logging

    logging.disable(logging.INFO)  # chalice local logs every request
    server = threading.Thread(target=stack.http.server.serve_forever, daemon=True)
    server.start()
    counter = RequestCounter(services().releases.table.client)
    from campaign_tools.sign import sign_headers

    rng = random.Random(7)
    plan = rng.choices(["page", "home", "sale"], weights=[90, 9, 1], k=requests_total)
    pages_ids = ["bazhong-pork-charity", "store-bazhou-district", "store-dingxi-anding", "store-leishan"]
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()

    def worker(items: list[tuple[int, str]]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", stack.port, timeout=30)
        for i, kind in items:
            headers: dict[str, str] = {}
            body = None
            if kind == "page":
                method, path = "GET", f"/campaigns/{pages_ids[i % len(pages_ids)]}"
            elif kind == "home":
                method, path = "GET", "/"
            else:
                method, path, body = "POST", "/api/sales", sale_body(f"ORD-LOAD-{i:06d}", "68.00", "PRK-3101")
                headers = {"content-type": "application/json", **sign_headers(SECRET, body)}
            start = time.perf_counter()
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                if response.status >= 400:
                    errors[0] += 1

    items = list(enumerate(plan))
    counter.take()
    start = time.perf_counter()
    workers = [threading.Thread(target=worker, args=(items[t::threads],)) for t in range(threads)]
    with contextlib.redirect_stderr(io.StringIO()):  # the local server's access line per request: not the table's
        for w in workers:
            w.start()
        for w in workers:
            w.join()
    wall = time.perf_counter() - start
    calls = counter.take()
    stack.http.server.shutdown()
    stack.stop()
    logging.disable(logging.NOTSET)
    os.environ.pop("SYSTEM_SIGNING_SECRET", None)
    latencies.sort()
    page_views = sum(1 for k in plan if k != "sale")
    reads = sum(1 for c in calls if c in ("GetItem", "Query", "BatchGetItem"))
    row(
        "load",
        f"{requests_total:,} requests, {threads} threads (90/9/1 page/home/sale)",
        f"{requests_total / wall:,.0f} req/s",
        f"errors: {errors[0]} (0 expected)",
    )
    row(
        "load",
        "latency p50 / p99",
        f"{latencies[len(latencies) // 2] * 1e3:.1f} / {latencies[int(len(latencies) * 0.99)] * 1e3:.1f} ms",
        "",
    )
    row(
        "load",
        "DynamoDB reads per 1,000 page views",
        f"{reads * 1000 / page_views:,.1f}",
        f"{len(calls)} requests in all, writes included",
    )


class HangingListener:
    """A TCP listener in front of ``upstream`` (host, port): it relays bytes until :attr:`hanging`
    is set, then accepts connections and reads requests but never answers any."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        import socket
        import threading

        self.upstream = upstream
        self.hanging = threading.Event()
        self.sock = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            up = socket.create_connection(self.upstream)
            threading.Thread(target=self._relay, args=(conn, up, True), daemon=True).start()
            threading.Thread(target=self._relay, args=(up, conn, False), daemon=True).start()

    def _relay(self, src, dst, requests: bool) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if not data:
                return
            if requests and self.hanging.is_set():
                continue  # read and never answered
            try:
                dst.sendall(data)
            except OSError:
                return

    def close(self) -> None:
        self.sock.close()


class _LambdaContext:
    """What Lambda hands a function: ``get_remaining_time_in_millis`` of a ``limit_s`` function started now."""

    def __init__(self, limit_s: float) -> None:
        self.ends = time.monotonic() + limit_s
        self.aws_request_id = "bench-deadline"

    def get_remaining_time_in_millis(self) -> int:
        return int((self.ends - time.monotonic()) * 1000)


def deadline_section(ddb_port: int) -> None:
    """Each route's time to answer while DynamoDB hangs, as a ratio to its budget (docs/resilience.md)."""
    import app as app_module
    from campaign_tools.authoring.campaign_yaml import validate_paths
    from campaign_tools.sign import sign_headers
    from chalicelib import wiring
    from chalicelib.clock import FixedClock
    from chalicelib.deadline import BUDGETS_S, RESERVE_S
    from chalicelib.settings import Settings
    from chalicelib.store.table import create_table

    listener = HangingListener(("127.0.0.1", ddb_port))
    settings = Settings(
        stage="local",
        table_name="bench-deadlines",
        dynamodb_endpoint=f"http://127.0.0.1:{listener.port}",
        system_signing_secret=SECRET,
    )
    clock = FixedClock(datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=8))))
    shift = [0.0]  # the caches' clock, moved past their TTLs once DynamoDB hangs

    def monotonic() -> float:
        return time.monotonic() + shift[0]

    table = create_table(wiring.dynamodb_resource(settings), settings.table_name)
    svc = wiring.build(settings, clock, table, monotonic=monotonic)
    svc.catalog._monotonic = monotonic
    svc.books._cache._monotonic = monotonic
    svc.publisher().publish(validate_paths([ROOT / "campaigns"]).campaigns)
    svc.rotation_job.run()
    wiring.configure(svc)
    sale = sale_body("ORD-DEADLINE-0001", "68.00", "PRK-3101")

    def get(path: str, resource: str, params: dict | None = None) -> dict:
        return api_event(path, resource, params)

    def post() -> dict:
        event = api_event("/api/sales", "/api/sales")
        event["httpMethod"] = event["requestContext"]["httpMethod"] = "POST"
        event["headers"] = {"content-type": "application/json", **sign_headers(SECRET, sale)}
        event["body"] = sale.decode()
        return event

    charity = {"campaign_id": "bazhong-pork-charity"}
    store = {"campaign_id": "store-leishan"}
    routes = [
        ("campaign page, warm: stale", "page", get("/campaigns/store-leishan", "/campaigns/{campaign_id}", store), 200),
        ("charity page, warm: stale", "page", get("/campaigns/bazhong-pork-charity", "/campaigns/{campaign_id}", charity), 200),
        ("homepage, warm: stale", "page", get("/", "/"), 200),
        ("/impact, warm: stale", "page", get("/impact", "/impact"), 200),
        (
            "ledger, nothing cached: 503",
            "page",
            get("/api/campaigns/bazhong-pork-charity/ledger", "/api/campaigns/{campaign_id}/ledger", charity),
            503,
        ),
        ("signed sale: 503", "system", post(), 503),
    ]
    context_s = 10.0  # the API function's lambda_timeout
    for _, _, event, _ in routes[:4]:
        assert app_module.app(event, _LambdaContext(context_s))["statusCode"] == 200
    listener.hanging.set()
    shift[0] = 700.0 - 590.0  # past every cache's TTL, within the 10 minutes a stale copy may stand in
    try:
        for name, kind, event, expected in routes:
            started = time.perf_counter()
            answer = app_module.app(event, _LambdaContext(context_s))
            took = time.perf_counter() - started
            budget = BUDGETS_S[kind]
            note = f"x{took / budget:.2f} of the {kind} budget ({budget:g} s)"
            if answer["statusCode"] != expected:
                note += f"; status {answer['statusCode']}, {expected} expected"
            elif kind == "page":
                note += f"; x{took:.2f} of the 1 s promise"
            else:
                message = json.loads(answer["body"])["message"]
                note += "; says: " + ("may have been applied" if "may have been applied" in message else "nothing written")
            row("deadline", f"{name} ({answer['statusCode']})", f"{took:.2f} s", note)
        rotation_limit_s = 4.0  # a short function, so the bench is short: its deadline is 4 - 0.5 s
        started = time.perf_counter()
        try:
            svc_rotation = wiring.services()
            with svc_rotation.deadlines.begin("rotation", _LambdaContext(rotation_limit_s)):
                svc_rotation.rotation_job.run(clock() + timedelta(minutes=15))
            outcome = "ran"
        except Exception as exc:  # noqa: BLE001 - the outcome is the measure
            outcome = type(exc).__name__
        took = time.perf_counter() - started
        cut = rotation_limit_s - RESERVE_S
        row(
            "deadline",
            f"rotation in a {rotation_limit_s:g} s function ({outcome})",
            f"{took:.2f} s",
            f"x{took / cut:.2f} of {cut:g} s",
        )
    finally:
        listener.close()
        wiring.configure(None)


def write_report() -> None:
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, {platform.platform()}"
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M UTC}; machine: {machine}.",
        "Times are best-of-N per call; compare the ratios between runs, not the absolute figures.",
        "",
        "| section | measure | value | ratio / note |",
        "|---|---|---:|---|",
    ]
    lines += [f"| {s} | {m} | {v} | {n} |" for s, m, v, n in ROWS]
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"\nwrote {ROOT / 'BENCHMARKS.md'}")


def main() -> int:
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1"})
    only_deadlines = "--deadlines" in sys.argv[1:]
    only_charity = "--charity" in sys.argv[1:]
    import logging

    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every request
    import boto3

    from campaign_tools.local_dynamodb import EmbeddedDynamoDB
    from chalicelib.clock import FixedClock
    from chalicelib.store.table import create_table

    server = EmbeddedDynamoDB("127.0.0.1", free_port())  # moto's server, made safe for concurrent transactions
    server.start()
    endpoint = f"http://127.0.0.1:{server.port}"
    dynamodb = boto3.resource("dynamodb", region_name="us-east-1", endpoint_url=endpoint)
    names = iter(range(1000))
    clock = FixedClock(datetime(2026, 10, 17, 1, 0, tzinfo=UTC))
    try:
        print(f"{'section':<12} {'measure':<58} {'value':>14}  ratio / note")
        if only_charity:
            charity_reads_section(lambda: create_table(dynamodb, f"bench-charity-{next(names)}"))
            ledger_latency_section(endpoint)
            return 0
        deadline_section(server.port)
        if only_deadlines:
            return 0
        handler_section(create_table(dynamodb, "bench-pages"), clock)
        import_section()
        validate_section()
        rotation_curve()
        publish_curve(lambda: create_table(dynamodb, f"bench-publish-{next(names)}"), clock)
        books_section(lambda: create_table(dynamodb, f"bench-books-{next(names)}"))
        charity_reads_section(lambda: create_table(dynamodb, f"bench-charity-{next(names)}"))
        ledger_latency_section(endpoint)
    finally:
        server.stop()
    load_section()
    write_report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
