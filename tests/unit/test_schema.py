"""The editor schema of the campaign YAML: chalicelib/schema.py and campaigns/schema.json."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from campaign_tools.authoring.schema import campaign_json_schema, schema_json_text

REPO = Path(__file__).resolve().parents[2]
CAMPAIGNS_DIR = REPO / "campaigns"
COMMITTED_SCHEMA = CAMPAIGNS_DIR / "schema.json"


# ---------------------------------------------------------------- helpers


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(campaign_json_schema())


def _errors(doc: Any) -> list[tuple[tuple[Any, ...], str]]:
    """Every error as (instance path, failing keyword), sorted."""
    found = [(tuple(e.absolute_path), e.validator) for e in _validator().iter_errors(doc)]
    return sorted(found, key=repr)


def _as_editor_sees_it(value: Any) -> Any:
    """``yaml.safe_load`` output with timestamps turned back into ISO strings.

    safe_load reads YAML 1.1, where ``2026-10-17T00:00:00`` is a ``datetime``
    and ``2026-10-17`` a ``date``. yaml-language-server reads YAML 1.2, where
    both are strings, and JSON Schema knows no dates. ``datetime`` is a
    subclass of ``date``, so one check covers both.
    """
    if isinstance(value, dict):
        return {key: _as_editor_sees_it(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_editor_sees_it(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def _schema_errors_of_file(path: Path) -> list[str]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        return [f"not YAML: {exc}"]
    doc = _as_editor_sees_it(loaded)
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}"
        for e in sorted(_validator().iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))
    ]


def _schema_errors_in(folder: Path) -> dict[str, list[str]]:
    """``{file name: errors}`` for every ``*.yaml`` in ``folder`` that fails the schema."""
    failures = {}
    for path in sorted(folder.glob("*.yaml")):
        errors = _schema_errors_of_file(path)
        if errors:
            failures[path.name] = errors
    return failures


def _defined_properties(schema: dict[str, Any], pointer: str = "#") -> Iterator[tuple[str, dict]]:
    """(JSON pointer, subschema) of every property the schema defines.

    Walks the top level, every ``$defs`` entry, and down through
    ``properties`` and ``items``. The kind rules under ``allOf`` only constrain
    properties defined here (a separate test holds them to that).
    """
    for name, sub in schema.get("properties", {}).items():
        yield f"{pointer}/properties/{name}", sub
        yield from _defined_properties(sub, f"{pointer}/properties/{name}")
    items = schema.get("items")
    if isinstance(items, dict):
        yield from _defined_properties(items, f"{pointer}/items")
    for name, sub in schema.get("$defs", {}).items():
        yield from _defined_properties(sub, f"{pointer}/$defs/{name}")


def _property_names_under(node: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(node, dict):
        names.update(node.get("properties", {}))
        for value in node.values():
            names |= _property_names_under(value)
    elif isinstance(node, list):
        for value in node:
            names |= _property_names_under(value)
    return names


def _text(zh: str, en: str | None = None) -> dict[str, str]:
    return {"zh-CN": zh} if en is None else {"zh-CN": zh, "en": en}


def _product(sku: str = "EGG-0017") -> dict[str, Any]:
    return {
        "sku": sku,
        "name": _text("散养鸡蛋 30枚", "Cage-free eggs, 30"),
        "price": "39.90",
        "merchant": {"id": "m-0042", "name": _text("巴州蛋品")},
        "county": {"code": "511902", "name": _text("巴州区", "Bazhou District")},
        "image": "https://img.example/egg.jpg",
    }


def _featured() -> dict[str, Any]:
    return {
        "id": "poverty-day-2026",
        "kind": "featured",
        "title": _text("10·17 扶贫日 特色好物", "Poverty Alleviation Day picks"),
        "starts_at": "2026-10-17T00:00:00",
        "ends_at": "2026-10-18T00:00:00",
        "products": [_product()],
    }


def _charity_sale() -> dict[str, Any]:
    return {
        "id": "bazhong-pork-2026",
        "kind": "charity_sale",
        "title": _text("巴山土猪 爱心义卖"),
        "starts_at": "2026-11-01T00:00:00+08:00",
        "ends_at": "2026-12-01T00:00:00+08:00",
        "products": [_product("PORK-01")],
        "charity": {
            "rate": "5.5%",
            "goal": "60000.00",
            "beneficiary": _text("巴中留守儿童", "Left-behind children of Bazhong"),
            "partner": _text("巴中市人民政府"),
        },
    }


def _regional_store() -> dict[str, Any]:
    # No ends_at: a regional store may run without an end.
    return {
        "id": "bazhou-store",
        "kind": "regional_store",
        "title": _text("巴州区特色馆"),
        "starts_at": "2026-01-01T00:00",
        "products": [_product()],
    }


# ---------------------------------------------------------------- the committed file


def test_committed_schema_json_is_the_generated_text():
    assert COMMITTED_SCHEMA.is_file(), "run: campaign schema > campaigns/schema.json"
    committed = COMMITTED_SCHEMA.read_bytes()
    assert committed == schema_json_text().encode("utf-8"), (
        "campaigns/schema.json is out of date with chalicelib/schema.py; run: campaign schema > campaigns/schema.json"
    )


def test_schema_text_is_readable_utf8_json_of_the_schema():
    text = schema_json_text()
    assert text.endswith("}\n") and not text.endswith("\n\n")
    assert "扶贫日" in text  # ensure_ascii=False: Chinese examples stay readable
    assert '\n  "$schema": "https://json-schema.org/draft/2020-12/schema",\n' in text
    assert json.loads(text) == campaign_json_schema()


def test_each_call_returns_a_fresh_schema():
    first = campaign_json_schema()
    first["$defs"]["product"]["examples"][0]["sku"] = "CHANGED"
    first["required"].append("summary")
    assert campaign_json_schema()["$defs"]["product"]["examples"][0]["sku"] == "EGG-0017"
    assert campaign_json_schema()["required"] == ["id", "kind", "title", "starts_at", "products"]


# ---------------------------------------------------------------- the schema itself


def test_schema_is_a_valid_draft_2020_12_schema():
    schema = campaign_json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_top_level_shape():
    schema = campaign_json_schema()
    assert list(schema["properties"]) == [
        "id",
        "kind",
        "title",
        "summary",
        "timezone",
        "teaser_from",
        "starts_at",
        "ends_at",
        "homepage",
        "products",
        "charity",
        "tourism",
    ]
    assert schema["required"] == ["id", "kind", "title", "starts_at", "products"]
    assert schema["properties"]["kind"]["enum"] == ["featured", "charity_sale", "regional_store"]
    assert schema["properties"]["timezone"]["default"] == "Asia/Shanghai"
    assert schema["properties"]["products"]["minItems"] == 1


def _object_schemas(node: Any) -> Iterator[dict]:
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield node
        for value in node.values():
            yield from _object_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _object_schemas(value)


def test_every_object_refuses_unknown_keys():
    objects = list(_object_schemas(campaign_json_schema()))
    # the campaign, text, merchant, county, endorsement, product, homepage, charity, payout, sight
    assert sorted(o["title"] for o in objects) == sorted(
        [
            "Campaign (YAML v1)",
            "Text in Chinese and English",
            "Merchant",
            "County",
            "Quality endorsement",
            "Product pick",
            "Homepage",
            "Charity",
            "Payout",
            "Tourism sight",
        ]
    )
    assert [o["title"] for o in objects if o.get("additionalProperties") is not False] == []


def test_every_property_has_a_title_a_description_and_examples():
    properties = list(_defined_properties(campaign_json_schema()))
    names = {pointer.rsplit("/", 1)[1] for pointer, _ in properties}
    assert {
        "id",
        "starts_at",
        "sku",
        "price",
        "zh-CN",
        "en",
        "rate",
        "weight",
        "pinned",
        "points_per_yuan",
        "code",
        "kind",
        "by",
        "donation_rate",
    } <= names
    undocumented = [
        pointer
        for pointer, sub in properties
        if not (
            isinstance(sub.get("title"), str)
            and sub["title"]
            and isinstance(sub.get("description"), str)
            and len(sub["description"]) >= 20
            and isinstance(sub.get("examples"), list)
            and sub["examples"]
        )
    ]
    assert undocumented == []


def test_every_definition_is_documented():
    defs = campaign_json_schema()["$defs"]
    assert sorted(defs) == sorted(
        [
            "text",
            "money",
            "percent",
            "time",
            "sku",
            "whole",
            "image",
            "merchant",
            "county",
            "endorsement",
            "product",
            "homepage",
            "charity",
            "sight",
        ]
    )
    assert [name for name, sub in defs.items() if not (sub.get("description") and sub.get("examples"))] == []


def test_every_example_is_valid_for_its_own_property():
    schema = campaign_json_schema()
    documented = list(_defined_properties(schema)) + [(f"#/$defs/{name}", sub) for name, sub in schema["$defs"].items()]
    bad = []
    for pointer, sub in documented:
        # The property's schema as a root beside the shared $defs, so "#/$defs/..." resolves.
        validator = jsonschema.Draft202012Validator({**sub, "$defs": schema["$defs"]})
        bad += [(pointer, example) for example in sub["examples"] if not validator.is_valid(example)]
    assert bad == []


def test_the_time_rules_are_spelled_out_on_hover():
    props = campaign_json_schema()["properties"]
    assert "Exclusive end" in props["ends_at"]["description"]
    assert "write 2026-10-18T00:00:00" in props["ends_at"]["description"]
    for key in ("teaser_from", "starts_at", "ends_at"):
        assert "Local time in `timezone` unless an offset is given" in props[key]["description"]
        assert "a date alone is refused" in props[key]["description"]


def test_kind_rules_only_constrain_properties_defined_elsewhere():
    schema = campaign_json_schema()
    defined = {pointer.rsplit("/", 1)[1] for pointer, _ in _defined_properties(schema)}
    assert _property_names_under(schema["allOf"]) == {"kind", "products"}
    assert _property_names_under(schema["allOf"]) <= defined


# ---------------------------------------------------------------- documents


@pytest.mark.parametrize("make", [_featured, _charity_sale, _regional_store])
def test_minimal_documents_are_valid(make: Callable[[], dict]):
    assert _errors(make()) == []


def test_a_full_charity_sale_is_valid():
    doc = _charity_sale()
    doc.update(
        summary=_text("每单 5.5% 捐给巴中留守儿童"),
        timezone="Asia/Shanghai",
        teaser_from="2026-10-25T00:00:00+08:00",
        homepage={"weight": 3, "pinned": ["PORK-01"]},
    )
    doc["products"][0].update(
        list_price=49.9,  # an unquoted amount is a number in the editor
        endorsement={"by": _text("巴中市农业农村局"), "kind": "association"},
        donation_rate="8%",
        image="/static/img/pork.jpg",
    )
    doc["charity"].update(beneficiaries=23, points_per_yuan=100)
    assert _errors(doc) == []


def test_a_regional_store_may_list_tourism_sights():
    doc = _regional_store()
    doc["tourism"] = [
        {"name": _text("光雾山"), "summary": _text("红叶之乡"), "image": "https://img.example/g.jpg"},
        {"name": _text("恩阳古镇")},
    ]
    assert _errors(doc) == []


def _set(path: tuple, value: Any) -> Callable[[dict], None]:
    def change(doc: dict) -> None:
        *parents, last = path
        for key in parents:
            doc = doc[key]
        doc[last] = value

    return change


def _drop(key: str) -> Callable[[dict], None]:
    return lambda doc: doc.pop(key)


INVALID = [
    # (name, valid document, change, expected [(instance path, keyword)])
    ("unknown top-level key", _featured, _set(("colour",), "red"), [((), "additionalProperties")]),
    ("unknown product key", _featured, _set(("products", 0, "stock"), 10), [(("products", 0), "additionalProperties")]),
    ("language other than zh-CN and en", _featured, _set(("title", "fr"), "Fête"), [(("title",), "additionalProperties")]),
    ("bad kind", _featured, _set(("kind",), "flash_sale"), [(("kind",), "enum")]),
    ("charity on featured", _featured, _set(("charity",), _charity_sale()["charity"]), [((), "not")]),
    ("charity_sale without charity", _charity_sale, _drop("charity"), [((), "required")]),
    ("featured without ends_at", _featured, _drop("ends_at"), [((), "required")]),
    ("tourism on featured", _featured, _set(("tourism",), [{"name": _text("光雾山")}]), [((), "not")]),
    ("donation_rate on featured", _featured, _set(("products", 0, "donation_rate"), "8%"), [(("products", 0), "not")]),
    ("price with 3 decimals", _featured, _set(("products", 0, "price"), "39.999"), [(("products", 0, "price"), "pattern")]),
    ("price of 0 as a number", _featured, _set(("products", 0, "price"), 0), [(("products", 0, "price"), "exclusiveMinimum")]),
    ("rate without %", _charity_sale, _set(("charity", "rate"), "5.5"), [(("charity", "rate"), "pattern")]),
    ("weight 0", _featured, _set(("homepage",), {"weight": 0}), [(("homepage", "weight"), "minimum")]),
    (
        "pinned twice",
        _featured,
        _set(("homepage",), {"weight": 1, "pinned": ["EGG-0017", "EGG-0017"]}),
        [(("homepage", "pinned"), "uniqueItems")],
    ),
    ("id with uppercase", _featured, _set(("id",), "Poverty-Day-2026"), [(("id",), "pattern")]),
    ("date-only ends_at", _featured, _set(("ends_at",), "2026-10-18"), [(("ends_at",), "pattern")]),
    ("SKU with a space", _featured, _set(("products", 0, "sku"), "EGG 0017"), [(("products", 0, "sku"), "pattern")]),
    ("price of 0.00", _featured, _set(("products", 0, "price"), "0.00"), [(("products", 0, "price"), "pattern")]),
    ("no products", _featured, _set(("products",), []), [(("products",), "minItems")]),
    (
        "image over http",
        _featured,
        _set(("products", 0, "image"), "http://img.example/egg.jpg"),
        [(("products", 0, "image"), "pattern")],
    ),
    (
        "endorsement by a company",
        _featured,
        _set(("products", 0, "endorsement"), {"by": _text("某公司"), "kind": "company"}),
        [(("products", 0, "endorsement", "kind"), "enum")],
    ),
]


@pytest.mark.parametrize("name, make, change, expected", INVALID, ids=[case[0] for case in INVALID])
def test_invalid_documents_fail_at_the_offending_key(name, make, change, expected):
    # GIVEN a valid document
    doc = make()
    assert _errors(doc) == []
    # WHEN one thing is wrong
    change(doc)
    # THEN exactly that is reported, at its path
    assert _errors(doc) == expected


def test_the_charity_error_on_featured_names_the_rule():
    doc = _featured()
    doc["charity"] = copy.deepcopy(_charity_sale()["charity"])
    [error] = _validator().iter_errors(doc)
    assert list(error.schema_path) == ["allOf", 0, "else", "not"]


def test_the_missing_ends_at_error_names_the_key():
    doc = _featured()
    del doc["ends_at"]
    [error] = _validator().iter_errors(doc)
    assert error.message == "'ends_at' is a required property"
    assert list(error.schema_path) == ["allOf", 1, "else", "required"]


# ---------------------------------------------------------------- YAML files


YAML_OK = """\
# yaml-language-server: $schema=./schema.json
id: poverty-day-2026
kind: featured
title: {zh-CN: 10·17 扶贫日 特色好物, en: Poverty Alleviation Day picks}
teaser_from: 2026-10-10T00:00:00
starts_at: 2026-10-17T00:00:00
ends_at: 2026-10-18T00:00:00+08:00
homepage: {weight: 3, pinned: [EGG-0017]}
products:
  - sku: EGG-0017
    name: {zh-CN: 散养鸡蛋 30枚, en: "Cage-free eggs, 30"}
    price: 39.90
    list_price: "49.90"
    merchant: {id: m-0042, name: {zh-CN: 巴州蛋品}}
    county: {code: "511902", name: {zh-CN: 巴州区, en: Bazhou District}}
    image: https://img.example/egg.jpg
