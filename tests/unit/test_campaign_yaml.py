"""Campaign YAML -> Campaign, with PATH:LINE:COL diagnostics (campaign_tools.authoring.campaign_yaml).

The corpus is tests/data/yaml: ``good/`` holds valid files, ``bad/<rule>/`` one file
per rule of docs/yaml.md, each a valid template with one change.
"""

from __future__ import annotations

import dataclasses
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_tools.authoring.campaign_yaml import (
    Diagnostic,
    ValidationResult,
    find_campaign,
    load_campaign_file,
    load_campaign_text,
    validate_paths,
)
from chalicelib.domain.model import County, Endorsement, Homepage, Merchant, Sight, Text, campaign_from_doc, campaign_to_doc

DATA = Path(__file__).resolve().parents[1] / "data" / "yaml"
SHANGHAI = ZoneInfo("Asia/Shanghai")
FEATURED = (DATA / "good" / "featured-min.yaml").read_text(encoding="utf-8")


def featured(cid: str = "featured-min", **replace: str) -> str:
    """The valid featured template with ``id`` set and each ``old=new`` text replaced."""
    text = FEATURED.replace("id: featured-min", f"id: {cid}")
    for old, new in replace.items():
        assert old in text, old
        text = text.replace(old, new)
    return text


def load(text: str | bytes, cid: str = "featured-min"):
    return load_campaign_text(text, f"campaigns/{cid}.yaml", expected_id=cid)


def errors(diagnostics):
    return [d for d in diagnostics if d.severity == "error"]


# ---------------------------------------------------------------- valid files


def test_featured_minimal_loads_exact_values():
    campaign, diagnostics = load_campaign_file(DATA / "good" / "featured-min.yaml")

    assert diagnostics == []
    assert campaign.id == "featured-min" and campaign.kind == "featured"
    assert campaign.title == Text({"zh-CN": "扶贫日好物", "en": "Poverty Day picks"})
    assert campaign.timezone == "Asia/Shanghai"  # the default
    assert campaign.starts_at == datetime(2026, 10, 17, tzinfo=SHANGHAI)
    assert campaign.starts_at.astimezone(campaign.zone).utcoffset() == timedelta(hours=8)
    assert campaign.ends_at == datetime(2026, 10, 17, 16, tzinfo=UTC)
    assert campaign.teaser_from is None and campaign.summary is None and campaign.charity is None
    assert campaign.homepage == Homepage(weight=3, pinned=("EGG-0017",))
    egg, potato = campaign.products
    assert (egg.sku, egg.price_fen, egg.list_price_fen) == ("EGG-0017", 3990, 4990)
    assert egg.name == Text({"zh-CN": "散养鸡蛋 30枚", "en": "Cage-free eggs, 30"})
    assert egg.merchant == Merchant("m-0042", Text({"zh-CN": "巴山农场"}))
    assert egg.county == County("511902", Text({"zh-CN": "巴州区", "en": "Bazhou District"}))
    assert egg.image == "https://img.example/egg.jpg" and egg.endorsement is None
    assert (potato.sku, potato.price_fen, potato.list_price_fen) == ("POT-0101", 2990, None)
    assert potato.image == "/static/potato.svg"


def test_charity_sale_minimal_loads_rates_goal_and_offsets():
    campaign, diagnostics = load_campaign_file(DATA / "good" / "charity-min.yaml")

    assert diagnostics == []
    assert campaign.kind == "charity_sale"
    charity = campaign.charity
    assert charity.rate_percent == Decimal("5.5") and isinstance(charity.rate_percent, Decimal)
    assert charity.goal_fen == 6_000_000
    assert (charity.beneficiaries, charity.points_per_yuan) == (23, 100)
    assert charity.beneficiary == Text({"zh-CN": "巴中留守儿童", "en": "Left-behind children of Bazhong"})
    assert charity.partner == Text({"zh-CN": "巴中市人民政府"})
    assert campaign.products[0].donation_rate_percent == Decimal("8")
    assert campaign.donation_rate_percent("PRK-0301") == Decimal("8")
    assert campaign.starts_at.astimezone(campaign.zone).utcoffset() == timedelta(hours=8)
    assert campaign.starts_at == datetime(2026, 10, 31, 16, tzinfo=UTC)
    assert campaign.ends_at - campaign.starts_at == timedelta(days=30)


