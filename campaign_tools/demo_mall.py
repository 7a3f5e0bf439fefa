"""The demo mall: a plainly labelled stand-in for the mall's product pages and checkout, local only.

``campaign serve`` runs it on its own port (``--mall-port``, default 8002) and
points the local stage's ``PRODUCT_URL_TEMPLATE`` at ``/item/{sku}`` on it, so
a buy link on a live campaign page lands here (docs/runbook.md, "The demo
checkout"). It is a tool: never packaged, never deployed.

- ``GET /item/<sku>?utm_campaign=<id>&...``: the product page: the SKU, its
  name and price (the published campaign's pick: the price the platform
  shows), a quantity field and a pay button (a plain HTML form, no script);
- ``POST /pay`` (the form): quantity < 1 is refused (400); otherwise the
  server makes the order system's sale (``order_id`` ``DEMO-...``, the
  ``campaign_id`` read from ``utm_campaign``, ``amount`` = price × quantity,
  ``paid_at`` = the stage's clock now), signs it with the stage's secret
  (Standard Webhooks, :func:`campaign_tools.sign.sign_headers`: the secret
  never reaches the browser) and posts it to the platform's
  ``POST /api/sales``; the page shows the platform's answer, its 4xx reason
  as is, and a link back to the campaign page.
"""

from __future__ import annotations

import json
import secrets
import threading
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

from campaign_tools.sign import sign_headers
from chalicelib.clock import Clock
from chalicelib.domain.buy_links import campaign_of
from chalicelib.domain.model import Campaign, Pick
from chalicelib.domain.money import fen_to_yuan_str

ITEM_PATH = "/item/"
PAY_PATH = "/pay"
MAX_QUANTITY = 1000  # a demo basket; the platform itself accepts up to 1,000,000 (docs/openapi.yaml)
MAX_FORM_BYTES = 4096
POST_TIMEOUT_S = 10


def product_url_template(host: str, port: int) -> str:
    """The local stage's ``PRODUCT_URL_TEMPLATE``: this mall's product page of ``{sku}``."""
    return f"http://{host}:{port}{ITEM_PATH}{{sku}}"


@dataclass(frozen=True)
class Answer:
    """What the platform answered a sale: its status and its JSON body (or text when not JSON)."""

    status: int
    body: Any


class DemoMall:
    """The stand-in's pages and its one system call.

    ``platform``: the platform's base URL (``http://127.0.0.1:8000``);
    ``campaign``: id -> the published campaign, or ``None`` (the live
    release, so the price is the one the campaign page shows); ``secret``:
    the stage's signing secret (``whsec_...``); ``clock``: the stage's clock
    (``paid_at``); ``post``: sends the signed sale (tests may replace it).
    """

    def __init__(
        self,
        platform: str,
        campaign: Callable[[str], Campaign | None],
        secret: str,
        clock: Clock,
        post: Callable[[str, bytes, dict[str, str]], Answer] | None = None,
    ) -> None:
        self.platform = platform.rstrip("/")
        self.campaign = campaign
        self.secret = secret
        self.clock = clock
        self.post = post or _post

    # ------------------------------------------------------------ pages

    def product_page(self, sku: str, campaign_id: str | None) -> tuple[int, str]:
        """``(status, html)`` of ``GET /item/<sku>``: 404 for an unknown campaign or SKU."""
        found = self._pick(campaign_id, sku)
        if isinstance(found, str):
            return 404, _page("Not in this demo mall", f"<p class='error'>{escape(found)}</p>", self._back(campaign_id))
        campaign, pick = found
        form = (
            f"<form method='post' action='{PAY_PATH}'>"
            f"<input type='hidden' name='campaign_id' value='{escape(campaign.id)}'>"
            f"<input type='hidden' name='sku' value='{escape(pick.sku)}'>"
            f"<p><label>Quantity <input type='number' name='quantity' value='1' min='1' max='{MAX_QUANTITY}' required></label></p>"
            "<p><button type='submit'>Pay (demo)</button></p></form>"
        )
        body = (
            f"<h1>{escape(pick.name.get('en'))} <small lang='zh-CN'>{escape(pick.name.get('zh-CN'))}</small></h1>"
            f"<dl><dt>SKU</dt><dd class='sku'>{escape(pick.sku)}</dd>"
            f"<dt>Price</dt><dd class='price'>¥{fen_to_yuan_str(pick.price_fen)}</dd>"
            f"<dt>From the campaign</dt><dd class='campaign'>{escape(campaign.id)}</dd></dl>{form}"
        )
        return 200, _page(f"{pick.sku} · demo mall", body, self._back(campaign.id))

    def pay(self, form: dict[str, str]) -> tuple[int, str]:
        """``(status, html)`` of ``POST /pay``: refuses a quantity below 1, else records the sale
        on the platform and shows its answer (its status, and a 4xx reason as the platform gave it)."""
        campaign_id, sku = form.get("campaign_id") or None, form.get("sku", "")
        raw = form.get("quantity", "").strip()
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_QUANTITY:
            reason = f"quantity {raw!r}: enter a whole number from 1 to {MAX_QUANTITY}"
            return 400, _page("Quantity refused", f"<p class='error'>{escape(reason)}</p>", self._back(campaign_id, sku))
        found = self._pick(campaign_id, sku)
        if isinstance(found, str):
            return 404, _page("Not in this demo mall", f"<p class='error'>{escape(found)}</p>", self._back(campaign_id))
        campaign, pick = found
        quantity = int(raw)
        order_id, amount = "DEMO-" + secrets.token_hex(8).upper(), fen_to_yuan_str(pick.price_fen * quantity)
        sale = {
            "order_id": order_id,
            "campaign_id": campaign.id,
            "sku": pick.sku,
            "quantity": quantity,
            "amount": amount,
            "paid_at": self.clock().astimezone(campaign.zone).isoformat(timespec="seconds"),
        }
        body = json.dumps(sale, ensure_ascii=False).encode("utf-8")
        headers = {"content-type": "application/json", **sign_headers(self.secret, body)}
        answer = self.post(f"{self.platform}/api/sales", body, headers)
        if answer.status in (200, 201) and isinstance(answer.body, dict):
            summary = (
                f"<p class='result ok'>The platform recorded order <code>{escape(order_id)}</code>: "
                f"{quantity} × ¥{fen_to_yuan_str(pick.price_fen)} = ¥{amount}, "
                f"donation ¥{escape(str(answer.body.get('donation', '0.00')))}.</p>"
            )
            status = 200
        else:
            reason = str(answer.body.get("message") if isinstance(answer.body, dict) else answer.body)
            summary = f"<p class='result error'>The platform answered {answer.status}: <q class='reason'>{escape(reason)}</q></p>"
            status = 502 if answer.status >= 500 else answer.status
        shown = json.dumps(answer.body, ensure_ascii=False, indent=2)
        detail = f"{summary}<h2>The platform's answer ({answer.status})</h2><pre class='answer'>{escape(shown)}</pre>"
        return status, _page("Payment (demo)", detail, self._back(campaign.id))

    # ------------------------------------------------------------ helpers

    def _pick(self, campaign_id: str | None, sku: str) -> tuple[Campaign, Pick] | str:
        """The campaign's pick of ``sku``, or why there is none."""
        if not campaign_id:
            return "no utm_campaign: open this page from a buy link of a live campaign page"
        campaign = self.campaign(campaign_id)
        if campaign is None:
            return f"no published campaign {campaign_id!r}"
        pick = campaign.pick(sku)
        if pick is None:
            return f"campaign {campaign_id!r} has no SKU {sku!r}"
        return campaign, pick

    def _back(self, campaign_id: str | None, sku: str | None = None) -> str:
        links = []
        if sku and campaign_id:
            links.append(f"<a href='{ITEM_PATH}{quote(sku, safe='')}?utm_campaign={quote(campaign_id)}'>Try again</a>")
        if campaign_id:
            links.append(
                f"<a class='back' href='{escape(self.platform)}/campaigns/{quote(campaign_id)}'>Back to the campaign page</a>"
            )
        links.append(f"<a href='{escape(self.platform)}/'>The platform's homepage</a>")
        return " · ".join(links)


