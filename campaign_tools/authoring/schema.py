"""The JSON Schema of the campaign YAML (v1), for editors.

VS Code's yaml-language-server reads ``campaigns/schema.json`` through the
modeline at the top of each campaign file::

    # yaml-language-server: $schema=./schema.json

and then completes keys, explains them on hover and underlines mistakes as
the marketing team types. ``campaign schema`` prints :func:`schema_json_text`,
and the committed ``campaigns/schema.json`` is exactly that text (a unit test
compares them byte for byte).

The schema is an editing aid, not the validator. ``campaign validate`` stays
the authority and also checks what a JSON Schema cannot say: that
``teaser_from < starts_at < ends_at``, that SKUs are unique and pins name a
product, that ``list_price >= price``, that an amount is more than 0 and a rate
is in (0 %, 100 %], that ``id`` equals the file name, and that a scalar YAML 1.1
would turn into a bool, an octal number or a date was quoted. The descriptions
name those rules so that hovering over a key tells the whole story.

Two YAML facts shape the types here:

* yaml-language-server reads YAML 1.2, where ``2026-10-17T00:00:00`` is a
  plain string, so times are strings with a pattern, and an unquoted
  ``511902`` is an integer, so codes, ids and SKUs are strings or integers
  (the schema must accept every file ``campaign validate`` accepts; what it
  cannot refuse is listed in ``docs/yaml.md``).
* The brief allows unquoted amounts (``price: 39.90`` is read from its text),
  so money is ``string`` (with the pattern) or ``number``.

Besides the standard keywords, ``patternErrorMessage`` and ``errorMessage``
(yaml-language-server and VS Code extensions; other validators ignore unknown
keywords) replace "String does not match the pattern of ..." with a sentence
a marketing person can act on.
"""

from __future__ import annotations

import copy
import json
import zoneinfo
from typing import Any

from chalicelib.domain.buy_links import MAX_URL_CHARS
from chalicelib.domain.ids import CAMPAIGN_ID_PATTERN, SKU, SKU_CHARS
from chalicelib.domain.model import ENDORSEMENT_KINDS, KINDS, MAX_RETURN_DAYS

__all__ = ["campaign_json_schema", "schema_json_text"]

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
DEFAULT_TIMEZONE = "Asia/Shanghai"

ID_PATTERN = CAMPAIGN_ID_PATTERN
# More than 0, at most 12 digits before the point and 2 after (the validator's money rule).
MONEY_PATTERN = r"^(?!0*(\.0{1,2})?$)[0-9]{1,12}(\.[0-9]{1,2})?$"
# More than 0 % and at most 100 %, with the % sign.
PERCENT_PATTERN = r"^(?!0*(\.0*)? ?%$)0*(100(\.0{1,12})?|[0-9]{1,2}(\.[0-9]{1,12})?) ?%$"
# Date and time (T or a space between them), minutes required, seconds and fraction optional,
# offset optional; years 2000 to 2100, each field in its range (the day of a short month is
# the validator's to check).
TIME_PATTERN = (
    r"^(20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[T ]([01][0-9]|2[0-3]):[0-5][0-9]"
    r"(:[0-5][0-9](\.[0-9]{1,6})?)?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])?$"
)
# An https URL, or a /static/ path; never a ".." segment.
IMAGE_PATTERN = r"^(?!.*(^|/)\.\.(/|$))(https://[A-Za-z0-9.-]+(:[0-9]+)?(/\S*)?|/static/[^\s\\]+)$"
SKU_PATTERN = f"^{SKU.pattern}$"
# A pick's product page (chalicelib.domain.buy_links.pick_url_problem): https, a host, no credentials, no spaces.
PRODUCT_URL_PATTERN = r"^https://[^\s/?#@]+([/?#]\S*)?$"
_DISBURSEMENT_EXAMPLE = {
    "at": "2026-12-20T10:00:00",
    "amount": "30000.00",
    "to": {"zh-CN": "巴中市教育基金", "en": "Bazhong education fund"},
    "receipt": "https://fund.example/receipts/2026-12",
}
WHOLE_PATTERN = r"^[1-9][0-9]{0,8}$"  # a quoted whole number, as the validator reads "3"
WHOLE_MAX = 999_999_999