"""


def test_safe_load_timestamps_are_validated_as_the_editor_sees_them():
    loaded = yaml.safe_load(YAML_OK)
    assert not jsonschema.Draft202012Validator(campaign_json_schema()).is_valid(loaded)  # datetimes
    doc = _as_editor_sees_it(loaded)
    assert doc["starts_at"] == "2026-10-17T00:00:00"
    assert doc["ends_at"] == "2026-10-18T00:00:00+08:00"
    assert _errors(doc) == []


def test_the_folder_walk_reports_only_the_files_that_fail(tmp_path: Path):
    # GIVEN a good file, one with a date-only ends_at, one broken, and schema.json
    (tmp_path / "poverty-day-2026.yaml").write_text(YAML_OK, encoding="utf-8")
    bad = YAML_OK.replace("ends_at: 2026-10-18T00:00:00+08:00", "ends_at: 2026-10-18")
    (tmp_path / "bad-dates.yaml").write_text(bad, encoding="utf-8")
    (tmp_path / "broken.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    (tmp_path / "schema.json").write_text(schema_json_text(), encoding="utf-8")
    # WHEN it is walked
    failures = _schema_errors_in(tmp_path)
    # THEN the date-only ends_at and the syntax error are reported, nothing else
    assert list(failures) == ["bad-dates.yaml", "broken.yaml"]
    [message] = failures["bad-dates.yaml"]
    assert message.startswith("ends_at: '2026-10-18' does not match")
    [message] = failures["broken.yaml"]
    assert message.startswith("not YAML: ")


def test_every_campaign_file_in_the_repo_matches_the_schema():
    # Other engineers add campaigns/*.yaml; the walk itself is proven on tmp_path above.
    failures = _schema_errors_in(CAMPAIGNS_DIR)
    assert failures == {}, "\n".join(f"campaigns/{name}: {error}" for name, errors in failures.items() for error in errors)
