"""The table's keys: every ``PK``/``SK`` builder beside its parser, and the table's shape (no I/O).

One table, key ``PK`` (S) + ``SK`` (S), TTL attribute ``expires_at_epoch_s``
(:data:`TTL_ATTRIBUTE`), on-demand. Every item type:

==========================  ======================  ==================================================
PK                          SK                      item (:mod:`chalicelib.store.items`)
==========================  ======================  ==================================================
``RELEASE``                 ``CURRENT``             the live release: number, manifest, catalog
``RELEASE``                 ``R#<n:010>``           every release, kept for rollback
``CAMPAIGN#<id>``           ``V#<sha256>``          one campaign document, content-addressed
``CAMPAIGN#<id>``           ``HEAD``                a copy of its newest published document + digest
``ROTATION``                ``CURRENT``             the live homepage rotation
``ROTATION``                ``CURRENT#LIVE``        the live release's number (written with the flip)
``ROTATION``                ``CURRENT#R#<n>#<id>``  one homepage campaign of release n (n: 10 digits)
``ROTATION``                ``H#<n:010>``           rotation history (TTL 30 days)
``ORDER#<order_id>``        ``ORDER``               a recorded sale: paid, refunded, donation, rate,
                                                    version, fingerprint + first answer (idempotency
                                                    of /api/sales)
``REFUND#<refund_id>``      ``REFUND``              a recorded refund (idempotency of /api/refunds)
``POINTS#<donation_id>``    ``POINTS``              a point donation (idempotency of /api/point-donations)
``TOTALS#<id>#<s:03d>``     ``SUM``                 counter shard s of a campaign's books: ADD-only sums
                                                    (sales_fen, orders, refunds, raised_sales_fen,
                                                    raised_points_fen, point_donations, points, and
                                                    ``P:["<county code>","<merchant id>"]`` net sales)
``LEDGER#<id>#<l:02d>``     ``E#<at UTC>#<nonce>``  one public ledger entry in ledger shard l (at, kind,
                                                    masked ref, amount_fen; the private ``source``)
``LOCAL``                   ``CLOCK``               the local stack's clock offset (``campaign serve``)
==========================  ======================  ==================================================

The ``ROTATION`` items whose ``SK`` begins with ``CURRENT`` are what one
rotation reads, in one ``Query``. The idempotency ids are scoped per route by
their prefix (``ORDER#``, ``REFUND#``, ``POINTS#``). Numbers in keys are
zero-padded, so text order is number order and a newest-first ``Query``
needs no index. The capacity plan of the books' items is in ``docs/donations.md``.
"""

from __future__ import annotations

from datetime import UTC, datetime

TTL_ATTRIBUTE = "expires_at_epoch_s"
KEY_SCHEMA = [
    {"AttributeName": "PK", "KeyType": "HASH"},
    {"AttributeName": "SK", "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": "PK", "AttributeType": "S"},
    {"AttributeName": "SK", "AttributeType": "S"},
]

Key = dict[str, str]  # {"PK": ..., "SK": ...}

# ------------------------------------------------------------------ releases and campaigns

RELEASE_PK = "RELEASE"
CURRENT_SK = "CURRENT"
HEAD_SK = "HEAD"
RELEASE_PREFIX = "R#"
VERSION_PREFIX = "V#"
RELEASE_KEY: Key = {"PK": RELEASE_PK, "SK": CURRENT_SK}


def release_sk(release: int) -> str:
    """``R#0000000007``: the kept record of release ``release``."""
    return f"{RELEASE_PREFIX}{release:010d}"


def parse_release_sk(sk: str) -> int:
    """Inverse of :func:`release_sk`; ``ValueError`` for another sort key."""
    return int(_after(sk, RELEASE_PREFIX))


def campaign_pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def version_sk(digest: str) -> str:
    """``V#<sha256 hex>``: a campaign document, addressed by its content digest."""
    return f"{VERSION_PREFIX}{digest}"


def version_key(campaign_id: str, digest: str) -> Key:
    return {"PK": campaign_pk(campaign_id), "SK": version_sk(digest)}


def head_key(campaign_id: str) -> Key:
    return {"PK": campaign_pk(campaign_id), "SK": HEAD_SK}


# ------------------------------------------------------------------ the rotation and the homepage