_TIME_RULE = (
    "Local time in `timezone` unless an offset is given (2026-10-17T09:00:00+08:00). "
    "Write the date and the time: a date alone is refused."
)
_QUOTE_RULE = (
    "Kept exactly as typed. Quote it when it could be read as a number, a yes/no or a "
    'date (write "0123", "NO", "511902"), so it stays text.'
)


def _zone_names() -> list[str]:
    """Every IANA zone name the validator accepts (those of the pinned ``tzdata``), sorted."""
    return sorted(name for name in zoneinfo.available_timezones() if name != "localtime")


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _field(title: str, description: str, examples: list[Any], schema: dict[str, Any]) -> dict[str, Any]:
    """A documented schema: ``title`` and ``description`` first, ``examples`` last.

    The key order is the order of ``schema.json`` on disk, chosen for people
    reading the file: what it is, then the rule, then an example.
    """
    return {"title": title, "description": description, **schema, "examples": examples}


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


# ---------------------------------------------------------------- reusable parts


_PRODUCT_EXAMPLE: dict[str, Any] = {
    "sku": "EGG-0017",
    "name": {"zh-CN": "散养鸡蛋 30枚", "en": "Cage-free eggs, 30"},
    "price": "39.90",
    "list_price": "49.90",
    "merchant": {"id": "m-0042", "name": {"zh-CN": "巴州蛋品", "en": "Bazhou Eggs"}},
    "county": {"code": "511902", "name": {"zh-CN": "巴州区", "en": "Bazhou District"}},
    "image": "https://img.example/egg.jpg",
}
_CHARITY_EXAMPLE: dict[str, Any] = {
    "rate": "5.5%",
    "goal": "60000.00",
    "beneficiary": {"zh-CN": "巴中留守儿童", "en": "Left-behind children of Bazhong"},
    "beneficiaries": 23,
    "partner": {"zh-CN": "巴中市人民政府", "en": "Bazhong Municipal Government"},
    "points_per_yuan": 100,
}
_SIGHT_EXAMPLE: dict[str, Any] = {
    "name": {"zh-CN": "光雾山", "en": "Guangwu Mountain"},
    "summary": {"zh-CN": "红叶之乡", "en": "Famous for its autumn leaves"},
    "image": "https://img.example/guangwu.jpg",
}


