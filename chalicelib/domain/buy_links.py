"""Buy links: the mall's product page of a pick, with the attribution the order system reads back.

The one home of the rule (docs/architecture.md, "Buy links"):

- the target is the pick's own ``url`` (from the YAML), else the stage's
  ``PRODUCT_URL_TEMPLATE`` with ``{sku}`` replaced by the SKU percent-encoded,
  ``/`` included (``quote(sku, safe="")``); with neither there is no link
  (``None``), and the page shows the pick without one;
- the link carries ``utm_source`` (:data:`UTM_SOURCE`), ``utm_medium``
  (``campaign`` on a campaign page, ``homepage`` on a homepage slot),
  ``utm_campaign=<campaign id>`` and, on the homepage,
  ``utm_content=slot-<position>``. The target's own query parameters stay,
  except ``utm_*`` ones, which ours replace;
- only a live campaign has buy links (the pages ask :func:`buy_url` only then).

No part of a link comes from the request, so a link cannot be turned into an
open redirect. A pick's ``url`` must pass :func:`pick_url_problem`: https,
a host, no user name or password, no spaces, at most
:data:`MAX_URL_CHARS` characters.
"""

from __future__ import annotations

import functools
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

# Who sends the shopper, as the mall's analytics see it: this platform (docs/architecture.md).
UTM_SOURCE = "campaign-platform"
CAMPAIGN = "campaign"  # utm_medium of a pick on a campaign page
HOMEPAGE = "homepage"  # utm_medium of a homepage slot
MEDIUMS = (CAMPAIGN, HOMEPAGE)

# The longest URL browsers, CDNs and the mall's analytics all keep intact (a common limit of 2,048).
MAX_URL_CHARS = 2048
SKU_FIELD = "{sku}"


def pick_url_problem(url: str, pages: str = "the mall's product pages") -> str | None:
    """Why ``url`` cannot be a pick's product page (or another public page: ``pages`` names them
    in the message, e.g. "payout receipts"), or ``None`` when it can.

    The rule: ``https://`` with a host, no user name or password, no
    whitespace, at most :data:`MAX_URL_CHARS` characters.
    """
    if len(url) > MAX_URL_CHARS:
        return f"is {len(url):,} characters long; an address of {pages} has at most {MAX_URL_CHARS:,}"
    if any(c.isspace() for c in url):
        return "has a space in it; percent-encode it (%20) or remove it"
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number raises here
    except ValueError:
        return "is not a valid URL"
    if parts.scheme != "https":
        return f"is not an https:// address; {pages} are https"
    if "@" in parts.netloc:
        return "has a user name or password in it; remove them"
    if not parts.hostname:
        return "has no host"
    return None


def product_target(sku: str, template: str | None, pick_url: str | None = None) -> str | None:
    """The product page of ``sku``: ``pick_url`` when set, else ``template`` with ``{sku}`` filled in
    (percent-encoded, ``/`` included); ``None`` when there is neither."""
    if pick_url:
        return pick_url
    if not template:
        return None
    return template.replace(SKU_FIELD, quote(sku, safe=""))


@functools.lru_cache(maxsize=4096)
def with_attribution(target: str, campaign_id: str, medium: str, position: int | None = None) -> str:
    """``target`` with the utm parameters of ``campaign_id`` on ``medium`` (``campaign`` or
    ``homepage``; ``position``: the homepage slot, 1-based). Raises ``ValueError`` for another medium."""
    if medium not in MEDIUMS:
        raise ValueError(f"utm_medium {medium!r}: use {' or '.join(MEDIUMS)}")
    scheme, netloc, path, query_text, fragment = urlsplit(target)
    kept = [(k, v) for k, v in parse_qsl(query_text, keep_blank_values=True) if not k.startswith("utm_")]
    ours = [("utm_source", UTM_SOURCE), ("utm_medium", medium), ("utm_campaign", campaign_id)]
    if position is not None:
        ours.append(("utm_content", f"slot-{position}"))
    return urlunsplit((scheme, netloc, path, urlencode(kept + ours, quote_via=quote), fragment))


def buy_url(
    sku: str, campaign_id: str, template: str | None, pick_url: str | None = None, *, medium: str, position: int | None = None
) -> str | None:
    """The buy link of a pick of a live campaign (see the module's rule), or ``None`` without a target."""
    target = product_target(sku, template, pick_url)
    return None if target is None else with_attribution(target, campaign_id, medium, position)


def campaign_of(url: str) -> str | None:
    """The ``utm_campaign`` a buy link carries (what the order system reports back), or ``None``."""
    for key, value in parse_qsl(urlsplit(url)[3]):  # [3]: the query string
        if key == "utm_campaign":
            return value
    return None