def test_regional_store_minimal_loads_without_end_in_its_own_zone():
    campaign, diagnostics = load_campaign_file(DATA / "good" / "store-min.yaml")

    assert diagnostics == []
    assert campaign.kind == "regional_store" and campaign.ends_at is None
    assert campaign.timezone == "Asia/Urumqi"
    assert campaign.starts_at == datetime(2026, 7, 1, 9, tzinfo=ZoneInfo("Asia/Urumqi"))
    assert campaign.starts_at.astimezone(campaign.zone).utcoffset() == timedelta(hours=6)
    assert campaign.summary == Text({"zh-CN": "新疆伽师县的瓜果与棉花"})
    melon = campaign.products[0]
    assert melon.price_fen == 5900  # an unquoted whole number of yuan
    assert melon.endorsement == Endorsement(Text({"zh-CN": "伽师县瓜果协会"}), "association")
    assert campaign.tourism == (
        Sight(
            Text({"zh-CN": "西克尔库勒湖", "en": "Xikeer Lake"}), Text({"zh-CN": "沙漠中的湖泊"}), "https://img.example/lake.jpg"
        ),
        Sight(Text({"zh-CN": "伽师县城"})),
    )


def test_bom_and_crlf_file_is_valid_and_equal_to_the_plain_one():
    raw = (DATA / "good" / "bom-crlf.yaml").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == 22 and b"\n" not in raw.replace(b"\r\n", b"")

    campaign, diagnostics = load_campaign_file(DATA / "good" / "bom-crlf.yaml")
    plain, _ = load_campaign_file(DATA / "good" / "featured-min.yaml")

    assert diagnostics == []
    assert campaign == dataclasses.replace(plain, id="bom-crlf")


def test_bom_and_crlf_do_not_shift_positions():
    raw = (DATA / "good" / "bom-crlf.yaml").read_bytes()
    broken = raw.replace(b"id: bom-crlf", b"id: BOM").replace(b'price: "39.90"', b'price: "39.999"')

    _, diagnostics = load_campaign_text(broken, "bom.yaml", expected_id=None)

    assert [(d.line, d.col) for d in diagnostics] == [(1, 5), (12, 12)]


def test_aliases_within_the_bound_are_allowed():
    campaign, diagnostics = load_campaign_file(DATA / "good" / "aliases.yaml")

    assert diagnostics == []
    assert campaign.products[1].merchant == campaign.products[0].merchant == Merchant("m-0042", Text({"zh-CN": "巴山农场"}))


@pytest.mark.parametrize("name", ["featured-min", "charity-min", "store-min", "aliases"])
def test_loaded_campaigns_round_trip_through_the_model_codec(name):
    campaign, _ = load_campaign_file(DATA / "good" / f"{name}.yaml")

    assert campaign_from_doc(json.loads(json.dumps(campaign_to_doc(campaign)))) == campaign


def test_identifiers_stay_as_typed_when_quoted_or_plain_decimal():
    text = featured(
        **{
            "  - sku: POT-0101": '  - sku: "0123"',
            'county: {code: "511902"': "county: {code: 511902",
            '{code: "621102"': "{code: 'NO'",
            "pinned: [EGG-0017]": 'pinned: [EGG-0017, "0123"]',
        }
    )

    campaign, diagnostics = load(text)

    assert diagnostics == []
    assert campaign.products[1].sku == "0123"
    assert campaign.products[0].county.code == "511902" and isinstance(campaign.products[0].county.code, str)
    assert campaign.products[1].county.code == "NO"
    assert campaign.homepage.pinned == ("EGG-0017", "0123")


@pytest.mark.parametrize(
    ("typed", "fen"),
    [("0.29", 29), ("19.99", 1999), ("1.1", 110), ("100", 10000), ('"0.07"', 7), ("' 39.90 '", 3990), ("9999999.99", 999999999)],
)
def test_unquoted_and_quoted_amounts_are_read_from_their_text(typed, fen):
    campaign, diagnostics = load(featured(**{"price: 29.90": f"price: {typed}"}))

    assert diagnostics == []
    assert campaign.products[1].price_fen == fen