def _defs() -> dict[str, Any]:
    text_example = {"zh-CN": "巴中留守儿童", "en": "Left-behind children of Bazhong"}
    return {
        "text": _field(
            "Text in Chinese and English",
            "Text shown to shoppers: `zh-CN` (Chinese) is required, `en` (English) is "
            "optional. English pages show the Chinese text where `en` is missing. No other "
            "languages are accepted.",
            [text_example, {"zh-CN": "散养鸡蛋 30枚"}],
            _object(
                {
                    "zh-CN": _field(
                        "Chinese",
                        "The Chinese (simplified) text. Required; used whenever a translation is missing.",
                        ["散养鸡蛋 30枚", "巴州区"],
                        {"type": "string", "minLength": 1},
                    ),
                    "en": _field(
                        "English",
                        "The English text for `?lang=en`. Optional: without it English readers see the Chinese text.",
                        ["Cage-free eggs, 30", "Bazhou District"],
                        {"type": "string", "minLength": 1},
                    ),
                },
                ["zh-CN"],
            ),
        ),
        "money": _field(
            "Amount in yuan",
            'An amount in yuan (CNY) with at most 2 decimals, e.g. "39.90". Quoting is '
            "recommended so the file shows exactly what is stored; an unquoted 39.90 is "
            "also read exactly from its text, never rounded. Must be more than 0 "
            "(`campaign validate` refuses 0).",
            ["39.90", "60000.00", "128"],
            {
                "type": ["string", "number"],
                "pattern": MONEY_PATTERN,
                "patternErrorMessage": 'Write yuan with at most 2 decimals, e.g. "39.90".',
                "exclusiveMinimum": 0,
                "errorMessage": 'Write the amount in yuan, e.g. "39.90".',
            },
        ),
        "percent": _field(
            "Percentage",
            "A percentage with the % sign, e.g. 5.5%. It must be more than 0% and at most "
            "100% (`campaign validate` checks the range).",
            ["5.5%", "8%"],
            {
                "type": "string",
                "pattern": PERCENT_PATTERN,
                "patternErrorMessage": "Write a percentage with the % sign, e.g. 5.5%.",
                "errorMessage": "Write a percentage with the % sign, e.g. 5.5%.",
            },
        ),
        "time": _field(
            "Date and time",
            "A date and a time, YYYY-MM-DDTHH:MM or YYYY-MM-DDTHH:MM:SS (a space may stand for the T), optionally "
            "followed by an offset such as +08:00 or Z. " + _TIME_RULE,
            ["2026-10-17T00:00:00", "2026-10-17T09:00:00+08:00"],
            {
                "type": "string",
                "pattern": TIME_PATTERN,
                "patternErrorMessage": (
                    "Write a date and a time, e.g. 2026-10-18T00:00:00 (optionally with +08:00). A date alone is refused."
                ),
            },
        ),
        "sku": _field(
            "SKU",
            "The mall's product code: 1 to 64 of " + SKU_CHARS + ", no spaces. " + _QUOTE_RULE,
            ["EGG-0017", "0123"],
            {
                # An unquoted 100101 is a number to the editor (YAML 1.2) and a SKU to the validator.
                "type": ["string", "integer"],
                "pattern": SKU_PATTERN,
                "minimum": 0,
                "patternErrorMessage": "Use 1 to 64 of " + SKU_CHARS + ", with no spaces.",
                "errorMessage": 'Quote the SKU, e.g. "0123", so it stays exactly as typed.',
            },
        ),
        "whole": _field(
            "Whole number",
            'A whole number, 1 or more, quoted or not ("3" is read from its digits, as 3 is).',
            [3, "3"],
            {
                # A YAML 1.2 editor reads weight: "3" as text; the validator reads it from its digits.
                "type": ["integer", "string"],
                "minimum": 1,
                "maximum": WHOLE_MAX,
                "pattern": WHOLE_PATTERN,
                "errorMessage": "Write a whole number, 1 or more.",
            },
        ),
        "image": _field(
            "Image",
            "A picture: an https:// URL or a path under /static/.",
            ["https://img.example/egg.jpg", "/static/img/egg.jpg"],
            {
                "type": "string",
                "pattern": IMAGE_PATTERN,
                "patternErrorMessage": "Use an https:// URL or a /static/... path.",
            },
        ),
        "merchant": _field(
            "Merchant",
            "The merchant (seller) of the product in the mall.",
            [{"id": "m-0042", "name": {"zh-CN": "巴山土猪合作社", "en": "Bashan Pork Co-op"}}],
            _object(
                {
                    "id": _field(
                        "Merchant id",
                        "The merchant's id in the mall. " + _QUOTE_RULE,
                        ["m-0042"],
                        {
                            "type": ["string", "integer"],  # an unquoted 420042 is a number to the editor
                            "minLength": 1,
                            "errorMessage": 'Quote the merchant id, e.g. "0042".',
                        },
                    ),
                    "name": _field(
                        "Merchant name",
                        "The merchant's name as shoppers see it.",
                        [{"zh-CN": "巴山土猪合作社", "en": "Bashan Pork Co-op"}],
                        _ref("text"),
                    ),
                },
                ["id", "name"],
            ),
        ),
        "county": _field(
            "County",
            "The poverty county the product comes from. Sales are reported by county on the impact page.",
            [{"code": "511902", "name": {"zh-CN": "巴州区", "en": "Bazhou District"}}],
            _object(
                {
                    "code": _field(
                        "County code",
                        'The county\'s administrative division code, e.g. "511902" for Bazhou District. ' + _QUOTE_RULE,
                        ["511902"],
                        {
                            "type": ["string", "integer"],  # an unquoted 511902 is a number to the editor
                            "minLength": 1,
                            "errorMessage": 'Quote the county code, e.g. "511902".',
                        },
                    ),
                    "name": _field(
                        "County name",
                        "The county's name as shoppers see it.",
                        [{"zh-CN": "巴州区", "en": "Bazhou District"}],
                        _ref("text"),
                    ),
                },
                ["code", "name"],
            ),
        ),
        "endorsement": _field(
            "Quality endorsement",
            "Optional. A quality endorsement shown with the product: who vouches for it, "
            "and whether that is a government or an industry association.",
            [
                {
                    "by": {"zh-CN": "巴州区人民政府", "en": "Bazhou District Government"},
                    "kind": "government",
                }
            ],
            _object(
                {
                    "by": _field(
                        "Endorsed by",
                        "Who endorses the product, e.g. the county government or an industry association.",
                        [{"zh-CN": "巴州区人民政府", "en": "Bazhou District Government"}],
                        _ref("text"),
                    ),
                    "kind": _field(
                        "Endorser type",
                        "`government` for a government body, `association` for an industry association.",
                        list(ENDORSEMENT_KINDS),
                        {"type": "string", "enum": list(ENDORSEMENT_KINDS)},
                    ),
                },
                ["by", "kind"],
            ),
        ),
        "product": _field(
            "Product pick",
            "One product of the campaign, shown in the order of the list.",
            [_PRODUCT_EXAMPLE],
            _object(
                {
                    "sku": _field(
                        "SKU",
                        "The mall's product code. " + _QUOTE_RULE + " Each SKU appears only once in a campaign.",
                        ["EGG-0017", "0123"],
                        _ref("sku"),
                    ),
                    "name": _field(
                        "Product name",
                        "The product's name as shoppers see it.",
                        [{"zh-CN": "散养鸡蛋 30枚", "en": "Cage-free eggs, 30"}],
                        _ref("text"),
                    ),
                    "price": _field(
                        "Price",
                        "The campaign price in yuan (CNY): more than 0, at most 2 "
                        'decimals. Quoting is recommended ("39.90"); an unquoted 39.90 '
                        "is also read exactly.",
                        ["39.90", "128"],
                        _ref("money"),
                    ),
                    "list_price": _field(
                        "List price",
                        "Optional. The usual price, shown next to the campaign price. "
                        "Same format as `price`, and not lower than `price`.",
                        ["49.90"],
                        _ref("money"),
                    ),
                    "merchant": _field(
                        "Merchant",
                        "The merchant (seller) of this product: its mall id and name.",
                        [{"id": "m-0042", "name": {"zh-CN": "巴州蛋品", "en": "Bazhou Eggs"}}],
                        _ref("merchant"),
                    ),
                    "county": _field(
                        "County",
                        "The poverty county this product comes from: its code and name.",
                        [{"code": "511902", "name": {"zh-CN": "巴州区", "en": "Bazhou District"}}],
                        _ref("county"),
                    ),
                    "endorsement": _field(
                        "Quality endorsement",
                        "Optional. Who vouches for the product's quality (`kind`: `government` or `association`).",
                        [{"by": {"zh-CN": "巴州区人民政府"}, "kind": "government"}],
                        _ref("endorsement"),
                    ),
                    "image": _field(
                        "Product photo",
                        "The product photo: an https:// URL or a path under /static/.",
                        ["https://img.example/egg.jpg", "/static/img/egg.jpg"],
                        _ref("image"),
                    ),
                    "donation_rate": _field(
                        "Merchant's own donation rate",
                        "Optional, `charity_sale` only. This merchant's own pledge for "
                        "this product: its orders donate this share instead of "
                        "`charity.rate`. More than 0% and at most 100%, with the % sign.",
                        ["8%"],
                        _ref("percent"),
                    ),
                    "url": _field(
                        "Product page",
                        "Optional. This pick's page in the mall, where its buy link goes instead of "
                        "the stage's PRODUCT_URL_TEMPLATE: an https:// address with no user name or "
                        f"password, at most {MAX_URL_CHARS:,} characters. The attribution "
                        "(utm_source, utm_medium, utm_campaign) is added to it.",
                        ["https://mall.example/item/PRK-3101"],
                        {
                            "type": "string",
                            "maxLength": MAX_URL_CHARS,
                            "pattern": PRODUCT_URL_PATTERN,
                            "patternErrorMessage": "Use an https:// address without a user name, password or spaces.",
                        },
                    ),
                },
                ["sku", "name", "price", "merchant", "county", "image"],
            ),
        ),
        "homepage": _field(
            "Homepage",
            "Optional. Puts the campaign's products in the rotating homepage slots while "
            "the campaign is live. Without this block the campaign is not on the homepage.",
            [{"weight": 3, "pinned": ["EGG-0017"]}, {"weight": 1}],
            _object(
                {
                    "weight": _field(
                        "Homepage weight",
                        "The campaign's share of the rotating homepage slots compared with "
                        "the other live campaigns: weight 3 gets three times the slots of "
                        "weight 1. A whole number, 1 or more.",
                        [3, 1],
                        _ref("whole"),
                    ),
                    "pinned": _field(
                        "Pinned SKUs",
                        "SKUs that stay on the homepage the whole time the campaign is "
                        "live. Each must be the `sku` of a product of this campaign, listed "
                        "once. The pins of all campaigns live at the same time must fit in "
                        "the homepage slots (8 unless HOMEPAGE_SLOTS says otherwise).",
                        [["EGG-0017"], []],
                        {"type": "array", "items": _ref("sku"), "uniqueItems": True, "default": []},
                    ),
                },
                ["weight"],
            ),
        ),
        "charity": _field(
            "Charity",
            "The cause of a charity sale. Required for `kind: charity_sale`, not allowed for other kinds.",
            [_CHARITY_EXAMPLE],
            _object(
                {
                    "rate": _field(
                        "Donation rate",
                        "The share of each order's paid amount that is donated, with the % "
                        "sign: more than 0%, at most 100%. Each order's donation is rounded "
                        "half up to the fen. A product's `donation_rate` replaces it for "
                        "that product.",
                        ["5.5%", "10%"],
                        _ref("percent"),
                    ),
                    "goal": _field(
                        "Goal",
                        "The fundraising goal in yuan (CNY), more than 0, shown as progress "
                        'on the public benefit channel. Quoting is recommended ("60000.00").',
                        ["60000.00"],
                        _ref("money"),
                    ),
                    "beneficiary": _field(
                        "Beneficiary",
                        "Who the money is raised for.",
                        [{"zh-CN": "巴中留守儿童", "en": "Left-behind children of Bazhong"}],
                        _ref("text"),
                    ),
                    "beneficiaries": _field(
                        "Number of beneficiaries",
                        "Optional. How many people the money helps, e.g. 23 children. A whole number, 1 or more.",
                        [23],
                        _ref("whole"),
                    ),
                    "partner": _field(
                        "Partner",
                        "The partner running the charity sale with the mall, e.g. a municipal government or a fund.",
                        [{"zh-CN": "巴中市人民政府", "en": "Bazhong Municipal Government"}],
                        _ref("text"),
                    ),
                    "points_per_yuan": _field(
                        "Points per yuan",
                        "Optional. Lets members donate loyalty points to this campaign: "
                        "this many points make 1 yuan (100 means 100 points = 1 yuan). A "
                        "whole number, 1 or more. Leave it out to turn point donations off.",
                        [100],
                        _ref("whole"),
                    ),
                    "return_days": _field(
                        "Return window (days)",
                        "Optional, default 7 (China's seven-day no-reason returns). A sale's donation "
                        "is pending for this many days after it is paid, then confirmed. A whole "
                        f"number from 0 to {MAX_RETURN_DAYS}.",
                        [7],
                        {
                            "type": ["integer", "string"],
                            "minimum": 0,
                            "maximum": MAX_RETURN_DAYS,
                            "pattern": r"^(0|[1-9][0-9]{0,2})$",
                            "errorMessage": f"Write a whole number of days from 0 to {MAX_RETURN_DAYS}.",
                        },
                    ),
                    "disbursements": _field(
                        "Payouts",
                        "Optional. Money paid out to the cause, shown on the page with its receipt: "
                        "`at` (when), `amount` (yuan), `to` (the recipient, per language) and "
                        "`receipt` (an https:// address). `campaign publish` refuses payouts that add "
                        "up to more than the confirmed donations.",
                        [[_DISBURSEMENT_EXAMPLE]],
                        {
                            "type": "array",
                            "items": _field(
                                "Payout",
                                "One payout to the cause.",
                                [_DISBURSEMENT_EXAMPLE],
                                _object(
                                    {
                                        "at": _field(
                                            "Paid out at",
                                            "When the money was paid out. " + _TIME_RULE,
                                            ["2026-12-20T10:00:00"],
                                            _ref("time"),
                                        ),
                                        "amount": _field(
                                            "Amount",
                                            "The amount paid out, in yuan (CNY), more than 0.",
                                            ["30000.00"],
                                            _ref("money"),
                                        ),
                                        "to": _field(
                                            "Recipient", "Who received the money.", [_DISBURSEMENT_EXAMPLE["to"]], _ref("text")
                                        ),
                                        "receipt": _field(
                                            "Receipt",
                                            "The public receipt: an https:// address with no user name or password, "
                                            f"at most {MAX_URL_CHARS:,} characters.",
                                            [_DISBURSEMENT_EXAMPLE["receipt"]],
                                            {
                                                "type": "string",
                                                "maxLength": MAX_URL_CHARS,
                                                "pattern": PRODUCT_URL_PATTERN,
                                                "patternErrorMessage": "Use an https:// address without a user name, password or spaces.",
                                            },
                                        ),
                                    },
                                    ["at", "amount", "to", "receipt"],
                                ),
                            ),
                        },
                    ),
                },
                ["rate", "goal", "beneficiary", "partner"],
            ),
        ),
        "sight": _field(
            "Tourism sight",
            "A tourism sight of the county, shown on the regional store page.",
            [_SIGHT_EXAMPLE],
            _object(
                {
                    "name": _field(
                        "Sight name",
                        "The name of the sight.",
                        [{"zh-CN": "光雾山", "en": "Guangwu Mountain"}],
                        _ref("text"),
                    ),
                    "summary": _field(
                        "Sight summary",
                        "Optional. A sentence or two about the sight.",
                        [{"zh-CN": "红叶之乡", "en": "Famous for its autumn leaves"}],
                        _ref("text"),
                    ),
                    "image": _field(
                        "Sight photo",
                        "Optional. A photo of the sight: an https:// URL or a path under /static/.",
                        ["https://img.example/guangwu.jpg"],
                        _ref("image"),
                    ),
                },
                ["name"],
            ),
        ),
    }


