"""The table's keys and the campaign side's item shapes (no I/O).

One table, key ``PK`` (S) + ``SK`` (S), TTL attribute ``expires_at_epoch_s``.

==========================  ======================  ==========================================
PK                          SK                      item
==========================  ======================  ==========================================
``RELEASE``                 ``CURRENT``             the live release: number, manifest, catalog
``RELEASE``                 ``R#<n:010>``           every release, kept for rollback
``CAMPAIGN#<id>``           ``V#<sha256>``          one campaign document, content-addressed
``CAMPAIGN#<id>``           ``HEAD``                a copy of its newest published document
``ROTATION``                ``CURRENT``             the live homepage rotation
``ROTATION``                ``CURRENT#LIVE``        the live release's number (written with the flip)
``ROTATION``                ``CURRENT#R#<n>#<id>``  one homepage campaign of release n (n: 10 digits)
``ROTATION``                ``H#<n:010>``           rotation history (TTL 30 days)
``ORDER#<order_id>``        ``ORDER``               a recorded sale (idempotency of /api/sales)
``REFUND#<refund_id>``      ``REFUND``              a recorded refund (idempotency of /api/refunds)
``POINTS#<donation_id>``    ``POINTS``              a point donation (idempotency of /api/point-donations)
``TOTALS#<id>#<s:03d>``     ``SUM``                 counter shard s of a campaign's books (ADD only)
``LEDGER#<id>#<l:02d>``     ``E#<at UTC>#<nonce>``  one public ledger entry, in ledger shard l
==========================  ======================  ==========================================

Documents are stored as JSON text (``doc``, :func:`item_json`), so no number
ever passes through ``float`` and no DynamoDB ``Decimal`` reaches a response.
The access patterns that read and write these items are in
:mod:`chalicelib.store.releases`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

RELEASE_PK = "RELEASE"
CURRENT_SK = "CURRENT"
HEAD_SK = "HEAD"
ROTATION_PK = "ROTATION"
LOCAL_PK = "LOCAL"  # the local stack only (campaign serve)
TTL_ATTRIBUTE = "expires_at_epoch_s"

KEY_SCHEMA = [
    {"AttributeName": "PK", "KeyType": "HASH"},
    {"AttributeName": "SK", "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": "PK", "AttributeType": "S"},
    {"AttributeName": "SK", "AttributeType": "S"},
]


def release_sk(release: int) -> str:
    return f"R#{release:010d}"


def campaign_pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def version_sk(digest: str) -> str:
    return f"V#{digest}"


def head_key(campaign_id: str) -> dict[str, str]:
    return {"PK": campaign_pk(campaign_id), "SK": HEAD_SK}


RELEASE_KEY = {"PK": RELEASE_PK, "SK": CURRENT_SK}
ROTATION_KEY = {"PK": ROTATION_PK, "SK": CURRENT_SK}


LIVE_RELEASE_KEY = {"PK": ROTATION_PK, "SK": f"{CURRENT_SK}#LIVE"}
HOMEPAGE_PREFIX = f"{CURRENT_SK}#R#"


def homepage_prefix(release: int) -> str:
    """The ``SK`` prefix of release ``release``'s homepage campaigns (partition ``ROTATION``)."""
    return f"{HOMEPAGE_PREFIX}{release:010d}#"


def homepage_key(release: int, campaign_id: str) -> dict[str, str]:
    return {"PK": ROTATION_PK, "SK": homepage_prefix(release) + campaign_id}


def history_sk(rotation: int) -> str:
    return f"H#{rotation:010d}"


def item_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Release:
    """A published set of campaigns.

    ``manifest``: campaign id -> content digest of its document.
    ``catalog``: one compact summary per campaign (id, kind, title, windows,
    charity headline) for the homepage list and ``/charity``.
    """

    number: int
    manifest: Mapping[str, str]
    catalog: Sequence[Mapping[str, Any]]
    published_at: str
    published_by: str = ""
    commit: str = ""
    previous: int = 0

    @property
    def content_digest(self) -> str:
        return hashlib.sha256(item_json([self.manifest, list(self.catalog)]).encode()).hexdigest()

    def to_item(self, sk: str) -> dict[str, Any]:
        return {
            "PK": RELEASE_PK,
            "SK": sk,
            "release": self.number,
            "previous": self.previous,
            "manifest": item_json(dict(self.manifest)),
            "catalog": item_json(list(self.catalog)),
            "published_at": self.published_at,
            "published_by": self.published_by,
            "commit": self.commit,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Release":
        return cls(
            number=int(item["release"]),
            previous=int(item.get("previous", 0)),
            manifest=json.loads(item["manifest"]),
            catalog=json.loads(item["catalog"]),
            published_at=str(item.get("published_at", "")),
            published_by=str(item.get("published_by", "")),
            commit=str(item.get("commit", "")),
        )


@dataclass(frozen=True)
class CampaignHead:
    """``CAMPAIGN#<id>/HEAD``: the campaign's newest published document and its digest.

    A read shortcut, never the truth: a reader uses ``doc`` only when
    ``digest`` equals the digest the live release's manifest names.
    """

    digest: str
    doc: Mapping[str, Any]

    def to_item(self, campaign_id: str) -> dict[str, Any]:
        return {**head_key(campaign_id), "digest": self.digest, "doc": item_json(self.doc)}

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "CampaignHead":
        return cls(digest=str(item["digest"]), doc=json.loads(item["doc"]))


@dataclass(frozen=True)
class RotationInputs:
    """What one rotation reads (:meth:`Store.get_rotation_inputs`).

    ``release``: the live release's number, ``None`` before the first publish.
    ``rotation``: the previous rotation document, ``None`` before the first.
    ``entries``: the live release's homepage campaigns (publishing's ``homepage_entry`` shape).
    """

    release: int | None
    rotation: dict[str, Any] | None
    entries: list[dict[str, Any]]