def _page(title: str, body: str, back: str) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<meta name='robots' content='noindex'><title>{escape(title)}</title></head><body>"
        "<p class='stand-in' role='note'><strong>Demo mall: a local stand-in for the real mall.</strong> "
        "Nothing is sold or paid here; the pay button records a test sale on the local platform.</p>"
        f"<main>{body}</main><p class='nav'>{back}</p></body></html>"
    )


def _post(url: str, body: bytes, headers: dict[str, str]) -> Answer:
    """POST ``body`` to ``url``; the answer's status and JSON body (its text when it is not JSON)."""
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=POST_TIMEOUT_S) as response:  # noqa: S310 - the local platform's URL
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except OSError as exc:
        return Answer(502, f"the platform did not answer: {exc}")
    try:
        return Answer(status, json.loads(raw))
    except ValueError:
        return Answer(status, raw.decode("utf-8", "replace"))


def make_server(mall: DemoMall, host: str, port: int) -> ThreadingHTTPServer:
    """The mall's HTTP server on ``host``:``port`` (0: any free port), not yet serving."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "demo-mall"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            pass  # quiet: campaign serve prints its own lines

        def _send(self, status: int, html: str) -> None:
            data = html.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.send_header("Content-Security-Policy", "default-src 'none'; form-action 'self'; frame-ancestors 'none'")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = urlsplit(self.path)
            if not parts.path.startswith(ITEM_PATH) or len(parts.path) == len(ITEM_PATH):
                self._send(404, _page("Demo mall", "<p>Open a product from a buy link: /item/&lt;sku&gt;</p>", ""))
                return
            sku = unquote(parts.path[len(ITEM_PATH) :])
            self._send(*mall.product_page(sku, campaign_of(self.path)))

        do_HEAD = do_GET  # noqa: N815 - http.server's name

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("content-length") or 0)
            if urlsplit(self.path).path != PAY_PATH or not 0 < length <= MAX_FORM_BYTES:
                self._send(400, _page("Demo mall", "<p>Pay from a product page's form.</p>", ""))
                return
            fields = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
            self._send(*mall.pay({k: v[0] for k, v in fields.items()}))

    return ThreadingHTTPServer((host, port), Handler)


def start(server: ThreadingHTTPServer) -> threading.Thread:
    """Serve the mall's ``server`` (:func:`make_server`) on a daemon thread."""
    thread = threading.Thread(target=server.serve_forever, name="demo-mall", daemon=True)
    thread.start()
    return thread


__all__ = ["Answer", "DemoMall", "make_server", "product_url_template", "start"]