def test_times_without_offset_are_local_in_the_campaign_zone_across_dst():
    text = featured(
        **{
            "starts_at: 2026-10-17T00:00:00": "timezone: America/New_York\nstarts_at: 2026-07-01 09:00",
            "ends_at: 2026-10-18T00:00:00": "ends_at: 2026-12-01T09:00:00",
        }
    )

    campaign, diagnostics = load(text)

    assert diagnostics == []
    assert campaign.starts_at.astimezone(campaign.zone).utcoffset() == timedelta(hours=-4)  # EDT; a space instead of T is fine
    assert campaign.ends_at.astimezone(campaign.zone).utcoffset() == timedelta(hours=-5)  # EST
    assert campaign.ends_at == datetime(2026, 12, 1, 14, tzinfo=UTC)


def test_times_with_offset_or_z_keep_their_instant():
    text = featured(
        **{"starts_at: 2026-10-17T00:00:00": "teaser_from: 2026-10-10T00:00:00Z\nstarts_at: '2026-10-17T00:00:00+05:30'"}
    )

    campaign, diagnostics = load(text)

    assert diagnostics == []
    assert campaign.teaser_from == datetime(2026, 10, 10, tzinfo=UTC)
    assert campaign.starts_at == datetime(2026, 10, 16, 18, 30, tzinfo=UTC)
    assert campaign.starts_at.utcoffset() == timedelta(0)  # instants come out in UTC


# ---------------------------------------------------------------- one bad file per rule

