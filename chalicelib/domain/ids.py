"""Identifier rules: campaign ids and SKUs (docs/yaml.md).

A campaign id is 3 to 64 of ``a-z``, ``0-9`` and ``-``; a SKU is 1 to 64 of
``A-Z a-z 0-9 - _ . /``, kept exactly as typed.

The YAML validator, the JSON Schema (:data:`CAMPAIGN_ID_PATTERN`), the page
routes (an id that cannot exist is a 404 with no read) and the webhook bodies
all use this one rule.
"""

from __future__ import annotations

import re

CAMPAIGN_ID_PATTERN = r"^[a-z0-9-]{3,64}$"
CAMPAIGN_ID = re.compile(r"[a-z0-9-]{3,64}", re.ASCII)


SKU_CHARS = "A-Z a-z 0-9 - _ . /"
SKU = re.compile(r"[A-Za-z0-9._/-]{1,64}", re.ASCII)


def is_sku(text: object) -> bool:
    """Whether ``text`` is a string that follows the SKU rule (no whitespace, nothing outside :data:`SKU_CHARS`)."""
    return isinstance(text, str) and SKU.fullmatch(text) is not None


def is_campaign_id(text: object) -> bool:
    """Whether ``text`` is a string that follows the campaign-id rule (whole string, no newline)."""
    return isinstance(text, str) and CAMPAIGN_ID.fullmatch(text) is not None
