"""The signed system routes, from raw request to response (no chalice import).

Each route does, in this order, and stops at the first refusal:

1. verify the Standard Webhooks signature over the RAW body bytes with the
   real wall clock (:mod:`chalicelib.webhooks.signing`) -> 401;
2. parse and validate the body (:mod:`chalicelib.webhooks.requests`) -> 400/422;
3. record it in the books (:mod:`chalicelib.books.service`) at the campaign
   clock's instant -> 201, or 200 for a replay, or 404/409/422.

Nothing is written unless all three pass. Responses are JSON with
``Cache-Control: no-store``; a refusal raises (``Unauthorized``,
``BadRequest``, ``Unprocessable``, ...), which the web edge answers.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar

from chalicelib.books.service import Books, Outcome
from chalicelib.clock import Clock
from chalicelib.web.response import JSON, NO_STORE, Response, json_text
from chalicelib.webhooks.requests import parse_point_donation, parse_refund, parse_sale
from chalicelib.webhooks.signing import WebhookVerifier

RawBody = bytes | str | None  # what Chalice hands over as the raw body
R = TypeVar("R")


class Webhooks:
    """The three signed routes over a ``verifier`` (its own wall clock), the ``books``,
    and the campaign ``clock`` (a refund's or a point donation's time of receipt)."""

    def __init__(self, verifier: WebhookVerifier, books: Books, clock: Clock) -> None:
        self.verifier = verifier
        self.books = books
        self.clock = clock

    def sale(self, raw_body: RawBody, headers: Mapping[str, str]) -> Response:
        """``POST /api/sales`` -> 201 ``{"order_id", "campaign_id", "donation", "status": "recorded"}``."""
        return self._signed(raw_body, headers, parse_sale, self.books.record_sale)

    def refund(self, raw_body: RawBody, headers: Mapping[str, str]) -> Response:
        """``POST /api/refunds`` -> 201 ``{"refund_id", "order_id", "donation_reversed"}``."""
        return self._signed(raw_body, headers, parse_refund, self.books.record_refund)

    def point_donation(self, raw_body: RawBody, headers: Mapping[str, str]) -> Response:
        """``POST /api/point-donations`` -> 201 ``{"donation_id", "amount"}``."""
        return self._signed(raw_body, headers, parse_point_donation, self.books.record_points)

    def _signed(
        self,
        raw_body: RawBody,
        headers: Mapping[str, str],
        parse: Callable[[bytes], R],
        record: Callable[[R, datetime], Outcome],
    ) -> Response:
        raw = _raw(raw_body)
        self.verifier.verify(raw, headers)
        outcome = record(parse(raw), self.clock())
        return Response(outcome.status, json_text(outcome.body), JSON, NO_STORE)


def _raw(body: RawBody) -> bytes:
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode("utf-8")