BAD = [
    # rule, file name (None: <rule>.yaml), line, col, message fragment
    ("trap-bool", None, 15, 20, 'products[0].county.code: NO would be read by YAML as false; quote it: code: "NO"'),
    ("trap-octal", None, 17, 10, 'products[1].sku: 0123 would be read by YAML as the number 83; quote it: sku: "0123"'),
    ("trap-base60", None, 17, 10, 'products[1].sku: 10:30 would be read by YAML as the number 630; quote it: sku: "10:30"'),
    ("trap-date", None, 17, 10, "products[1].sku: 2026-10-17 would be read by YAML as a date; quote it"),
    ("trap-float", None, 17, 10, 'products[1].sku: 1.50 would be read by YAML as the number 1.5; quote it: sku: "1.50"'),
    ("trap-null", None, 15, 20, "products[0].county.code: null would be read by YAML as null"),
    ("trap-string-timezone", None, 5, 11, "timezone: 8:00 would be read by YAML as the number 480; quote it"),
    ("value-empty", None, 3, 26, "title.en: has no value"),
    (
        "time-date-only",
        None,
        5,
        10,
        "ends_at: 2026-10-18 is a date without a time; write a time: 2026-10-18T00:00:00 "
        "(ends_at is exclusive: 2026-10-18T00:00:00 ends the campaign as Oct 18 begins; "
        "to run through Oct 18, write 2026-10-19T00:00:00)",
    ),
    ("time-bad", None, 5, 10, "ends_at: 2026-10-18T25:00:00 is not a valid date and time"),
    ("order-teaser", None, 5, 12, "starts_at: 2026-10-17T00:00:00 is not after teaser_from (2026-10-20T00:00:00)"),
    ("order-ends", None, 5, 10, "ends_at: 2026-10-16T00:00:00 is not after starts_at (2026-10-17T00:00:00)"),
    ("money-decimals", None, 12, 12, 'products[0].price: 39.999 has more than 2 decimals; write at most 2, e.g. "39.99"'),
    ("money-zero", None, 19, 12, "products[1].price: 0 must be more than 0"),
    ("money-negative", None, 19, 12, "products[1].price: -5.00 must be more than 0"),
    (
        "money-comma",
        None,
        19,
        12,
        'products[1].price: 1,299.00 has a comma; write the amount with a decimal point and no commas, e.g. "1299.00"',
    ),
    ("money-exponent", None, 19, 12, "products[1].price: 1e3 has an exponent"),
    ("list-price-below", None, 13, 17, "products[0].list_price: 29.90 is below the price 39.90"),
    ("rate-zero", None, 16, 9, "charity.rate: 0% is outside (0%, 100%]"),
    ("rate-over", None, 16, 9, "charity.rate: 101% is outside (0%, 100%]"),
    ("rate-bare", None, 16, 9, "charity.rate: 0.055 is a bare number; write it as a percentage, e.g. 5.5%"),
    ("goal-zero", None, 17, 9, "charity.goal: 0.00 must be more than 0"),
    ("integer-leading-zero", None, 19, 18, "charity.beneficiaries: 023 is not a whole number"),
    ("weight-zero", None, 7, 11, "homepage.weight: 0 is below 1"),
    ("duplicate-key", None, 14, 5, 'products[0].price: duplicate key "price" (first at line 12)'),
    ("unknown-key", None, 4, 1, 'unknown key "sumary"; did you mean "summary"? allowed: id, kind, title'),
    ("missing-key", None, 17, 5, 'products[1]: missing required key "image"'),
    ("duplicate-sku", None, 17, 10, 'products[1].sku: duplicate SKU "EGG-0017" (first at line 10)'),
    (
        "pin-unknown",
        None,
        8,
        12,
        'homepage.pinned[0]: "EGG-0018" is not the SKU of a product in this campaign; did you mean "EGG-0017"?',
    ),
    ("pin-duplicate", None, 8, 32, 'homepage.pinned[2]: "EGG-0017" is pinned twice'),
    ("products-empty", None, 9, 11, "products: is empty"),
    ("products-not-list", None, 9, 11, "products: expected a list"),
    ("id-mismatch", "poverty-day.yaml", 1, 5, 'id: "poverty-day-2026" differs from the file name "poverty-day"'),
    ("id-chars", "Bad_ID.yaml", 1, 5, "id: Bad_ID is not a valid id; use 3 to 64 characters of a-z, 0-9 and -"),
    ("alias-bomb", None, 3, 10, "aliases expand this file by more than 1000 nodes"),
    ("alias-loop", None, 8, 11, "an alias refers to a node that contains it"),
    ("merge-key", None, 4, 1, "merge keys (<<) are not supported; write the keys out"),
    ("tab-indent", None, 7, 1, "tabs are not allowed for indentation; use spaces"),
    ("bad-indent", None, 8, 2, "bad indentation"),
    ("unclosed-bracket", None, 23, 1, "unclosed '[' (opened at line 22, column 11); add the closing ']'"),
    ("charity-on-featured", None, 6, 1, "charity: only a charity_sale has a charity block (this campaign is featured)"),
    ("charity-missing", None, 1, 1, 'missing required key "charity"'),
    ("donation-rate-featured", None, 23, 5, "products[1].donation_rate: only a charity_sale product has a donation_rate"),
    ("tourism-on-featured", None, 6, 1, "tourism: only a regional_store has tourism sights"),
    ("ends-missing", None, 1, 1, 'missing required key "ends_at" (only a regional_store may run without an end)'),
    ("kind-unknown", None, 2, 7, 'kind: featurd is not a campaign kind; did you mean "featured"?'),
    ("timezone-bad", None, 4, 11, 'timezone: Asia/Shangai is not an IANA time zone; did you mean "Asia/Shanghai"?'),
    ("timezone-localtime", None, 4, 11, "timezone: localtime is the server's own zone"),
    ("lang-unknown", None, 3, 23, 'title: unknown language "zh"; did you mean "zh-CN"? allowed: zh-CN, en'),
    ("image-bad", None, 16, 12, "products[0].image: http://img.example/egg.jpg is not an image address"),
    ("image-dotdot", None, 22, 12, "products[1].image: /static/../app.py is not an image address"),
    ("endorsement-kind", None, 13, 47, "products[0].endorsement.kind: ngo is not an endorsement kind"),
]


@pytest.mark.parametrize(("rule", "name", "line", "col", "fragment"), BAD, ids=[row[0] for row in BAD])
def test_bad_file_is_refused_with_one_located_error(rule, name, line, col, fragment):
    path = DATA / "bad" / rule / (name or f"{rule}.yaml")

    campaign, diagnostics = load_campaign_file(path)

    assert campaign is None
    assert [(d.line, d.col, d.severity) for d in diagnostics] == [(line, col, "error")]
    assert fragment in diagnostics[0].message
    assert diagnostics[0].format() == f"{path}:{line}:{col}: error: {diagnostics[0].message}"


