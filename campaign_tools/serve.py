"""``campaign serve`` (what ``make run`` runs): the whole local stack in one process.

1. the embedded DynamoDB: moto's server on 127.0.0.1:``dynamodb_port``;
2. the table, and a publish of ``campaigns/`` (nothing starts if it has errors);
3. the rotation: once right after the publish, then every ``ROTATION_MINUTES``
   on a timer thread (``chalice local`` never fires schedules);
4. the Chalice app on http://``host``:``port`` (Chalice's local server);
5. the demo mall on http://``host``:``mall_port`` (:mod:`campaign_tools.demo_mall`), a
   stand-in for the mall's product pages and checkout: the local stage's
   ``PRODUCT_URL_TEMPLATE`` points at it.

``at`` starts the local clock at that instant, and it runs on from there
(the local stage only). Ctrl-C stops all of it: one process, no children.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from datetime import datetime
from typing import Any

from campaign_tools.stages import PROJECT_ROOT, CliError, remove_run_state, stage_settings, write_run_state
from chalicelib.clock import ShiftedClock, system_clock

log = logging.getLogger(__name__)

DEMO_MALL_PORT = 8002  # the demo mall's port when --mall-port is not given


class LocalStack:
    """The embedded DynamoDB, the app server and the rotation timer; ``start``/``stop``."""

    def __init__(
        self, campaigns: str, host: str, port: int, dynamodb_port: int, at: datetime | None, mall_port: int | None = None
    ) -> None:
        self.campaigns = campaigns
        self.host = host
        self.port = port
        self.dynamodb_port = dynamodb_port
        self.clock = system_clock if at is None else ShiftedClock(at)
        self.stopping = threading.Event()
        self.moto: Any = None
        self.http: Any = None
        self.timer: threading.Thread | None = None
        self.settings: Any = None
        self.generated_secret: str | None = None
        self.mall_port = mall_port  # None: DEMO_MALL_PORT, or a free one (bind_mall)
        self.mall: Any = None
        self.mall_server: Any = None
        self.mall_thread: threading.Thread | None = None

    def start_dynamodb(self) -> None:
        # moto's server, serialized and with per-item transaction rollback (see local_dynamodb).
        from campaign_tools.local_dynamodb import EmbeddedDynamoDB

        self.moto = EmbeddedDynamoDB("127.0.0.1", self.dynamodb_port)
        self.moto.start()
        self.dynamodb_port = self.moto.port

    def publish(self) -> str:
        from campaign_tools.authoring.campaign_yaml import validate_paths
        from campaign_tools.local_clock import put_local_clock_offset_s
        from campaign_tools.sign import ensure_local_secret
        from chalicelib.store.table import create_table
        from chalicelib.wiring import build, configure, dynamodb_resource

        # Without SYSTEM_SIGNING_SECRET, a random secret for this run (printed by serve()).
        self.settings, self.generated_secret = ensure_local_secret(stage_settings("local", self.dynamodb_port))
        if self.mall_server is not None:
            self.settings = self._with_mall(self.settings)
        result = validate_paths([self.campaigns], slots=self.settings.homepage_slots)
        for diagnostic in result.diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        if not result.ok:
            raise CliError(f"{len(result.errors)} error(s) in {self.campaigns}; fix them and run again")
        svc = build(self.settings, self.clock, create_table(dynamodb_resource(self.settings), self.settings.table_name))
        put_local_clock_offset_s(svc.table, (self.clock() - system_clock()).total_seconds())
        _, release = svc.publisher(actor="campaign serve").publish(result.campaigns)
        configure(svc)
        return f"published {len(result.campaigns)} campaign(s) as release {release.number if release else '(unchanged)'}"

    def bind_mall(self) -> None:
        """Bind the demo mall's port (its pages serve once the app is up: :meth:`start_mall`)."""
        from campaign_tools.demo_mall import DemoMall, make_server
        from chalicelib.wiring import services

        self.mall = DemoMall("", lambda cid: services().catalog.campaign(cid), "", self.clock)
        if self.mall_port is not None:
            self.mall_server = make_server(self.mall, self.host, self.mall_port)
        else:
            # Not chosen: 8002, or any free port when the app's is any (--port 0, as tests start it)
            # or 8002 is taken (another stack runs), so a second stack still starts.
            try:
                self.mall_server = make_server(self.mall, self.host, 0 if self.port == 0 else DEMO_MALL_PORT)
            except OSError:
                self.mall_server = make_server(self.mall, self.host, 0)
        self.mall_port = self.mall_server.server_address[1]

    def _with_mall(self, settings: Any) -> Any:
        """``settings`` with ``PRODUCT_URL_TEMPLATE`` at the demo mall."""
        from dataclasses import replace

        from campaign_tools.demo_mall import product_url_template

        return replace(
            settings, product_url_template=product_url_template(_reachable(self.host), self.mall_server.server_address[1])
        )

    def start_mall(self) -> None:
        from campaign_tools.demo_mall import start

        self.mall.platform = f"http://{_reachable(self.host)}:{self.port}"
        self.mall.secret = self.settings.system_signing_secret
        self.mall_thread = start(self.mall_server)

    def rotate_once(self) -> str:
        from chalicelib.wiring import services

        return services().rotation_job.run().message

    def _rotation_loop(self) -> None:
        interval_s = self.settings.rotation_minutes * 60
        while not self.stopping.wait(interval_s):
            try:
                print(self.rotate_once(), flush=True)
            except Exception:  # noqa: BLE001 - the timer must outlive one bad run
                log.exception("rotation failed; the previous rotation stays live")

    def start_app(self) -> None:
        from chalice.cli.factory import CLIFactory

        factory = CLIFactory(project_dir=str(PROJECT_ROOT))
        config = factory.create_config_obj(chalice_stage_name="local")
        self.http = factory.create_local_server(config.chalice_app, config, self.host, self.port)
        self.port = self.http.server.server_address[1]
        _send_at_once(self.http.server)
        _listen_deeper(self.http.server)

    def start(self) -> None:
        self.start_dynamodb()
        print(f"embedded DynamoDB on http://127.0.0.1:{self.dynamodb_port}", flush=True)
        self.bind_mall()
        print(self.publish(), flush=True)
        print(self.rotate_once(), flush=True)
        self.timer = threading.Thread(target=self._rotation_loop, name="rotation-timer", daemon=True)
        self.timer.start()
        self.start_app()
        self.start_mall()

    def stop(self) -> None:
        self.stopping.set()
        if self.http is not None:
            self.http.server.server_close()
        if self.mall_thread is not None:
            self.mall_server.shutdown()
        if self.mall_server is not None:
            self.mall_server.server_close()
        if self.moto is not None:
            self.moto.stop()


