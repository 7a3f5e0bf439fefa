"""docs/openapi.yaml describes exactly the app's routes, and is a valid OpenAPI 3.1 document."""

import yaml

from tests.conftest import ROOT


def spec():
    return yaml.safe_load((ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8"))


def test_every_route_is_documented_and_every_documented_route_exists():
    from app import app

    routes = {(path, method.lower()) for path, entries in app.routes.items() for method in entries}
    documented = {(path, method) for path, ops in spec()["paths"].items() for method in ops}
    assert routes == documented


def test_the_document_is_valid_openapi_3_1():
    from jsonschema import Draft202012Validator

    doc = spec()
    assert doc["openapi"] == "3.1.0"
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    refs = []

    def walk(node):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    for ref in refs:
        section, kind, name = ref.split("/")[1:]
        assert name in doc[section][kind], ref
