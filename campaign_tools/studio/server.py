"""The studio's pages and its HTTP server (``campaign studio``), on 127.0.0.1 only.

:class:`Studio` answers a request (method, path with query) with a :class:`Reply`,
reading the campaign folder afresh every time, so tests drive it in-process;
:func:`make_server` puts it behind the standard library's ``ThreadingHTTPServer``
bound to 127.0.0.1, never another interface (the studio shows unpublished
campaigns: it is a tool for the person at this machine, never packaged or deployed).

Routes (docs/studio.md): ``/`` the timeline, ``/machine`` the time machine,
``/render/home`` and ``/render/campaigns/{id}`` one consumer page at ``?at=`` alone,
``/fairness`` the day's rotation figures, ``/plan`` the plan against a stage, and
``/static/...`` the site's own static files (the previews link them). Every page is
HTML that reads without JavaScript, with the site's stylesheet and the consumer
pages' CSP (``frame-ancestors 'self'``, for the previews).
"""

from __future__ import annotations

import functools
import re
import sys
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlsplit

import jinja2

from campaign_tools.studio.fairness import day_chart
from campaign_tools.studio.machine import LANGS, PageRenderer, chosen_instant, parse_at, slider_value
from campaign_tools.studio.plan import PlanPanel, ServicesFactory, plan_panel
from campaign_tools.studio.timeline import StudioInputError, Timeline, build_timeline, campaign_files, read_folder, zone_of
from chalicelib.clock import Clock, system_clock
from chalicelib.errors import NotFound
from chalicelib.web.assets import asset_url, static_response

HOST = "127.0.0.1"  # the only interface the studio listens on
HERE = Path(__file__).resolve().parent
CSP = (
    "default-src 'self'; img-src 'self' https: data:; script-src 'self'; style-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'self'; form-action 'self'"
)
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Cache-Control": "no-store",  # the files are read live: a reload always shows the latest edit
}
HTML = "text/html; charset=utf-8"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
NAV = (
    ("/", "timeline", "Timeline"),
    ("/machine", "machine", "Time machine"),
    ("/fairness", "fairness", "Fairness"),
    ("/plan", "plan", "Plan"),
)


# The consumer pages a preview links to that the studio renders: the homepage and a campaign page.
_CONSUMER_PAGE = re.compile(r"^/(?:campaigns/(?P<id>[^/]+))?\Z")


@dataclass(frozen=True)
class Reply:
    """A studio answer: status, content type, body (text) and extra headers."""

    status: int
    content_type: str
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=jinja2.select_autoescape(["html"], default_for_string=True),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["asset_url"] = asset_url
    env.globals["quote"] = functools.partial(quote, safe="")
    return env


def _when(at: datetime | None, zone: Any, ms: bool = False) -> str:
    """``2026-10-17 09:00`` in ``zone`` (``…:00.001`` with ``ms``); ``no end`` for ``None``."""
    if at is None:
        return "no end"
    local = at.astimezone(zone)
    return local.isoformat(sep=" ", timespec="milliseconds")[:23] if ms else f"{local:%Y-%m-%d %H:%M}"