# ---------------------------------------------------------------- the campaign


def _top_level_properties() -> dict[str, Any]:
    return {
        "id": _field(
            "Campaign id",
            "The campaign's id, used in its web address (/campaigns/<id>). 3 to 64 "
            "characters: lowercase letters a-z, digits and '-'. It must equal the file "
            "name: campaigns/<id>.yaml. No two campaigns may share an id.",
            ["poverty-day-2026", "bazhong-pork-charity-2026"],
            {
                "type": "string",
                "pattern": ID_PATTERN,
                "patternErrorMessage": ("Use 3 to 64 lowercase letters a-z, digits and '-', e.g. poverty-day-2026."),
            },
        ),
        "kind": _field(
            "Campaign kind",
            "What sort of campaign this is. `featured`: a set of products for a limited "
            "time, e.g. Poverty Alleviation Day picks. `charity_sale`: a share of each "
            "sale is donated; needs a `charity` block. `regional_store`: a long-running "
            "page for one county; `ends_at` may be left out and `tourism` sights may be "
            "listed.",
            list(KINDS),
            {"type": "string", "enum": list(KINDS)},
        ),
        "title": _field(
            "Title",
            "The campaign's title on its page and on the homepage, in Chinese (`zh-CN`, required) and English (`en`, optional).",
            [{"zh-CN": "10·17 扶贫日 特色好物", "en": "Poverty Alleviation Day picks"}],
            _ref("text"),
        ),
        "summary": _field(
            "Summary",
            "Optional. A sentence or two under the title.",
            [{"zh-CN": "来自贫困县的时令好物", "en": "Seasonal products from poverty counties"}],
            _ref("text"),
        ),
        "timezone": _field(
            "Time zone",
            "The IANA time zone name used for times written without an offset (`teaser_from`, "
            "`starts_at`, `ends_at`). Leave it out for Beijing time (Asia/Shanghai).",
            [DEFAULT_TIMEZONE, "Asia/Urumqi"],
            {
                "type": "string",
                "enum": _zone_names(),  # the zones of the pinned tzdata, as the validator knows them
                "errorMessage": "Use an IANA time zone name, e.g. Asia/Shanghai.",
                "default": DEFAULT_TIMEZONE,
            },
        ),
        "teaser_from": _field(
            "Teaser from",
            'Optional. From this moment until `starts_at` the page shows a "coming soon" '
            "teaser with a countdown and no prices; before it the page does not exist. Must "
            "be before `starts_at`. " + _TIME_RULE,
            ["2026-10-10T00:00:00"],
            _ref("time"),
        ),
        "starts_at": _field(
            "Starts at",
            "When the campaign goes live (inclusive). Before it (and before `teaser_from`, "
            "if any) the page does not exist. Must be before `ends_at`. "
            + _TIME_RULE
            + " To start on Oct 17, write 2026-10-17T00:00:00.",
            ["2026-10-17T00:00:00", "2026-10-17T09:00:00+08:00"],
            _ref("time"),
        ),
        "ends_at": _field(
            "Ends at",
            "Exclusive end: the campaign is over from this moment on. "
            + _TIME_RULE
            + " To run through Oct 17, write 2026-10-18T00:00:00. Must be after "
            "`starts_at`. Required for every kind except `regional_store`, which may run "
            "without an end.",
            ["2026-10-18T00:00:00"],
            _ref("time"),
        ),
        "homepage": _field(
            "Homepage",
            "Optional. Puts the campaign's products in the rotating homepage slots while it "
            "is live: `weight` is its share of the slots, `pinned` lists SKUs that are "
            "always shown. Without this block the campaign is not on the homepage.",
            [{"weight": 3, "pinned": ["EGG-0017"]}],
            _ref("homepage"),
        ),
        "products": _field(
            "Products",
            "The product picks, in display order. At least one. Each `sku` may appear only once in a campaign.",
            [[_PRODUCT_EXAMPLE]],
            {"type": "array", "items": _ref("product"), "minItems": 1},
        ),
        "charity": _field(
            "Charity",
            "Required for `kind: charity_sale` and not allowed for other kinds: the donation "
            "`rate`, the `goal`, the `beneficiary`, the `partner`, and optionally "
            "`beneficiaries` and `points_per_yuan`.",
            [_CHARITY_EXAMPLE],
            _ref("charity"),
        ),
        "tourism": _field(
            "Tourism sights",
            "Optional, `regional_store` only. The county's tourism sights, shown on the store page in this order.",
            [[_SIGHT_EXAMPLE]],
            {"type": "array", "items": _ref("sight")},
        ),
    }