def _reachable(host: str) -> str:
    """An address a browser on this machine reaches ``host`` at (``0.0.0.0`` listens everywhere: 127.0.0.1)."""
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104 - compared, not bound


def _send_at_once(server: Any) -> None:
    """Set TCP_NODELAY on the app server's connections.

    Chalice's handler writes a response's headers and body in two sends; with Nagle's
    algorithm the body then waits for the client's delayed ACK, about 40 ms a response
    on a keep-alive connection (measured: 100 sequential webhook calls 5.8 s -> 1.6 s).
    """
    import functools

    handler = server.RequestHandlerClass
    base: Any = handler.func if isinstance(handler, functools.partial) else handler
    quick = type(base.__name__, (base,), {"disable_nagle_algorithm": True})
    if isinstance(handler, functools.partial):
        server.RequestHandlerClass = functools.partial(quick, *handler.args, **handler.keywords)
    else:
        server.RequestHandlerClass = quick


LISTEN_BACKLOG = 512  # connections the kernel queues before accept (capped by net.core.somaxconn)


def _listen_deeper(server: Any) -> None:
    """Let the app server's socket queue :data:`LISTEN_BACKLOG` connections.

    The stdlib server listens with a backlog of 5 (``request_queue_size``): a burst of
    clients beyond what its accept loop takes at once is refused or reset (seen: about 30
    concurrent signed webhooks). Listening again on a listening socket only changes its
    backlog (Linux, macOS); docs/resilience.md holds the load test.
    """
    server.request_queue_size = LISTEN_BACKLOG
    server.socket.listen(LISTEN_BACKLOG)


def _stop_on_signals() -> None:
    """Ctrl-C (SIGINT) and SIGTERM stop the stack, even where the shell started us with
    SIGINT ignored (a background job of a non-interactive shell)."""
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)


def serve(campaigns: str, host: str, port: int, dynamodb_port: int, at: datetime | None, mall_port: int | None = None) -> int:
    """Run the local stack until Ctrl-C. Returns the exit status."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # moto's server logs every DynamoDB call
    _stop_on_signals()
    stack = LocalStack(campaigns, host, port, dynamodb_port, at, mall_port)
    recorded = False
    try:
        stack.start()
        # So that `campaign publish --stage local` in another terminal finds this DynamoDB.
        write_run_state(os.getpid(), host, stack.port, stack.dynamodb_port)
        recorded = True
        base = f"http://{host}:{stack.port}"
        clock_note = f" (local clock starts at {at.isoformat()})" if at else ""
        print(
            f"serving on {base}{clock_note}\n"
            f"  homepage        {base}/\n"
            f"  homepage JSON   {base}/api/homepage\n"
            f"  charity         {base}/charity\n"
            f"  a campaign      {base}/campaigns/<id>   (JSON: {base}/api/campaigns/<id>)\n"
            f"  ledger, impact  {base}/campaigns/<id>/ledger, {base}/impact\n"
            f"  webhooks        POST {base}/api/sales, /api/refunds, /api/point-donations (signed: campaign sign)\n"
            f"  demo mall       http://{_reachable(host)}:{stack.mall_port}/item/<sku>   (a stand-in for the mall: buy links land here)\n"
            + (
                f"signing secret (generated for this run; set SYSTEM_SIGNING_SECRET to choose one):\n"
                f"  export SYSTEM_SIGNING_SECRET={stack.generated_secret}\n"
                if stack.generated_secret
                else "signing secret: from SYSTEM_SIGNING_SECRET\n"
            )
            + "from another terminal: campaign publish --stage local (finds this stack's DynamoDB)\n"
            "Ctrl-C stops everything.",
            flush=True,
        )
        stack.http.server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopping", flush=True)
    finally:
        if recorded:
            remove_run_state(os.getpid())
        stack.stop()
    return 0