ROTATION_PK = "ROTATION"
HISTORY_PREFIX = "H#"
HOMEPAGE_PREFIX = f"{CURRENT_SK}#R#"
ROTATION_KEY: Key = {"PK": ROTATION_PK, "SK": CURRENT_SK}
LIVE_RELEASE_KEY: Key = {"PK": ROTATION_PK, "SK": f"{CURRENT_SK}#LIVE"}


def homepage_prefix(release: int) -> str:
    """The ``SK`` prefix of release ``release``'s homepage campaigns (partition ``ROTATION``)."""
    return f"{HOMEPAGE_PREFIX}{release:010d}#"


def homepage_key(release: int, campaign_id: str) -> Key:
    """``ROTATION / CURRENT#R#<n:010>#<id>``: one homepage campaign of a release."""
    return {"PK": ROTATION_PK, "SK": homepage_prefix(release) + campaign_id}


def parse_homepage_sk(sk: str) -> tuple[int, str]:
    """``(release, campaign id)`` of a :func:`homepage_key` sort key; ``ValueError`` for another."""
    number, sep, campaign_id = _after(sk, HOMEPAGE_PREFIX).partition("#")
    if not sep or len(number) != 10:
        raise ValueError(f"not a homepage sort key: {sk!r}")
    return int(number), campaign_id


def history_sk(rotation: int) -> str:
    """``H#0000000042``: the history item of rotation ``rotation`` (TTL)."""
    return f"{HISTORY_PREFIX}{rotation:010d}"


def parse_history_sk(sk: str) -> int:
    """Inverse of :func:`history_sk`; ``ValueError`` for another sort key."""
    return int(_after(sk, HISTORY_PREFIX))


# ------------------------------------------------------------------ the books

ORDER_SK = "ORDER"
REFUND_SK = "REFUND"
POINTS_SK = "POINTS"
TOTALS_SK = "SUM"
TOTALS_PREFIX = "TOTALS#"
LEDGER_PREFIX = "E#"
LEDGER_TOP = "E$"  # sorts after every "E#..." ledger key: the start of the newest-first walk


def order_pk(order_id: str) -> str:
    return f"ORDER#{order_id}"


def order_key(order_id: str) -> Key:
    return {"PK": order_pk(order_id), "SK": ORDER_SK}


def refund_pk(refund_id: str) -> str:
    return f"REFUND#{refund_id}"


def refund_key(refund_id: str) -> Key:
    return {"PK": refund_pk(refund_id), "SK": REFUND_SK}


def points_pk(donation_id: str) -> str:
    return f"POINTS#{donation_id}"


def totals_pk(campaign_id: str, shard: int) -> str:
    return f"{TOTALS_PREFIX}{campaign_id}#{shard:03d}"


def totals_key(campaign_id: str, shard: int) -> Key:
    return {"PK": totals_pk(campaign_id, shard), "SK": TOTALS_SK}


def parse_totals_pk(pk: str) -> tuple[str, int]:
    """``(campaign id, shard)`` of a :func:`totals_pk`; ``ValueError`` for another key.

    Campaign ids hold no ``#`` (``chalicelib.domain.ids``), so the last ``#`` splits.
    """
    campaign_id, sep, shard = _after(pk, TOTALS_PREFIX).rpartition("#")
    if not sep:
        raise ValueError(f"not a totals key: {pk!r}")
    return campaign_id, int(shard)


def ledger_pk(campaign_id: str, shard: int) -> str:
    return f"LEDGER#{campaign_id}#{shard:02d}"


def ledger_sk(at: datetime, nonce: str) -> str:
    """``E#2026-11-20T02:00:00.000000Z#<nonce>``: fixed width, so text order is time order.

    The nonce (random hex) makes the key unique and names no order, so the
    key may appear (signed) in a public cursor.
    """
    return f"{LEDGER_PREFIX}{at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S.%fZ')}#{nonce}"


def parse_ledger_sk(sk: str) -> tuple[datetime, str]:
    """``(at, nonce)`` of a :func:`ledger_sk`; ``ValueError`` for another sort key."""
    stamp, sep, nonce = _after(sk, LEDGER_PREFIX).partition("#")
    if not sep:
        raise ValueError(f"not a ledger sort key: {sk!r}")
    return datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC), nonce


# ------------------------------------------------------------------ the local stack only

LOCAL_PK = "LOCAL"
LOCAL_CLOCK_KEY: Key = {"PK": LOCAL_PK, "SK": "CLOCK"}


def _after(key: str, prefix: str) -> str:
    if not key.startswith(prefix):
        raise ValueError(f"{key!r} does not begin with {prefix!r}")
    return key[len(prefix) :]