def _kind_is(kind: str) -> dict[str, Any]:
    return {"properties": {"kind": {"const": kind}}, "required": ["kind"]}


def _kind_rules() -> list[dict[str, Any]]:
    """The rules that depend on ``kind``, as if/then/else."""
    return [
        {
            "$comment": "charity_sale needs `charity`; other kinds may not have it, nor a product `donation_rate`.",
            "if": _kind_is("charity_sale"),
            "then": {"required": ["charity"]},
            "else": {
                "not": {"required": ["charity"]},
                "properties": {
                    "products": {"items": {"not": {"required": ["donation_rate"]}}},
                },
            },
        },
        {
            "$comment": "Only regional_store may leave out `ends_at` or list `tourism`.",
            "if": _kind_is("regional_store"),
            "else": {
                "required": ["ends_at"],
                "not": {"required": ["tourism"]},
            },
        },
    ]


def campaign_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one campaign YAML file (v1).

    Pure: no I/O, no environment. Each call returns a fresh dict.

    Returns
    -------
    dict
        ``{"$schema": ..., "title": ..., "type": "object", "properties": {...},
        "required": [...], "additionalProperties": False, "allOf": [...],
        "$defs": {...}}``. Every property has ``title``, ``description`` and
        ``examples``.

    Examples
    --------
    >>> campaign_json_schema()["required"]
    ['id', 'kind', 'title', 'starts_at', 'products']
    """
    schema = {
        "$schema": DRAFT_2020_12,
        "title": "Campaign (YAML v1)",
        "description": "One campaign of the mall: campaigns/<id>.yaml. Check it with "
        "`campaign validate`, look at it with `campaign preview <id> --at <time>`, and "
        "publish it with `campaign publish`.",
        "type": "object",
        "properties": _top_level_properties(),
        "required": ["id", "kind", "title", "starts_at", "products"],
        "additionalProperties": False,
        "allOf": _kind_rules(),
        "$defs": _defs(),
    }
    # The examples are shared module constants: hand out a copy nobody else holds.
    return copy.deepcopy(schema)


def schema_json_text() -> str:
    """The schema as ``campaign schema`` prints it and ``campaigns/schema.json`` holds it.

    UTF-8 text (Chinese examples stay readable), 2-space indent, one trailing newline.
    """
    return json.dumps(campaign_json_schema(), ensure_ascii=False, indent=2) + "\n"
