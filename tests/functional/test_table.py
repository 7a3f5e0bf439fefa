"""The one door to the table (chalicelib/store/table.py): against moto, and stubbed where moto never fails."""

from __future__ import annotations

import random

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from chalicelib.errors import StoreUnavailable
from chalicelib.store.table import (
    Condition,
    ConditionFailed,
    RequestRefused,
    Table,
    absent,
    absent_or_at,
    put_action,
    put_new,
    update_action,
)
from tests.stores import Boto3Table, ScriptedClient


@pytest.fixture
def door(table):
    return Table(table, sleep=lambda s: None)


# ------------------------------------------------------------------ single items and conditions


def test_get_put_delete_round_trip_plain_values(door):
    assert door.get({"PK": "X", "SK": "1"}) is None
    door.put({"PK": "X", "SK": "1", "n": 7, "name": "egg"})
    assert door.get({"PK": "X", "SK": "1"}, consistent=True) == {"PK": "X", "SK": "1", "n": 7, "name": "egg"}
    door.delete({"PK": "X", "SK": "1"})
    assert door.get({"PK": "X", "SK": "1"}) is None


def test_a_put_new_is_a_first_write_wins(door):
    door.put({"PK": "X", "SK": "1", "v": 1}, absent())
    with pytest.raises(ConditionFailed) as failed:
        door.put({"PK": "X", "SK": "1", "v": 2}, absent())
    assert failed.value.indexes == [0]
    assert door.get({"PK": "X", "SK": "1"})["v"] == 1


def test_absent_or_at_is_the_condition_its_name_says(door):
    assert absent_or_at("release", None) == absent() == ("attribute_not_exists(#pk)", {"#pk": "PK"}, {})
    condition, names, values = absent_or_at("release", 3)
    assert (condition, names, values) == ("#release = :expected", {"#release": "release"}, {":expected": 3})
    door.put({"PK": "P", "SK": "C", "release": 3}, absent_or_at("release", None))
    door.put({"PK": "P", "SK": "C", "release": 4}, absent_or_at("release", 3))
    with pytest.raises(ConditionFailed):
        door.put({"PK": "P", "SK": "C", "release": 5}, absent_or_at("release", 3))  # it moved to 4


# ------------------------------------------------------------------ transactions


def test_a_transaction_names_the_actions_whose_condition_failed(door):
    door.put({"PK": "A", "SK": "1"})
    actions = [
        put_new({"PK": "B", "SK": "1"}),
        put_new({"PK": "A", "SK": "1"}),  # exists: fails
        update_action({"PK": "T", "SK": "SUM"}, "ADD #n :one", {"#n": "n"}, {":one": 1}),
    ]
    with pytest.raises(ConditionFailed) as failed:
        door.transact(actions)
    assert failed.value.indexes == [1]
    assert door.get({"PK": "B", "SK": "1"}) is None and door.get({"PK": "T", "SK": "SUM"}) is None
    door.transact([actions[0], actions[2]])
    assert door.get({"PK": "T", "SK": "SUM"}, True)["n"] == 1


def test_an_update_condition_may_share_a_placeholder_that_means_the_same(door):
    door.put({"PK": "O", "SK": "ORDER", "version": 1})
    update = update_action(
        {"PK": "O", "SK": "ORDER"},
        "SET #version = :next",
        {"#version": "version"},
        {":next": 2},
        condition=Condition("#version = :expected", {"#version": "version"}, {":expected": 1}),
    )
    door.transact([update])
    assert door.get({"PK": "O", "SK": "ORDER"}, True)["version"] == 2
    with pytest.raises(ConditionFailed):
        door.transact([update])
    with pytest.raises(AssertionError, match="means two things"):
        update_action(
            {"PK": "O", "SK": "ORDER"},
            "SET #v = :v",
            {"#v": "version"},
            {":v": 1},
            condition=Condition("#v = :v", {"#v": "other"}, {":v": 1}),
        )


def test_one_action_per_item_is_enforced_before_dynamodb_sees_it(door):
    put = put_new({"PK": "ORDER#x", "SK": "ORDER"})
    with pytest.raises(AssertionError, match="one action per item"):
        door.transact([put, update_action({"PK": "T", "SK": "SUM"}, "ADD #n :one", {"#n": "n"}, {":one": 1}), put])


def stub_door(script):
    sleeps: list[float] = []
    client = ScriptedClient(script)
    return Table(Boto3Table(client), sleep=sleeps.append, rng=lambda: 1.0), client, sleeps


