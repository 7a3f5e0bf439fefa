"""The shapes a release keeps of its campaigns: the content digest and the catalog summary.

:func:`doc_digest` addresses a campaign document (``CAMPAIGN#<id>/V#<sha256>``);
:func:`catalog_entry` is the compact row of each campaign in the release item,
read by the homepage list, ``/charity`` and ``/impact``
(:class:`chalicelib.releases.catalog.StoreCatalog`). Written by a publish,
read by the pages: one home for both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from chalicelib.domain.model import DEFAULT_RETURN_DAYS


def doc_digest(doc: Mapping[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of a campaign document."""
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def catalog_entry(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The compact summary of a campaign kept in the release item."""
    charity = doc.get("charity")
    products = doc.get("products") or []
    return {
        "id": doc["id"],
        "kind": doc["kind"],
        "title": doc["title"],
        "summary": doc.get("summary"),
        "timezone": doc["timezone"],
        "teaser_from": doc.get("teaser_from"),
        "starts_at": doc["starts_at"],
        "ends_at": doc.get("ends_at"),
        "image": products[0]["image"] if products else None,
        "products": len(products),
        # Whether it is a homepage campaign: a request that lays a publish into the homepage
        # reads the documents of new or changed ones only (docs/architecture.md, "Homepage rotation").
        "homepage": doc.get("homepage") is not None,
        "charity": None
        if charity is None
        else {
            **{k: charity[k] for k in ("rate", "goal", "beneficiary", "beneficiaries", "partner")},
            "return_days": charity.get("return_days", DEFAULT_RETURN_DAYS),
        },
    }