def test_every_bad_corpus_file_is_in_the_table():
    on_disk = {p.parent.name for p in (DATA / "bad").glob("*/*.yaml")}

    assert on_disk == {row[0] for row in BAD}


def test_file_over_one_mebibyte_is_one_error_and_not_parsed(tmp_path):
    path = tmp_path / "featured-min.yaml"
    path.write_bytes(b"id: [unclosed\n" + b"# padding\n" * 104_858)
    assert path.stat().st_size == 1_048_594

    campaign, diagnostics = load_campaign_file(path)

    assert campaign is None
    assert [(d.line, d.col) for d in diagnostics] == [(1, 1)]
    assert "over the 1 MiB limit (1,048,576 bytes)" in diagnostics[0].message


def test_file_of_exactly_one_mebibyte_is_read(tmp_path):
    head = FEATURED.encode()
    path = tmp_path / "featured-min.yaml"
    path.write_bytes(head + b"#" * (1_048_576 - len(head) - 1) + b"\n")
    assert path.stat().st_size == 1_048_576

    campaign, diagnostics = load_campaign_file(path)

    assert diagnostics == [] and campaign.id == "featured-min"


@pytest.mark.parametrize(
    ("data", "line", "col", "fragment"),
    [
        (b"id: abc\nkind: \xff\n", 1, 1, "file is not valid UTF-8 (byte 0xff at line 2, column 7)"),
        ("", 1, 1, "file is empty"),
        ("# only a comment\n", 1, 1, "file is empty"),
        ("- id: x\n", 1, 1, "expected a mapping"),
        ("id: a\n---\nid: b\n", 2, 1, "a second YAML document"),
        ("id: x\x07y\n", 1, 6, "character U+0007 is not allowed"),
        ("a: " + "[" * 60 + "]" * 60 + "\n", 1, 53, "nesting deeper than 50 levels"),
        ("a: *nowhere\n", 1, 4, "alias 'nowhere' names no anchor"),
        ("id: abc\nkind: !!binary aGk=\n", 2, 7, "kind: the tag !!binary is not supported"),
    ],
)
def test_unreadable_text_gets_one_located_error(data, line, col, fragment):
    campaign, diagnostics = load_campaign_text(data, "x.yaml", expected_id=None)

    assert campaign is None
    located = [(d.line, d.col) for d in diagnostics if fragment in d.message]
    assert located == [(line, col)], [d.format() for d in diagnostics]


def test_every_error_of_a_file_is_reported_in_one_run_sorted():
    text = featured(
        **{
            "kind: featured": "kind: featurd",
            'price: "39.90"': 'price: "39.999"',
            "  - sku: POT-0101": "  - sku: 0123",
            "weight: 3": "weight: three",
        }
    )

    campaign, diagnostics = load(text)

    assert campaign is None
    assert [(d.line, d.col) for d in diagnostics] == [(2, 7), (7, 11), (12, 12), (17, 10)]
    assert [d.message.split(":")[0] for d in diagnostics] == ["kind", "homepage.weight", "products[0].price", "products[1].sku"]


def test_a_wrong_id_is_checked_against_the_file_stem(tmp_path):
    path = tmp_path / "poverty-day-2026.yaml"
    path.write_text(featured("poverty-day-2025"), encoding="utf-8")

    campaign, diagnostics = load_campaign_file(path)

    assert campaign is None
    assert diagnostics[0].message.startswith('id: "poverty-day-2025" differs from the file name "poverty-day-2026"')


def test_duration_warnings_keep_the_campaign_valid():
    short, short_diags = load(featured(**{"ends_at: 2026-10-18T00:00:00": "ends_at: 2026-10-17T00:30:00"}))
    long, long_diags = load(featured(**{"ends_at: 2026-10-18T00:00:00": "ends_at: 2027-11-22T00:00:00"}))

    assert short is not None and long is not None
    assert [(d.line, d.col, d.severity) for d in short_diags] == [(5, 10, "warning")]
    assert "live for under 1 hour (0:30:00)" in short_diags[0].message
    assert [(d.line, d.severity) for d in long_diags] == [(5, "warning")]
    assert "over 400 days" in long_diags[0].message


# ---------------------------------------------------------------- the public types


