"""The signed system routes, from raw request to response (no chalice import).

Each route does, in this order, and stops at the first refusal:

1. verify the Standard Webhooks signature over the RAW body bytes with the
   real wall clock (:mod:`chalicelib.webhooks.signing`) -> 401;
2. parse and validate the body (:mod:`chalicelib.webhooks.requests`) -> 400/422;
3. record it in the books (:mod:`chalicelib.books.service`) at the campaign
   clock's instant -> 201, or 200 for a replay, or 404/409/422.

Nothing is written unless all three pass. A 503 says which of two things
happened (docs/resilience.md): the write *may have been applied*
(:class:`~chalicelib.errors.OutcomeUnknown`: its answer was lost), or
*nothing was recorded*; either way the sender retries with the same id, which
is safe (a write that landed answers 200 with the first answer). Responses are JSON with
``Cache-Control: no-store``; a refusal raises (``Unauthorized``,
``BadRequest``, ``Unprocessable``, ...), which the web edge answers.

Every answer is counted (``SystemRequests`` by route and status, refusals
included: a burst of 401s is a rotated secret or an attack, docs/runbook.md),
and a first write also counts its money (``SalesRecorded``, ``DonationsFen``,
``Refunds``, ``PointDonations``: :class:`~chalicelib.observability.Observability`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TypeVar

from chalicelib.books.inputs import PointDonationRequest, RefundRequest, SaleRequest
from chalicelib.books.service import Books, Outcome
from chalicelib.clock import Clock
from chalicelib.domain.money import parse_yuan
from chalicelib.errors import OutcomeUnknown, StoreUnavailable
from chalicelib.observability import Observability
from chalicelib.web.response import JSON, NO_STORE, Response, json_text
from chalicelib.webhooks.requests import parse_point_donation, parse_refund, parse_sale
from chalicelib.webhooks.signing import WebhookVerifier

RawBody = bytes | str | None  # what Chalice hands over as the raw body
ID_FIELDS = {"sales": "order_id", "refunds": "refund_id", "point-donations": "donation_id"}  # each route's idempotency key
R = TypeVar("R")


class Webhooks:
    """The three signed routes over a ``verifier`` (its own wall clock), the ``books``,
    and the campaign ``clock`` (a refund's or a point donation's time of receipt)."""

    def __init__(self, verifier: WebhookVerifier, books: Books, clock: Clock, observability: Observability) -> None:
        self.verifier = verifier
        self.books = books
        self.clock = clock
        self.observability = observability

    def sale(self, raw_body: RawBody, headers: Mapping[str, str]) -> Response:
        """``POST /api/sales`` -> 201 ``{"order_id", "campaign_id", "donation", "status": "recorded"}``."""

        def counted(req: SaleRequest, outcome: Outcome) -> None:
            self.observability.sale(outcome.kind, req.amount_fen, parse_yuan(outcome.body["donation"]))

        return self._signed("sales", raw_body, headers, parse_sale, self.books.record_sale, counted)

    def refund(self, raw_body: RawBody, headers: Mapping[str, str]) -> Response:
        """``POST /api/refunds`` -> 201 ``{"refund_id", "order_id", "donation_reversed"}``."""

        def counted(req: RefundRequest, outcome: Outcome) -> None:
            self.observability.refund(req.amount_fen, parse_yuan(outcome.body["donation_reversed"]))

        return self._signed("refunds", raw_body, headers, parse_refund, self.books.record_refund, counted)

    def point_donation(self, raw_body: RawBody, headers: Mapping[str, str]) -> Response:
        """``POST /api/point-donations`` -> 201 ``{"donation_id", "amount"}``."""

        def counted(req: PointDonationRequest, outcome: Outcome) -> None:
            self.observability.point_donation(req.points, parse_yuan(outcome.body["amount"]))

        return self._signed("point-donations", raw_body, headers, parse_point_donation, self.books.record_points, counted)

    def _signed(
        self,
        route: str,
        raw_body: RawBody,
        headers: Mapping[str, str],
        parse: Callable[[bytes], R],
        record: Callable[[R, datetime], Outcome],
        counted: Callable[[R, Outcome], None],
    ) -> Response:
        try:
            raw = _raw(raw_body)
            self.verifier.verify(raw, headers)
            request = parse(raw)
            outcome = record(request, self.clock())
        except StoreUnavailable as exc:
            self.observability.system_request(route, exc.STATUS_CODE)
            raise _honest(exc, ID_FIELDS[route]) from exc
        except Exception as exc:
            self.observability.system_request(route, getattr(exc, "STATUS_CODE", 500))
            raise
        self.observability.system_request(route, outcome.status)
        if outcome.status == 201:  # a first write; a replay moved no money
            counted(request, outcome)
        return Response(outcome.status, json_text(outcome.body), JSON, NO_STORE)


def _honest(exc: StoreUnavailable, id_field: str) -> StoreUnavailable:
    """The 503 of a system request that DynamoDB failed, saying whether the write may have landed."""
    if isinstance(exc, OutcomeUnknown):
        return OutcomeUnknown(
            f"{exc}. The outcome is unknown: the write may have been applied. Retry with the same {id_field} and"
            " body: if it was applied, the retry answers 200 with the first answer; if not, it is recorded then"
        )
    return StoreUnavailable(f"{exc}. Nothing was written: retry with the same {id_field} and body")


def _raw(body: RawBody) -> bytes:
    if body is None:
        return b""
    return body if isinstance(body, bytes) else str(body).encode("utf-8")
