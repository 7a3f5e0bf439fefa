"""Keys that ride along in another access pattern's ``BatchGetItem``: one request for a whole page.

A charity campaign page needs the release pointer, the campaign's head item
and the sale's counter shards. They live in different stores (releases and
books), but all their keys are known from the URL, so a cold page reads them
in one ``BatchGetItem`` of at most 100 keys (DynamoDB's limit for one request;
docs/donations.md, "Reads per page view"). The books hand the catalog a
:class:`ReadAlong`: the keys they want, and what to do with the items found.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chalicelib.store.keys import Key
from chalicelib.store.table import Item


@dataclass(frozen=True)
class ReadAlong:
    """``keys`` to add to a batch read, and ``take(found)``, called with the items found under them."""

    keys: Sequence[Key]
    take: Callable[[list[Item]], None]

    def of(self, found: Sequence[Item]) -> list[Item]:
        """The items of ``found`` (a whole batch's answer) under this rider's keys."""
        wanted = {(k["PK"], k["SK"]) for k in self.keys}
        return [i for i in found if (i["PK"], i["SK"]) in wanted]


# What a page's campaign read may ask to take along: ``campaign ids -> ReadAlong``, or ``None``
# when nothing needs reading (the books' figures are cached).
Riders = Callable[[Sequence[str]], "ReadAlong | None"]

# The campaign ids, picked from the catalog a container holds (the last release's catalog
# entries), whose books may ride in a due read of the release pointer (``/charity``).
RidersOf = Callable[[Sequence[Mapping[str, Any]]], Sequence[str]]
