"""Conditions of a write, with their placeholders: the item is absent, or an attribute is still what we read.

A :class:`Condition` goes to :meth:`Table.put <chalicelib.store.table.Table.put>` or to a
transaction action (:func:`~chalicelib.store.table.put_action`,
:func:`~chalicelib.store.table.update_action`, :func:`~chalicelib.store.table.delete_action`);
one that fails is :class:`~chalicelib.store.failures.ConditionFailed`, an answer never retried.
Attribute names always go through placeholders (``#pk``), since many are reserved words.
"""

from __future__ import annotations

from typing import Any, NamedTuple


class Condition(NamedTuple):
    """A condition expression with its placeholders; unpacks as ``(condition, names, values)``."""

    expression: str
    names: dict[str, str]
    values: dict[str, Any]


def absent() -> Condition:
    """The item does not exist yet: ``attribute_not_exists(PK)`` (every item has a ``PK``)."""
    return Condition("attribute_not_exists(#pk)", {"#pk": "PK"}, {})


def is_at(attr: str, expected: Any) -> Condition:
    """The item exists and its ``attr`` equals ``expected`` (an optimistic lock)."""
    assert attr.isidentifier(), attr
    return Condition(f"#{attr} = :expected", {f"#{attr}": attr}, {":expected": expected})


def absent_or_at(attr: str, expected: Any | None) -> Condition:
    """:func:`absent` when ``expected`` is ``None``, else :func:`is_at`: "nobody wrote it since
    we read it" for an item that may not exist yet (the release pointer, the rotation)."""
    return absent() if expected is None else is_at(attr, expected)


def condition_kwargs(condition: Condition) -> dict[str, Any]:
    """The ``ConditionExpression`` of ``condition`` with its placeholders, as a request's (or a transaction action's) keys."""
    kwargs: dict[str, Any] = {"ConditionExpression": condition.expression, "ExpressionAttributeNames": dict(condition.names)}
    if condition.values:
        kwargs["ExpressionAttributeValues"] = dict(condition.values)
    return kwargs
