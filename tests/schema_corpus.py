"""Single-change files made from the real campaigns, for holding the JSON Schema to `campaign validate`.

Each entry is ``(name, campaign file, old text, new text)``: the file with the first
``old`` replaced by ``new``. The names say what changed; the test decides who accepts it.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHARITY = "bazhong-pork-charity.yaml"
# One payout to the cause, its receipt to fill in (charity.disbursements).
PAYOUT = '\n  disbursements:\n    - {at: 2026-12-20T10:00:00, amount: "300.00", to: {zh-CN: 巴中市教育基金, en: Bazhong fund}, receipt: RECEIPT}'
DAY = "poverty-day-2026.yaml"
STORE = "store-bazhou-district.yaml"

MUTATIONS: list[tuple[str, str, str, str]] = [
    # --- what `campaign validate` accepts
    ("unquoted county code", CHARITY, 'code: "511902"', "code: 511902"),
    ("unquoted merchant id of digits", CHARITY, 'id: "m-0042"', "id: 420042"),
    ("unquoted sku of digits", DAY, 'sku: "POT-0101"', "sku: 100101"),
    ("unquoted sku with a dash", CHARITY, 'sku: "PRK-3104"', "sku: PRK-3104"),
    ("space instead of T in starts_at", CHARITY, "starts_at: 2026-11-15T00:00:00", "starts_at: 2026-11-15 00:00:00"),
    ("space instead of T in ends_at", CHARITY, "ends_at: 2027-03-01T00:00:00", "ends_at: 2027-03-01 00:00:00"),
    ("time without seconds", CHARITY, "starts_at: 2026-11-15T00:00:00", "starts_at: 2026-11-15T00:00"),
    ("time with an offset", CHARITY, "starts_at: 2026-11-15T00:00:00", "starts_at: 2026-11-15T00:00:00+08:00"),
    ("time in UTC with Z", CHARITY, "starts_at: 2026-11-15T00:00:00", "starts_at: 2026-11-14T16:00:00Z"),
    ("time with a fraction", CHARITY, "starts_at: 2026-11-15T00:00:00", "starts_at: 2026-11-15T00:00:00.5"),
    ("quoted weight", CHARITY, "weight: 2", 'weight: "2"'),
    ("quoted beneficiaries", CHARITY, "beneficiaries: 23", 'beneficiaries: "23"'),
    ("quoted points_per_yuan", CHARITY, "points_per_yuan: 100", 'points_per_yuan: "100"'),
    ("unquoted price", CHARITY, 'price: "68.00"', "price: 68.00"),
    ("unquoted whole price", CHARITY, 'price: "68.00"', "price: 68"),
    ("price with one decimal", CHARITY, 'price: "68.00"', 'price: "68.5"'),
    ("unquoted goal", CHARITY, 'goal: "60000.00"', "goal: 60000"),
    ("rate with a decimal", CHARITY, "rate: 5.45%", "rate: 5.5%"),
    ("rate of 100%", CHARITY, "rate: 5.45%", "rate: 100%"),
    ("quoted rate", CHARITY, "rate: 5.45%", 'rate: "5.45%"'),
    ("timezone Asia/Urumqi", CHARITY, "timezone: Asia/Shanghai", "timezone: Asia/Urumqi"),
    ("no timezone", CHARITY, "timezone: Asia/Shanghai\n", ""),
    ("no teaser", CHARITY, "teaser_from: 2026-11-08T00:00:00\n", ""),
    ("endorsement by an association", CHARITY, "kind: government}", "kind: association}"),
    ("https image", CHARITY, "image: /static/pork.svg", "image: https://img.example/pork.jpg"),
    ("https image with a port", CHARITY, "image: /static/pork.svg", "image: https://img.example:8443/pork.jpg"),
    ("no homepage block", CHARITY, '  pinned: ["PRK-3101"]\n', "  pinned: []\n"),
    ("sku with a slash and a dot", CHARITY, 'sku: "PRK-3104"', 'sku: "PRK/3104.a_b"'),
    ("a regional store as it is (no ends_at)", STORE, None, None),
    ("a featured campaign as it is", DAY, None, None),
    ("unicode title only in Chinese", CHARITY, ", en: Bashan pork charity sale for Bazhong's left-behind children}", "}"),
    ("list_price equal to price", CHARITY, 'list_price: "78.00"', 'list_price: "68.00"'),
    ("product url", CHARITY, "image: /static/pork.svg", "image: /static/pork.svg\n    url: https://mall.example/item/PRK-3101"),
    (
        "product url with a query and a port",
        CHARITY,
        "image: /static/pork.svg",
        'image: /static/pork.svg\n    url: "https://mall.example:8443/item?id=PRK-3101&from=x"',
    ),
    (
        "product url of 2048 characters",
        CHARITY,
        "image: /static/pork.svg",
        "image: /static/pork.svg\n    url: https://mall.example/" + "a" * (2048 - 21),
    ),
    ("return window of 15 days", CHARITY, "points_per_yuan: 100", "points_per_yuan: 100\n  return_days: 15"),
    ("return window of 0 days", CHARITY, "points_per_yuan: 100", "points_per_yuan: 100\n  return_days: 0"),
    ("quoted return window", CHARITY, "points_per_yuan: 100", 'points_per_yuan: 100\n  return_days: "7"'),
    ("a payout", CHARITY, "points_per_yuan: 100", "points_per_yuan: 100" + PAYOUT.replace("RECEIPT", "https://fund.example/r/1")),
    # --- what `campaign validate` refuses
    ("return window over a year", CHARITY, "points_per_yuan: 100", "points_per_yuan: 100\n  return_days: 366"),
    ("negative return window", CHARITY, "points_per_yuan: 100", "points_per_yuan: 100\n  return_days: -1"),
    (
        "payout receipt over http",
        CHARITY,
        "points_per_yuan: 100",
        "points_per_yuan: 100" + PAYOUT.replace("RECEIPT", "http://fund.example/r/1"),
    ),
    (
        "payout of 0",
        CHARITY,
        "points_per_yuan: 100",
        "points_per_yuan: 100" + PAYOUT.replace("RECEIPT", "https://fund.example/r/1").replace('"300.00"', '"0.00"'),
    ),
    (
        "payout without a receipt",
        CHARITY,
        "points_per_yuan: 100",
        "points_per_yuan: 100" + PAYOUT.replace(", receipt: RECEIPT", ""),
    ),
    ("price of 0", CHARITY, 'price: "68.00"', 'price: "0"'),
    ("price of 0.00", CHARITY, 'price: "68.00"', 'price: "0.00"'),
    ("unquoted price of 0", CHARITY, 'price: "68.00"', "price: 0"),
    ("price with 3 decimals", CHARITY, 'price: "68.00"', 'price: "68.001"'),
    ("unquoted price with 3 decimals", CHARITY, 'price: "68.00"', "price: 68.001"),
    ("negative price", CHARITY, 'price: "68.00"', 'price: "-68.00"'),
    ("price with a comma", CHARITY, 'price: "68.00"', 'price: "68,00"'),
    ("price with a currency sign", CHARITY, 'price: "68.00"', 'price: "¥68.00"'),
    ("goal of 0", CHARITY, 'goal: "60000.00"', 'goal: "0.00"'),
    ("rate of 0%", CHARITY, "rate: 5.45%", "rate: 0%"),
    ("rate over 100%", CHARITY, "rate: 5.45%", "rate: 100.5%"),
    ("rate without the % sign", CHARITY, "rate: 5.45%", "rate: 5.45"),
    ("date-only starts_at", CHARITY, "starts_at: 2026-11-15T00:00:00", "starts_at: 2026-11-15"),
    ("month 13", CHARITY, "starts_at: 2026-11-15T00:00:00", "starts_at: 2026-13-15T00:00:00"),
    ("hour 25", CHARITY, "starts_at: 2026-11-15T00:00:00", "starts_at: 2026-11-15T25:00:00"),
    ("day 32", CHARITY, "starts_at: 2026-11-15T00:00:00", "starts_at: 2026-11-32T00:00:00"),
    ("offset of +25:00", CHARITY, "starts_at: 2026-11-15T00:00:00", "starts_at: 2026-11-15T00:00:00+25:00"),
    ("unknown key", CHARITY, "kind: charity_sale", "kind: charity_sale\ncolour: red"),
    ("unknown kind", CHARITY, "kind: charity_sale", "kind: flash_sale"),
    ("id with capitals", CHARITY, "id: bazhong-pork-charity", "id: Bazhong-Pork"),
    ("id differs from the file name", CHARITY, "id: bazhong-pork-charity", "id: bazhong-pork-charity-2"),
    ("timezone that does not exist", CHARITY, "timezone: Asia/Shanghai", "timezone: Asia/Shangai"),
    ("http image", CHARITY, "image: /static/pork.svg", "image: http://img.example/pork.jpg"),
    ("image with ..", CHARITY, "image: /static/pork.svg", "image: /static/../app.py"),
    ("weight of 0", CHARITY, "weight: 2", "weight: 0"),
    ("weight with a decimal", CHARITY, "weight: 2", "weight: 2.5"),
    ("endorsement kind unknown", CHARITY, "kind: government}", "kind: company}"),
    ("title without Chinese", CHARITY, "title: {zh-CN: 巴山土猪 爱心义卖 · 为巴中留守儿童, en:", "title: {en:"),
    ("title in French", CHARITY, ", en: Bashan pork charity sale for Bazhong's left-behind children}", ", fr: Vente}"),
    ("sku with a space", CHARITY, 'sku: "PRK-3104"', 'sku: "PRK 3104"'),
    ("sku of 65 characters", CHARITY, 'sku: "PRK-3104"', 'sku: "' + "P" * 65 + '"'),
    ("duplicate sku", CHARITY, 'sku: "PRK-3102"', 'sku: "PRK-3101"'),
    ("pin that names no product", CHARITY, 'pinned: ["PRK-3101"]', 'pinned: ["PRK-9999"]'),
    ("list_price below price", CHARITY, 'list_price: "78.00"', 'list_price: "60.00"'),
    ("teaser after the start", CHARITY, "teaser_from: 2026-11-08T00:00:00", "teaser_from: 2026-11-20T00:00:00"),
    ("ends_at before starts_at", CHARITY, "ends_at: 2027-03-01T00:00:00", "ends_at: 2026-11-01T00:00:00"),
    ("county code NO unquoted", CHARITY, 'code: "511902"', "code: NO"),
    ("sku 0123 unquoted", DAY, 'sku: "EGG-0017"', "sku: 0123"),
    ("duplicate key", CHARITY, "kind: charity_sale", "kind: charity_sale\nkind: featured"),
    ("donation_rate on a featured campaign", DAY, 'sku: "EGG-0017"', 'sku: "EGG-0017"\n    donation_rate: 8%'),
    ("charity block without a goal", CHARITY, '  goal: "60000.00"\n', ""),
    ("http product url", CHARITY, "image: /static/pork.svg", "image: /static/pork.svg\n    url: http://mall.example/item/1"),
    (
        "product url with credentials",
        CHARITY,
        "image: /static/pork.svg",
        "image: /static/pork.svg\n    url: https://shop:secret@mall.example/item/1",
    ),
    (
        "product url of 2049 characters",
        CHARITY,
        "image: /static/pork.svg",
        "image: /static/pork.svg\n    url: https://mall.example/" + "a" * (2049 - 21),
    ),
    (
        "product url with a space",
        CHARITY,
        "image: /static/pork.svg",
        'image: /static/pork.svg\n    url: "https://mall.example/a b"',
    ),
    ("product url without a host", CHARITY, "image: /static/pork.svg", "image: /static/pork.svg\n    url: https:///item/1"),
]

# The refusals of `campaign validate` that a JSON Schema cannot express (docs/yaml.md lists
# the same rules): the schema lets these files through, and the validator is the authority.
SCHEMA_CANNOT_REFUSE = {
    "unquoted price with 3 decimals": "an unquoted amount is a binary float to the editor; multipleOf 0.01 would also refuse 68.1",
    "id differs from the file name": "the schema does not see the file name",
    "duplicate sku": "uniqueness of a field across the items of a list",
    "pin that names no product": "a reference from one list to another",
    "list_price below price": "a comparison of two fields",
    "teaser after the start": "a comparison of two times",
    "ends_at before starts_at": "a comparison of two times",
    "county code NO unquoted": "YAML 1.2 (the editor) reads NO as text; YAML 1.1 would read false",
    "sku 0123 unquoted": "YAML 1.2 reads 0123 as 123; the validator refuses the octal-looking number",
}