def test_diagnostic_format_is_path_line_col_severity_message():
    diagnostic = Diagnostic("campaigns/x.yaml", 14, 12, "error", "products[2].price: 39.999 has more than 2 decimals")

    assert diagnostic.format() == "campaigns/x.yaml:14:12: error: products[2].price: 39.999 has more than 2 decimals"


def test_validation_result_splits_errors_and_warnings():
    error = Diagnostic("a.yaml", 1, 1, "error", "e")
    warning = Diagnostic("a.yaml", 2, 1, "warning", "w")

    assert ValidationResult((), {}, (error, warning)).errors == (error,)
    assert ValidationResult((), {}, (error, warning)).warnings == (warning,)
    assert ValidationResult((), {}, (warning,)).ok is True
    assert ValidationResult((), {}, (error,)).ok is False


# ---------------------------------------------------------------- across files


def write(folder: Path, cid: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{cid}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def window(cid: str, start: str, end: str, pinned: str = "[EGG-0017, POT-0101]", **more: str) -> str:
    return featured(
        cid,
        **{
            "starts_at: 2026-10-17T00:00:00": f"starts_at: {start}",
            "ends_at: 2026-10-18T00:00:00": f"ends_at: {end}",
            "pinned: [EGG-0017]": f"pinned: {pinned}",
        },
        **more,
    )


def test_the_good_corpus_validates_as_a_set():
    result = validate_paths([DATA / "good"])

    assert result.diagnostics == () and result.ok
    assert [c.id for c in result.campaigns] == ["aliases", "bom-crlf", "charity-min", "featured-min", "store-min"]
    assert result.sources["store-min"] == str(DATA / "good" / "store-min.yaml")


def test_same_id_in_two_folders_is_an_error_on_the_second(tmp_path):
    first = write(tmp_path / "a", "dup-id", featured("dup-id"))
    second = write(tmp_path / "b", "dup-id", featured("dup-id"))

    result = validate_paths([tmp_path / "a", tmp_path / "b"])

    assert [(d.path, d.line, d.col) for d in result.errors] == [(str(second), 1, 5)]
    assert f"is already the id of {first}" in result.errors[0].message
    assert [c.id for c in result.campaigns] == ["dup-id"] and result.sources == {"dup-id": str(first)}
    assert not result.ok


def test_a_file_given_twice_is_read_once(tmp_path):
    path = write(tmp_path, "once", featured("once"))

    result = validate_paths([tmp_path, path])

    assert result.ok and [c.id for c in result.campaigns] == ["once"]


def test_folders_read_yaml_and_yml_only_and_not_recursively(tmp_path):
    write(tmp_path, "one", featured("one"))
    (tmp_path / "two.yml").write_text(featured("two"), encoding="utf-8")
    (tmp_path / "schema.json").write_text("{}", encoding="utf-8")
    write(tmp_path / "sub", "three", featured("three"))

    result = validate_paths([tmp_path])

    assert result.ok and [c.id for c in result.campaigns] == ["one", "two"]
    assert result.sources == {"one": str(tmp_path / "one.yaml"), "two": str(tmp_path / "two.yml")}


def test_a_missing_path_is_an_error(tmp_path):
    result = validate_paths([tmp_path / "nope"])

    assert [d.format() for d in result.diagnostics] == [f"{tmp_path / 'nope'}:1:1: error: no such file or folder"]


def test_pins_over_slots_while_campaigns_overlap(tmp_path):
    a = write(tmp_path, "pins-a", window("pins-a", "2026-10-17T00:00:00", "2026-10-18T00:00:00"))
    b = write(tmp_path, "pins-b", window("pins-b", "2026-10-17T12:00:00", "2026-10-19T00:00:00"))

    result = validate_paths([tmp_path], slots=2)

    assert [(d.path, d.line, d.col) for d in result.errors] == [(str(a), 8, 3), (str(b), 8, 3)]
    for error in result.errors:
        assert "at 2026-10-17T12:00:00+08:00 the live campaigns pins-a (2), pins-b (2) pin 4 SKUs" in error.message
        assert "more than the 2 homepage slots" in error.message
    assert validate_paths([tmp_path], slots=4).ok


def test_pins_of_campaigns_that_only_touch_do_not_add_up(tmp_path):
    write(tmp_path, "pins-a", window("pins-a", "2026-10-17T00:00:00", "2026-10-18T00:00:00"))
    write(tmp_path, "pins-b", window("pins-b", "2026-10-18T00:00:00", "2026-10-19T00:00:00"))

    result = validate_paths([tmp_path], slots=2)

    assert result.diagnostics == () and len(result.campaigns) == 2


def test_one_campaign_pinning_more_than_the_slots(tmp_path):
    path = write(tmp_path, "pins-a", window("pins-a", "2026-10-17T00:00:00", "2026-10-18T00:00:00"))

    result = validate_paths([path], slots=1)

    assert [(d.line, d.col) for d in result.errors] == [(8, 3)]
    assert "at 2026-10-17T00:00:00+08:00 the live campaigns pins-a (2) pin 2 SKUs" in result.errors[0].message


def test_one_sku_at_two_prices_in_overlapping_campaigns_is_a_warning(tmp_path):
    first = write(tmp_path, "price-a", window("price-a", "2026-10-17T00:00:00", "2026-10-18T00:00:00"))
    second = write(
        tmp_path, "price-b", window("price-b", "2026-10-17T20:00:00", "2026-10-20T00:00:00", **{"price: 29.90": "price: 25.00"})
    )
    apart = tmp_path / "apart"
    write(apart, "price-a", window("price-a", "2026-10-17T00:00:00", "2026-10-18T00:00:00"))
    write(apart, "price-c", window("price-c", "2026-11-17T00:00:00", "2026-11-18T00:00:00", **{"price: 29.90": "price: 25.00"}))

    result = validate_paths([first, second])

    assert result.ok and result.errors == ()
    assert [(d.path, d.line, d.col, d.severity) for d in result.warnings] == [(str(second), 19, 12, "warning")]
    assert f'products[1].price: SKU "POT-0101" costs 25.00 here but 29.90 in {first} (line 19)' in result.warnings[0].message
    assert validate_paths([apart]).diagnostics == ()


def test_errors_in_one_file_do_not_hide_the_valid_others(tmp_path):
    write(tmp_path, "fine", featured("fine"))
    broken = write(tmp_path, "broken", featured("broken", **{'price: "39.90"': 'price: "0"'}))

    result = validate_paths([tmp_path])

    assert [c.id for c in result.campaigns] == ["fine"] and not result.ok
    assert [(d.path, d.line) for d in result.errors] == [(str(broken), 12)]


def test_find_campaign_returns_the_campaign_and_the_result(tmp_path):
    write(tmp_path, "found", featured("found"))

    campaign, result = find_campaign([tmp_path], "found")
    missing, _ = find_campaign([tmp_path], "missing")

    assert campaign.id == "found" and result.ok and missing is None


# ---------------------------------------------------------------- properties


def _mutations():
    alphabet = st.sampled_from(list(":-[]{}&*!|>'\"#%<,?@`\t\n \r0123456789yesNO~.\\\x00\ufeff中"))
    edit = st.tuples(st.integers(0, len(FEATURED)), st.integers(0, 4), st.text(alphabet, max_size=6))

    def apply(edits):
        text = FEATURED
        for at, cut, insert in edits:
            text = text[:at] + insert + text[at + cut :]
        return text

    return st.lists(edit, min_size=1, max_size=4).map(apply)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.one_of(
        st.binary(max_size=400),
        st.text(max_size=400),
        _mutations(),
        _mutations().map(lambda t: t.encode("utf-8", "surrogatepass")),
    )
)
def test_any_input_never_raises_and_every_position_is_one_based(data):
    campaign, diagnostics = load_campaign_text(data, "fuzz.yaml", expected_id="featured-min")

    assert all(d.line >= 1 and d.col >= 1 for d in diagnostics)
    assert all(d.severity in ("error", "warning") and d.path == "fuzz.yaml" for d in diagnostics)
    assert not any("internal error" in d.message for d in diagnostics)
    assert (campaign is None) == bool(errors(diagnostics))
    assert diagnostics == sorted(diagnostics, key=lambda d: (d.line, d.col))


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10**11))
def test_an_unquoted_amount_is_exact_to_the_fen(fen):
    text = featured(**{"price: 29.90": f"price: {fen // 100}.{fen % 100:02d}"})

    campaign, diagnostics = load(text)

    assert diagnostics == [] and campaign.products[1].price_fen == fen


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"[A-Za-z0-9._/-]{1,64}", fullmatch=True).filter(lambda s: s != "EGG-0017"))
def test_a_quoted_sku_is_kept_exactly(sku):
    text = featured(**{"  - sku: POT-0101": f"  - sku: {json.dumps(sku)}"})

    campaign, diagnostics = load(text)

    assert errors(diagnostics) == [] and campaign.products[1].sku == sku