ACTIONS = [
    put_action({"PK": "POINTS#1", "SK": "POINTS"}),
    update_action({"PK": "TOTALS#c#001", "SK": "SUM"}, "ADD #n :one", {"#n": "n"}, {":one": 1}),
]


def test_transaction_conflicts_are_retried_with_bounded_jittered_backoff():
    door, client, sleeps = stub_door([["None", "TransactionConflict"], ["None", "ThrottlingError"], None])
    door.transact(ACTIONS)
    assert client.calls == 3
    assert sleeps == [0.01, 0.02]  # rng=1.0: the top of each jitter window, base 10 ms doubling


def test_endless_conflicts_give_up_after_the_attempts_with_a_503():
    door, client, sleeps = stub_door([["None", "TransactionConflict"]] * Table.ATTEMPTS)
    with pytest.raises(StoreUnavailable, match="conflicts"):
        door.transact(ACTIONS)
    assert client.calls == Table.ATTEMPTS and len(sleeps) == Table.ATTEMPTS - 1  # no pause after the last try
    assert max(sleeps) <= Table.BACKOFF_CAP_S and sum(sleeps) < 2.0


def test_a_failed_condition_beside_a_conflict_is_an_answer_never_retried():
    door, client, sleeps = stub_door([["ConditionalCheckFailed", "TransactionConflict"]])
    with pytest.raises(ConditionFailed) as failed:
        door.transact(ACTIONS)
    assert (failed.value.indexes, client.calls, sleeps) == ([0], 1, [])


def test_other_cancellations_are_not_retried():
    door, client, sleeps = stub_door([["None", "ValidationError"]])
    with pytest.raises(StoreUnavailable, match="ValidationError"):
        door.transact(ACTIONS)
    assert (client.calls, sleeps) == (1, [])


def test_jitter_stays_inside_its_window():
    door = Table(Boto3Table(ScriptedClient([])), sleep=lambda s: None, rng=random.Random(1).random)
    for attempt in range(Table.ATTEMPTS):
        assert 0 <= door.backoff_s(attempt) <= min(Table.BACKOFF_CAP_S, Table.BACKOFF_BASE_S * 2**attempt)


# ------------------------------------------------------------------ queries


@pytest.fixture
def partition(door):
    entries = [{"PK": "P", "SK": f"E#{i:03d}", "n": i, "secret": "s"} for i in range(30)]
    door.batch_write(puts=[*entries, {"PK": "P", "SK": "F#1"}])
    return door


def test_a_query_by_prefix_oldest_or_newest_first(partition, counter):
    counter.reset()
    page = partition.query("P", "E#", newest_first=True, limit=3)
    assert [i["SK"] for i in page.items] == ["E#029", "E#028", "E#027"] and page.next_key is not None
    assert [i["SK"] for i in partition.query("P", "E#", limit=2).items] == ["E#000", "E#001"]
    assert len(partition.query("P").items) == 31 and partition.query("Q").items == []
    assert counter.calls == ["Query"] * 4


def test_a_query_follows_its_pages_only_when_asked(partition, counter):
    counter.reset()
    page = partition.query("P", "E#", limit=7, keys_only=True, all_pages=True)
    assert [i["SK"] for i in page.items] == [f"E#{i:03d}" for i in range(30)] and page.next_key is None
    assert all(set(i) == {"PK", "SK"} for i in page.items)
    assert counter.calls == ["Query"] * 5  # 7 + 7 + 7 + 7 + 2
    counter.reset()
    first = partition.query("P", "E#", limit=7)
    rest = partition.query("P", "E#", limit=7, start=first.next_key)
    assert [i["SK"] for i in rest.items] == [f"E#{i:03d}" for i in range(7, 14)]
    assert counter.calls == ["Query"] * 2


def test_a_query_below_a_bound_with_a_projection(partition):
    page = partition.query("P", below="E#010", newest_first=True, limit=2, attributes=("PK", "SK", "n"))
    assert page.items == [{"PK": "P", "SK": "E#009", "n": 9}, {"PK": "P", "SK": "E#008", "n": 8}]
    with pytest.raises(ValueError):
        partition.query("P", "E#", below="E#010")


