"""The local stack's embedded DynamoDB (chalicelib/local_dynamodb.py): moto, atomic and fast."""

from __future__ import annotations

import threading

import boto3
import pytest
from botocore.exceptions import ClientError

from campaign_tools.local_dynamodb import EmbeddedDynamoDB, install_item_rollback
from chalicelib.store.table import create_table

pytestmark = pytest.mark.server


@pytest.fixture
def patched():
    undo = install_item_rollback()
    yield
    undo()


def _items(table):
    return sorted((i["PK"], i["SK"], int(i.get("n", 0))) for i in table.scan()["Items"])


def test_a_cancelled_transaction_leaves_every_item_as_it_was(table, patched):
    table.put_item(Item={"PK": "A", "SK": "1", "n": 1})
    table.put_item(Item={"PK": "C", "SK": "1", "n": 7})
    before = _items(table)
    client = table.meta.client
    with pytest.raises(ClientError) as caught:
        client.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table.name,
                        "Key": {"PK": "A", "SK": "1"},
                        "UpdateExpression": "ADD #n :one",
                        "ExpressionAttributeNames": {"#n": "n"},
                        "ExpressionAttributeValues": {":one": 1},
                    }
                },
                {"Put": {"TableName": table.name, "Item": {"PK": "B", "SK": "1", "n": 2}}},
                {
                    "Put": {
                        "TableName": table.name,
                        "Item": {"PK": "C", "SK": "1", "n": 3},
                        "ConditionExpression": "attribute_not_exists(#pk)",
                        "ExpressionAttributeNames": {"#pk": "PK"},
                    }
                },
            ]
        )
    assert [r["Code"] for r in caught.value.response["CancellationReasons"]] == ["None", "None", "ConditionalCheckFailed"]
    assert _items(table) == before
    client.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": table.name,
                    "Key": {"PK": "A", "SK": "1"},
                    "UpdateExpression": "ADD #n :one",
                    "ExpressionAttributeNames": {"#n": "n"},
                    "ExpressionAttributeValues": {":one": 1},
                }
            },
            {"Put": {"TableName": table.name, "Item": {"PK": "B", "SK": "1", "n": 2}}},
        ]
    )
    assert _items(table) == [("A", "1", 2), ("B", "1", 2), ("C", "1", 7)]


def test_a_query_reads_only_its_partition_with_the_same_answers(table, patched):
    with table.batch_writer() as batch:
        for pk in ("P1", "P2"):
            for i in range(30):
                batch.put_item(Item={"PK": pk, "SK": f"E#{i:03d}", "n": i})
    response = table.query(
        KeyConditionExpression="#pk = :pk AND #sk < :b",
        ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
        ExpressionAttributeValues={":pk": "P2", ":b": "E#020"},
        ScanIndexForward=False,
        Limit=5,
    )
    assert [i["SK"] for i in response["Items"]] == ["E#019", "E#018", "E#017", "E#016", "E#015"]
    after = table.query(
        KeyConditionExpression="#pk = :pk AND #sk < :b",
        ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
        ExpressionAttributeValues={":pk": "P2", ":b": "E#020"},
        ScanIndexForward=False,
        Limit=5,
        ExclusiveStartKey=response["LastEvaluatedKey"],
    )
    assert [i["SK"] for i in after["Items"]] == ["E#014", "E#013", "E#012", "E#011", "E#010"]
    assert (
        table.query(
            KeyConditionExpression="#pk = :pk", ExpressionAttributeNames={"#pk": "PK"}, ExpressionAttributeValues={":pk": "P3"}
        )["Items"]
        == []
    )


def test_the_server_makes_each_conditional_write_atomic_under_threads(monkeypatch):
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "local")
    server = EmbeddedDynamoDB("127.0.0.1", 0)
    server.start()
    try:
        resource = boto3.resource("dynamodb", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{server.port}")
        table = create_table(resource, "race")
        wins: list[str] = []
        lock = threading.Lock()

        def racer(n: int) -> None:
            client = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=f"http://127.0.0.1:{server.port}")
            for key in range(25):
                try:
                    client.transact_write_items(
                        TransactItems=[
                            {
                                "Put": {
                                    "TableName": "race",
                                    "Item": {"PK": {"S": f"ORDER#{key}"}, "SK": {"S": "ORDER"}, "by": {"N": str(n)}},
                                    "ConditionExpression": "attribute_not_exists(PK)",
                                }
                            },
                            {
                                "Update": {
                                    "TableName": "race",
                                    "Key": {"PK": {"S": "TOTAL"}, "SK": {"S": "SUM"}},
                                    "UpdateExpression": "ADD #n :one",
                                    "ExpressionAttributeNames": {"#n": "n"},
                                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                                }
                            },
                        ]
                    )
                    with lock:
                        wins.append(f"ORDER#{key}")
                except ClientError as exc:
                    assert exc.response["Error"]["Code"] == "TransactionCanceledException"

        threads = [threading.Thread(target=racer, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(wins) == sorted(f"ORDER#{k}" for k in range(25))  # each key won exactly once
        assert int(table.get_item(Key={"PK": "TOTAL", "SK": "SUM"})["Item"]["n"]) == 25  # no lost or doubled ADD
    finally:
        server.stop()