@settings(max_examples=100, deadline=None)
@given(
    st.text(
        st.characters(min_codepoint=0x20, max_codepoint=0xFFFD, blacklist_categories=("Cs", "Cc")), min_size=1, max_size=20
    ).filter(lambda s: re.fullmatch(r"[A-Za-z0-9._/-]{1,64}", s) is None)
)
def test_a_sku_outside_its_characters_is_refused_at_its_place(sku):
    text = featured(**{"  - sku: POT-0101": f"  - sku: {json.dumps(sku)}"})

    campaign, diagnostics = load(text)

    # refused at the SKU: as not a SKU, or, when it is only spaces, as having no value
    assert campaign is None and any(d.message.startswith("products[1].sku: ") for d in errors(diagnostics))


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Beijing", "Asia/Shanghai"),
        ("Asia/Beijing", "Asia/Shanghai"),
        ("北京", "Asia/Shanghai"),
        ("Chengdu", "Asia/Shanghai"),
        ("Xinjiang", "Asia/Urumqi"),
        ("乌鲁木齐", "Asia/Urumqi"),
        ("Hong Kong", "Asia/Hong_Kong"),
    ],
)
def test_a_chinese_place_typed_as_a_zone_is_answered_with_its_zone(tmp_path, typed, zone):
    text = (Path(__file__).resolve().parents[2] / "campaigns" / "poverty-day-2026.yaml").read_text(encoding="utf-8")
    assert "timezone: Asia/Shanghai" in text
    path = tmp_path / "poverty-day-2026.yaml"
    path.write_text(text.replace("timezone: Asia/Shanghai", f'timezone: "{typed}"', 1), encoding="utf-8")
    [error] = validate_paths([path]).errors
    assert f'timezone: {typed} is not an IANA time zone; did you mean "{zone}"?' in error.message