def test_every_expression_names_its_attributes():
    class Recording:
        def __init__(self):
            self.kwargs = []

        def query(self, **kwargs):
            self.kwargs.append(kwargs)
            return {"Items": []}

    client = Recording()
    door = Table(Boto3Table(client))
    door.query("P", "E#", keys_only=True)
    door.query("P", below="E$", attributes=("PK", "SK", "status", "count"))
    for kwargs in client.kwargs:
        for expression in (kwargs["KeyConditionExpression"], kwargs["ProjectionExpression"]):
            for word in expression.replace(",", " ").replace("(", " ").replace(")", " ").split():
                assert word.startswith(("#", ":")) or word in ("=", "<", "AND", "begins_with"), (word, expression)
        assert set(kwargs["ExpressionAttributeNames"].values()) <= {"PK", "SK", "status", "count"}


# ------------------------------------------------------------------ batches


def test_batches_respect_dynamodbs_limits_not_motos(door, counter):
    """25 writes and 100 reads a request at most (moto would accept more; DynamoDB refuses them)."""
    items = [{"PK": "B", "SK": f"{i:04d}"} for i in range(251)]
    seen = []
    counter.reset()
    door.batch_write(puts=items, progress=seen.append)
    assert counter.calls == ["BatchWriteItem"] * 11 and seen == [25] * 10 + [1]
    counter.reset()
    found = door.batch_get([{"PK": "B", "SK": f"{i:04d}"} for i in range(251)] + [{"PK": "B", "SK": "none"}])
    assert len(found) == 251 and counter.calls == ["BatchGetItem"] * 3
    counter.reset()
    door.batch_write(deletes=[{"PK": "B", "SK": f"{i:04d}"} for i in range(30)])
    assert counter.calls == ["BatchWriteItem"] * 2 and len(door.query("B").items) == 221


def test_unprocessed_keys_are_asked_for_again_and_then_given_up(table):
    class Unprocessing:
        def __init__(self, real, failures):
            self.real, self.failures, self.calls = real, failures, 0

        def batch_get_item(self, RequestItems):
            self.calls += 1
            if self.calls <= self.failures:
                return {"Responses": {}, "UnprocessedKeys": RequestItems}
            return self.real.batch_get_item(RequestItems=RequestItems)

    Table(table).put({"PK": "X", "SK": "1"})
    sleeps: list[float] = []
    flaky = Unprocessing(table.meta.client, failures=2)
    door = Table(Boto3Table(flaky, table.name), sleep=sleeps.append, rng=lambda: 1.0)
    assert door.batch_get([{"PK": "X", "SK": "1"}]) == [{"PK": "X", "SK": "1"}]
    assert flaky.calls == 3 and sleeps == [0.01, 0.02]
    hopeless = Unprocessing(table.meta.client, failures=99)
    with pytest.raises(StoreUnavailable, match="unread"):
        Table(Boto3Table(hopeless, table.name), sleep=lambda s: None).batch_get([{"PK": "X", "SK": "1"}])
    assert hopeless.calls == Table.ATTEMPTS


# ------------------------------------------------------------------ the translation, once


class Failing:
    def __init__(self, error):
        self.error = error

    def get_item(self, **kwargs):
        raise self.error


def client_error(code, status=400):
    return ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "GetItem")


@pytest.mark.parametrize(
    ("error", "raised", "match"),
    [
        (client_error("ResourceNotFoundException"), StoreUnavailable, "table is missing"),
        (client_error("ProvisionedThroughputExceededException"), StoreUnavailable, "unavailable: ProvisionedThroughput"),
        (client_error("ThrottlingException"), StoreUnavailable, "unavailable: ThrottlingException"),
        (client_error("InternalServerError", 500), StoreUnavailable, "unavailable: InternalServerError"),
        (client_error("ServiceUnavailable", 503), StoreUnavailable, "unavailable: ServiceUnavailable"),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), StoreUnavailable, "unavailable: EndpointConnectionError"),
        (client_error("ConditionalCheckFailedException"), ConditionFailed, r"\[0\]"),
        (client_error("ValidationException"), RequestRefused, "refused GetItem: ValidationException"),
        (client_error("AccessDeniedException"), RequestRefused, "AccessDeniedException"),
    ],
)
def test_boto3s_failures_become_the_stores_exceptions(error, raised, match):
    with pytest.raises(raised, match=match) as caught:
        Table(Boto3Table(Failing(error))).get({"PK": "X", "SK": "1"})
    assert caught.value.__cause__ is error


def test_a_missing_table_is_unavailable_not_a_crash(aws_env):
    import boto3
    from moto import mock_aws

    with mock_aws():
        door = Table(boto3.resource("dynamodb", region_name="us-east-1").Table("no-such-table"))
        with pytest.raises(StoreUnavailable, match="missing"):
            door.get({"PK": "X", "SK": "1"})