class Studio:
    """The studio over the campaign folder ``campaigns``.

    ``stage``: the plan panel's default stage; ``services_of(stage)``: the stage's services as
    ``campaign plan`` builds them; ``clock``: today's instant (aware); ``slots`` and
    ``rotation_minutes``: the shell's ``HOMEPAGE_SLOTS`` and ``ROTATION_MINUTES``.
    """

    def __init__(
        self,
        campaigns: str | Path,
        *,
        stage: str,
        stages: tuple[str, ...],
        services_of: ServicesFactory,
        slots: int,
        rotation_minutes: int,
        clock: Clock = system_clock,
    ) -> None:
        self.campaigns = str(campaigns)
        self.stage = stage
        self.stages = stages
        self.services_of = services_of
        self.slots = slots
        self.rotation_minutes = rotation_minutes
        self.clock = clock

    # ------------------------------------------------------------ dispatch

    def handle(self, method: str, target: str, headers: Mapping[str, str] | None = None) -> Reply:
        """The reply to ``method`` on ``target`` (a path with its query), given the request's
        ``headers`` (only ``Sec-Fetch-Dest`` and ``Referer`` are read). Never raises on input."""
        if method not in ("GET", "HEAD"):
            return self._error(405, f"{method} is not served: the studio only reads (publishing stays `campaign publish`)")
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        path = unquote(parts.path)
        routes: dict[str, Callable[[dict[str, str]], Reply]] = {
            "/": self.timeline,
            "/machine": self.machine,
            "/render/home": self.render_home,
            "/fairness": self.fairness,
            "/plan": self.plan,
        }
        try:
            followed = self._followed_in_preview(path, query, headers or {})
            if followed is not None:
                return followed
            if path in routes:
                return routes[path](query)
            if path.startswith("/render/campaigns/"):
                return self.render_campaign(path[len("/render/campaigns/") :], query)
            if path.startswith("/static/"):
                return self._static(path[len("/static/") :])
            if path.startswith("/studio/"):
                return self._studio_static(path[len("/studio/") :])
        except StudioInputError as exc:
            return self._error(400, str(exc))
        except Exception as exc:  # a bug shows as a page with its reason, never as a dropped connection
            traceback.print_exc(file=sys.stderr)
            return self._error(500, f"the studio failed on this page ({type(exc).__name__}: {exc}); see the terminal")
        return self._error(404, f"no studio page {path}; the studio's pages are " + ", ".join(p for p, _, _ in NAV))

    def _followed_in_preview(self, path: str, query: dict[str, str], headers: Mapping[str, str]) -> Reply | None:
        """A consumer link followed inside a preview frame (``Sec-Fetch-Dest: iframe``): a redirect
        to the same consumer page at the frame's instant, which the ``Referer`` (the time machine's
        or a preview's address) carries; ``None`` for any other request."""
        lower = {k.lower(): v for k, v in headers.items()}
        if lower.get("sec-fetch-dest") != "iframe":
            return None
        match = _CONSUMER_PAGE.match(path)
        if match is None:
            return None
        referer = urlsplit(lower.get("referer", ""))
        if referer.path not in ("/machine", "/render/home") and not referer.path.startswith("/render/campaigns/"):
            return None
        seen = dict(parse_qsl(referer.query, keep_blank_values=True))
        tz_name, zone = zone_of(seen.get("tz"))
        at = chosen_instant(seen, zone, self.clock())
        lang = query.get("lang", "zh-CN") if query.get("lang") in LANGS else "zh-CN"
        where = "/render/home" if match["id"] is None else f"/render/campaigns/{quote(match['id'], safe='')}"
        location = f"{where}?at={quote(at.astimezone(zone).isoformat(timespec='milliseconds'), safe='')}&lang={lang}&tz={quote(tz_name, safe='')}"
        return Reply(303, HTML, "", {**HEADERS, "Location": location})

    def _page(self, template: str, nav: str, code: int = 200, **context: Any) -> Reply:
        body = _environment().get_template(template).render(nav=nav, NAV=NAV, campaigns_dir=self.campaigns, **context)
        return Reply(code, HTML, body, {**HEADERS, "Content-Security-Policy": CSP})

    def _error(self, status: int, message: str) -> Reply:
        return self._page("error.html", "", status, status=status, message=message)

    def _static(self, name: str) -> Reply:
        try:
            response = static_response(name)
        except NotFound:
            return self._error(404, f"no static file {name!r}")
        return Reply(200, response.content_type, response.body, {**HEADERS, **response.headers})

    def _studio_static(self, name: str) -> Reply:
        path = HERE / "static" / name
        if "/" in name or path.suffix not in STATIC_TYPES or not path.is_file():
            return self._error(404, f"no studio file {name!r}")
        return Reply(200, STATIC_TYPES[path.suffix], path.read_text(encoding="utf-8"), HEADERS)

    def _read(self):
        return read_folder(self.campaigns, self.slots)

    # ------------------------------------------------------------ pages

    def timeline(self, query: dict[str, str]) -> Reply:
        """``/``: every campaign file on one axis, in ``?tz=`` (default Beijing time)."""
        tz_name, zone = zone_of(query.get("tz"))
        result = self._read()
        line: Timeline = build_timeline(result, campaign_files(self.campaigns), self.clock())
        return self._page("timeline.html", "timeline", tl=line, tz=tz_name, zone=zone, when=_when, result=result)

    def machine(self, query: dict[str, str]) -> Reply:
        """``/machine``: the homepage and a campaign page at the chosen instant, in both languages."""
        tz_name, zone = zone_of(query.get("tz"))
        now = self.clock()
        at = chosen_instant(query, zone, now)
        result = self._read()
        renderer = PageRenderer(result.campaigns, self.slots, self.rotation_minutes)
        chosen = query.get("campaign", "").strip()
        if "campaign" not in query:  # by default the first campaign with a page at the instant
            visible = [c for c in result.campaigns if c.window.visible_at(at)] or list(result.campaigns)
            chosen = visible[0].id if visible else ""
        line = build_timeline(result, campaign_files(self.campaigns), now)
        return self._page(
            "machine.html",
            "machine",
            at=at,
            at_text=at.astimezone(zone).isoformat(timespec="milliseconds"),
            slider=slider_value(at),
            slider_min=slider_value(line.start),
            slider_max=slider_value(line.end) + 60,
            tz=tz_name,
            zone=zone,
            when=_when,
            result=result,
            chosen=chosen,
            frames=renderer.all_of(at, chosen or None),
            iso_ms=lambda d: d.astimezone(zone).isoformat(timespec="milliseconds"),
            ms=timedelta(milliseconds=1),
        )

    def render_home(self, query: dict[str, str]) -> Reply:
        """``/render/home?at=&lang=``: the homepage alone, as ``campaign preview --homepage`` prints it."""
        at, lang = self._at_lang(query)
        renderer = PageRenderer(self._read().campaigns, self.slots, self.rotation_minutes)
        return self._consumer(renderer.homepage(at, lang))

    def render_campaign(self, campaign_id: str, query: dict[str, str]) -> Reply:
        """``/render/campaigns/{id}?at=&lang=``: the campaign page alone, as ``campaign preview ID`` prints it."""
        at, lang = self._at_lang(query)
        renderer = PageRenderer(self._read().campaigns, self.slots, self.rotation_minutes)
        return self._consumer(renderer.campaign(campaign_id, at, lang))

    def _at_lang(self, query: dict[str, str]) -> tuple[datetime, str]:
        _, zone = zone_of(query.get("tz"))
        at = parse_at(query["at"], zone) if query.get("at") else self.clock()
        lang = query.get("lang", "zh-CN")
        if lang not in LANGS:
            raise StudioInputError(f"lang: {lang!r} is not a page language; zh-CN or en")
        return at, lang

    def _consumer(self, response: Any) -> Reply:
        """A consumer page as the site answers it (its status and Cache-Control), under the studio's CSP."""
        extra = {"Cache-Control": "no-store", "X-Consumer-Cache-Control": response.headers.get("Cache-Control", "-")}
        return Reply(response.status, response.content_type, response.body, {**HEADERS, **extra, "Content-Security-Policy": CSP})

    def fairness(self, query: dict[str, str]) -> Reply:
        """``/fairness?date=YYYY-MM-DD&tz=``: the day's rotations, each campaign against its quota."""
        tz_name, zone = zone_of(query.get("tz"))
        text = query.get("date", "").strip()
        try:
            day = date.fromisoformat(text) if text else self.clock().astimezone(zone).date()
        except ValueError:
            raise StudioInputError(f"date: {text!r} is not a day; write e.g. 2026-10-17") from None
        result = self._read()
        try:
            chart = day_chart(result.campaigns, day, zone, self.slots, self.rotation_minutes)
        except OverflowError:
            raise StudioInputError(f"date: {text!r} is out of range; pick a day between the years 2 and 9998") from None
        return self._page("fairness.html", "fairness", chart=chart, tz=tz_name, zone=zone, when=_when, result=result)

    def plan(self, query: dict[str, str]) -> Reply:
        """``/plan?stage=``: what ``campaign plan --stage S`` would print; writes nothing."""
        stage = query.get("stage", "").strip() or self.stage
        if stage not in self.stages:
            raise StudioInputError(f"stage: {stage!r} is not a stage; one of {', '.join(self.stages)}")
        panel: PlanPanel = plan_panel(stage, self._read(), self.services_of)
        return self._page("plan.html", "plan", panel=panel, stages=self.stages)


# ---------------------------------------------------------------- HTTP


def _handler(studio: Studio) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "campaign-studio"

        def _answer(self, method: str) -> None:
            reply = studio.handle(method, self.path, dict(self.headers.items()))
            data = reply.body.encode("utf-8")
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(data)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            self._answer("GET")

        def do_HEAD(self) -> None:  # noqa: N802
            self._answer("HEAD")

        def do_POST(self) -> None:  # noqa: N802
            self._answer("POST")

        def log_message(self, format: str, *args: Any) -> None:  # one line a request, on stderr
            sys.stderr.write(f"studio: {self.address_string()} {format % args}\n")

    return Handler


def make_server(studio: Studio, port: int) -> ThreadingHTTPServer:
    """The studio's server on 127.0.0.1:``port`` (0: any free one); not started (``serve_forever``)."""
    server = ThreadingHTTPServer((HOST, port), _handler(studio))
    server.daemon_threads = True
    return server


def serve_studio(studio: Studio, port: int) -> int:
    """Serve until Ctrl-C; prints the address first."""
    server = make_server(studio, port)
    bound = server.server_address[1]
    print(f"campaign studio on http://{HOST}:{bound}/ (campaigns: {studio.campaigns}); Ctrl-C stops it", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