def test_a_static_image_that_does_not_exist_is_a_warning_at_its_place(tmp_path):
    text = (Path(__file__).resolve().parents[2] / "campaigns" / "poverty-day-2026.yaml").read_text(encoding="utf-8")
    assert text.count("image: /static/egg.svg") == 1
    path = tmp_path / "poverty-day-2026.yaml"
    path.write_text(text.replace("image: /static/egg.svg", "image: /static/eggs.svg"), encoding="utf-8")
    result = validate_paths([path])
    line = text.splitlines().index("    image: /static/egg.svg") + 1
    assert result.ok and [(w.line, w.col, w.message.split(";")[0]) for w in result.warnings] == [
        (line, 12, "products[0].image: /static/eggs.svg is not a file in static/")
    ]
    assert validate_paths([path], static_dir=None).warnings == ()


def test_entries_of_a_folder_that_would_not_be_read_are_named(tmp_path):
    # A publish makes exactly the files read live: a skipped one would be taken off the site.
    write(tmp_path, "price-a", window("price-a", "2026-10-17T00:00:00", "2026-10-18T00:00:00"))
    (tmp_path / "shouting.YAML").write_text("id: shouting\n", encoding="utf-8")
    (tmp_path / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    write(tmp_path / "archive", "old-sale", window("old-sale", "2025-10-17T00:00:00", "2025-10-18T00:00:00"))

    result = validate_paths([tmp_path])

    assert [c.id for c in result.campaigns] == ["price-a"]
    assert [(Path(d.path).name, d.severity, d.message.split(";")[0]) for d in result.diagnostics] == [
        ("archive", "warning", "a subfolder of campaign files is not read"),
        ("gone.yaml", "error", "cannot read: not a file (a broken link?)"),
        ("shouting.YAML", "error", "not read: campaign files end in .yaml"),
    ]
