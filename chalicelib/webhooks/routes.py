"""The signed system routes, from raw request to response (no chalice import).

Each handler does, in this order, and stops at the first refusal:

1. verify the Standard Webhooks signature over the RAW body bytes with the
   real wall clock (:mod:`chalicelib.webhooks.signing`) -> 401;
2. parse and validate the body (:mod:`chalicelib.webhooks.requests`) -> 400/422;
3. record it in the books (:mod:`chalicelib.books.service`) -> 201, or 200 for a
   replay, or 404/409/422.

Nothing is written unless all three pass. Responses are JSON with
``Cache-Control: no-store``.
"""
from __future__ import annotations

import json
from typing import Any, Callable, Mapping

from chalicelib.books.service import Books, Outcome
from chalicelib.web.response import JSON, NO_STORE, Response
from chalicelib.webhooks.requests import parse_point_donation, parse_refund, parse_sale
from chalicelib.webhooks.signing import WebhookVerifier


def _respond(outcome: Outcome) -> Response:
    return Response(outcome.status, json.dumps(outcome.body, ensure_ascii=False), JSON, NO_STORE)


def _raw(body: Any) -> bytes:
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode("utf-8")


def _handle(
    verifier: WebhookVerifier, raw_body: Any, headers: Mapping[str, str], parse: Callable[[bytes], Any], record: Callable[[Any], Outcome]
) -> Response:
    raw = _raw(raw_body)
    verifier.verify(raw, headers)
    return _respond(record(parse(raw)))


def sale(svc: Any, raw_body: Any, headers: Mapping[str, str]) -> Response:
    """``POST /api/sales`` -> 201 ``{"order_id", "campaign_id", "donation", "status": "recorded"}``."""
    books: Books = svc.books
    return _handle(svc.verifier, raw_body, headers, parse_sale, lambda r: books.record_sale(r, svc.clock()))


def refund(svc: Any, raw_body: Any, headers: Mapping[str, str]) -> Response:
    """``POST /api/refunds`` -> 201 ``{"refund_id", "order_id", "donation_reversed"}``."""
    books: Books = svc.books
    return _handle(svc.verifier, raw_body, headers, parse_refund, lambda r: books.record_refund(r, svc.clock()))


def point_donation(svc: Any, raw_body: Any, headers: Mapping[str, str]) -> Response:
    """``POST /api/point-donations`` -> 201 ``{"donation_id", "amount"}``."""
    books: Books = svc.books
    return _handle(svc.verifier, raw_body, headers, parse_point_donation, lambda r: books.record_points(r, svc.clock()))
