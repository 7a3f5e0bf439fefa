"""DynamoDB access: one method per access pattern.

One table, key ``PK`` (S) + ``SK`` (S), TTL attribute ``expires_at_epoch_s``;
its keys and item types are in :mod:`chalicelib.store.keys`.

The donation books' items are written and read by :mod:`chalicelib.store.books`;
the shapes of every item are in :mod:`chalicelib.store.items` and the capacity
plan in ``docs/donations.md``.

Access patterns:

- a campaign page in a container that has not seen it is one ``BatchGetItem``
  of ``RELEASE/CURRENT`` and ``CAMPAIGN#<id>/HEAD``: the head is used when its
  digest is the one the release names (else one more ``GetItem`` of the
  version the release names, so a head that lags or leads a publish is never
  shown). :class:`chalicelib.releases.catalog.StoreCatalog` caches the pointer 5 s and
  versions for the container's life;
- a homepage in a cold container is one ``BatchGetItem`` of
  ``RELEASE/CURRENT`` and ``ROTATION/CURRENT``;
- a rotation is one ``Query`` (``ROTATION``, ``SK`` beginning ``CURRENT``:
  the previous rotation, the live release's number and the homepage
  campaigns of the kept releases, of which it keeps the live one's) plus one
  two-item transaction. Nothing scans.

Exceptions (all :class:`chalicelib.errors.PlatformError`):
``ReleaseConflict`` when the release pointer moved under a publish or
rollback; ``RotationConflict`` when another rotation won the race.
"""
from __future__ import annotations

import json
import random
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

from botocore.exceptions import ClientError

from chalicelib.errors import ReleaseConflict, RotationConflict, StoreUnavailable
from chalicelib.store.items import CampaignHead, Release, RotationInputs, item_json
from chalicelib.store.keys import (
    CURRENT_SK,
    HEAD_SK,
    HOMEPAGE_PREFIX,
    LIVE_RELEASE_KEY,
    LOCAL_PK,
    RELEASE_KEY,
    RELEASE_PK,
    ROTATION_KEY,
    ROTATION_PK,
    TTL_ATTRIBUTE,
    campaign_pk,
    head_key,
    history_sk,
    homepage_key,
    homepage_prefix,
    release_sk,
    version_sk,
)


def batch_get_items(
    call: Callable[..., Any],
    client: Any,
    table_name: str,
    keys: Sequence[Mapping[str, str]],
    consistent: bool,
    attempts: int,
    pause: Callable[[int], None],
) -> list[dict[str, Any]]:
    """Every item found under ``keys`` (``{"PK", "SK"}``), by ``BatchGetItem``.

    100 keys a request (the DynamoDB limit); ``UnprocessedKeys`` are asked for
    again after ``pause(attempt)``, at most ``attempts`` times, then
    ``StoreUnavailable``. ``call`` is the store's error translator.
    """
    out: list[dict[str, Any]] = []
    for start in range(0, len(keys), 100):
        pending = [dict(k) for k in keys[start : start + 100]]
        for attempt in range(attempts):
            response = call(client.batch_get_item, RequestItems={table_name: {"Keys": pending, "ConsistentRead": consistent}})
            out.extend(response.get("Responses", {}).get(table_name, []))
            pending = (response.get("UnprocessedKeys") or {}).get(table_name, {}).get("Keys", [])
            if not pending:
                break
            pause(attempt)
        else:
            raise StoreUnavailable("DynamoDB left keys unread after retries")
    return out


def _request_key(request: Mapping[str, Any]) -> str:
    body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key") or {}
    return f"{body.get('PK')}/{body.get('SK')}"


# Throttling that outlasted the SDK's retries: the table is there but cannot serve us now.
_UNAVAILABLE_CODES = ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded")


def _cancelled_by(exc: ClientError, reason: str) -> bool:
    """Whether a cancelled transaction names ``reason`` (e.g. ``TransactionConflict``)."""
    reasons = exc.response.get("CancellationReasons") or []
    return any(r.get("Code") == reason for r in reasons)


def _is_condition_failure(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    if code == "ConditionalCheckFailedException":
        return True
    if code == "TransactionCanceledException":
        reasons = exc.response.get("CancellationReasons") or []
        return any(r.get("Code") == "ConditionalCheckFailed" for r in reasons)
    return False


class Store:
    """The table, behind one method per access pattern.

    Parameters
    ----------
    table:
        a ``boto3.resource("dynamodb").Table`` (real or moto).
    sleep:
        injected for the batch-retry backoff, so tests never sleep.
    """

    BATCH_ATTEMPTS = 8

    def __init__(self, table: Any, sleep: Callable[[float], None] = time.sleep) -> None:
        self.table = table
        self._sleep = sleep

    # ------------------------------------------------------------ releases

    def get_current_release(self, consistent: bool = False) -> Release | None:
        """``GetItem RELEASE/CURRENT``; ``None`` before the first publish."""
        item = self._get(RELEASE_KEY, consistent)
        return None if item is None else Release.from_item(item)

    def get_release_with_head(self, campaign_id: str) -> tuple[Release | None, CampaignHead | None]:
        """One ``BatchGetItem`` (eventually consistent) of ``RELEASE/CURRENT`` and
        ``CAMPAIGN#<id>/HEAD``: a campaign page in a cold container. Either may be ``None``."""
        items = self._get_many([RELEASE_KEY, head_key(campaign_id)])
        release = items.get((RELEASE_PK, CURRENT_SK))
        head = items.get((campaign_pk(campaign_id), HEAD_SK))
        return (
            None if release is None else Release.from_item(release),
            None if head is None else CampaignHead.from_item(head),
        )

    def get_release_and_rotation(self) -> tuple[Release | None, dict[str, Any] | None]:
        """One ``BatchGetItem`` (eventually consistent) of ``RELEASE/CURRENT`` and
        ``ROTATION/CURRENT``: the homepage in a cold container. Either may be ``None``."""
        items = self._get_many([RELEASE_KEY, ROTATION_KEY])
        release = items.get((RELEASE_PK, CURRENT_SK))
        rotation = items.get((ROTATION_PK, CURRENT_SK))
        return (
            None if release is None else Release.from_item(release),
            None if rotation is None else json.loads(rotation["doc"]),
        )

    def get_release(self, number: int) -> Release | None:
        item = self._get({"PK": RELEASE_PK, "SK": release_sk(number)}, True)
        return None if item is None else Release.from_item(item)

    def list_releases(self, limit: int = 10) -> list[Release]:
        """Newest first: one ``Query`` on ``PK = RELEASE``, ``SK`` beginning ``R#``."""
        response = self._call(
            self.table.query,
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": RELEASE_PK, ":prefix": "R#"},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [Release.from_item(i) for i in response.get("Items", [])]

    def put_release_record(self, release: Release) -> None:
        """Write ``RELEASE/R#n`` once (``attribute_not_exists``: a number is never reused)."""
        try:
            self._call(
                self.table.put_item,
                Item=release.to_item(release_sk(release.number)),
                ConditionExpression="attribute_not_exists(#pk)",
                ExpressionAttributeNames={"#pk": "PK"},
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise ReleaseConflict(
                    f"another publish took release number {release.number} at the same moment; run the command again"
                ) from exc
            raise

    def flip_current(self, release: Release, expected: int | None) -> None:
        """Point ``RELEASE/CURRENT`` at ``release`` if it still names ``expected``.

        The atomic step of a publish or rollback: one ``TransactWriteItems``
        of the conditional ``Put`` of the pointer and the ``Put`` of
        ``ROTATION/CURRENT#LIVE`` (the number the rotation reads in its one
        ``Query``), so the two never disagree. ``expected=None`` means "no
        release yet". Raises ``ReleaseConflict`` when another publish moved the
        pointer first (or was writing it at the same moment).
        """
        if expected is None:
            condition = "attribute_not_exists(#pk)"
            names, values = {"#pk": "PK"}, None
        else:
            condition = "#release = :expected"
            names, values = {"#release": "release"}, {":expected": expected}
        pointer: dict[str, Any] = {
            "TableName": self.table.name,
            "Item": release.to_item(CURRENT_SK),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            pointer["ExpressionAttributeValues"] = values
        live = {"TableName": self.table.name, "Item": {**LIVE_RELEASE_KEY, "release": release.number}}
        try:
            self._call(self.table.meta.client.transact_write_items, TransactItems=[{"Put": pointer}, {"Put": live}])
        except ClientError as exc:
            if _is_condition_failure(exc) or _cancelled_by(exc, "TransactionConflict"):
                raise ReleaseConflict(
                    "the live release changed while publishing; run the command again"
                ) from exc
            raise

    # ------------------------------------------------------------ campaigns

    def get_campaign_doc(self, campaign_id: str, digest: str) -> dict[str, Any] | None:
        """``GetItem CAMPAIGN#id / V#digest``: an immutable campaign document."""
        item = self._get({"PK": campaign_pk(campaign_id), "SK": version_sk(digest)}, False)
        return None if item is None else json.loads(item["doc"])

    def has_campaign_version(self, campaign_id: str, digest: str) -> bool:
        return self._get({"PK": campaign_pk(campaign_id), "SK": version_sk(digest)}, True) is not None

    def put_campaign_versions(
        self, docs: Iterable[tuple[str, str, Mapping[str, Any]]], progress: Callable[[int], None] | None = None
    ) -> int:
        """Write ``(campaign id, digest, document)`` items; returns how many were written."""
        items = [
            {"PK": campaign_pk(cid), "SK": version_sk(digest), "doc": item_json(doc)}
            for cid, digest, doc in docs
        ]
        self.batch_put(items, progress)
        return len(items)

    def put_campaign_heads(self, heads: Iterable[tuple[str, CampaignHead]]) -> int:
        """Write ``CAMPAIGN#<id>/HEAD`` items (``BatchWriteItem``); returns how many were written."""
        items = [head.to_item(cid) for cid, head in heads]
        self.batch_put(items)
        return len(items)

    def put_homepage_entries(
        self, release: int, entries: Iterable[tuple[str, Mapping[str, Any]]], progress: Callable[[int], None] | None = None
    ) -> int:
        """Write the homepage campaigns of ``release`` (``ROTATION/CURRENT#R#<n>#<id>``)."""
        items = [{**homepage_key(release, cid), "entry": item_json(entry)} for cid, entry in entries]
        self.batch_put(items, progress)
        return len(items)

    def latest_homepage_release(self) -> int:
        """The highest release number that has homepage items, 0 when none
        (one ``Query``, newest first, ``Limit`` 1, keys only).

        A publish that failed before its flip may have left items under a
        number no release record holds; the next publish numbers past them.
        """
        response = self._call(
            self.table.query,
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": ROTATION_PK, ":prefix": HOMEPAGE_PREFIX},
            ProjectionExpression="#sk",
            ScanIndexForward=False,
            Limit=1,
        )
        items = response.get("Items", [])
        return int(items[0]["SK"][len(HOMEPAGE_PREFIX) :][:10]) if items else 0

    def release_numbers(self) -> list[int]:
        """Every kept release number, newest first (``Query`` pages on ``RELEASE``, keys only)."""
        items = self._query_all(
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": RELEASE_PK, ":prefix": "R#"},
            ProjectionExpression="#sk",
            ScanIndexForward=False,
        )
        return [int(i["SK"][2:]) for i in items]

    def delete_release(self, number: int) -> None:
        """Delete release ``number``: its homepage items, then its record.

        Campaign documents stay: they are shared by content digest with other
        releases and are small.
        """
        keys = [homepage_key(number, e["campaign_id"]) for e in self.query_homepage_entries(number)]
        self.batch_delete(keys)
        self._call(self.table.delete_item, Key={"PK": RELEASE_PK, "SK": release_sk(number)})

    def query_homepage_entries(self, release: int) -> list[dict[str, Any]]:
        """All homepage campaigns of ``release`` (``Query`` pages, strongly consistent)."""
        items = self._query_all(
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": ROTATION_PK, ":prefix": homepage_prefix(release)},
            ConsistentRead=True,
        )
        return [json.loads(i["entry"]) for i in items]

    def get_rotation_inputs(self) -> "RotationInputs":
        """What a rotation reads, in one strongly consistent ``Query`` (and its pages):
        ``ROTATION`` items whose ``SK`` begins with ``CURRENT``.

        That is the previous rotation, the live release's number and the
        homepage campaigns of every kept release; the live release's are kept.
        Reads grow with the kept releases (at most ``Publisher.KEEP_RELEASES``).
        """
        items = self._query_all(
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": ROTATION_PK, ":prefix": CURRENT_SK},
            ConsistentRead=True,
        )
        rotation, live = None, None
        by_release: dict[int, list[dict[str, Any]]] = {}
        for item in items:
            sk = item["SK"]
            if sk == CURRENT_SK:
                rotation = json.loads(item["doc"])
            elif sk == LIVE_RELEASE_KEY["SK"]:
                live = int(item["release"])
            elif sk.startswith(HOMEPAGE_PREFIX):
                by_release.setdefault(int(sk[len(HOMEPAGE_PREFIX) :][:10]), []).append(json.loads(item["entry"]))
        return RotationInputs(live, rotation, by_release.get(live, []) if live is not None else [])

    def batch_put(self, items: Sequence[Mapping[str, Any]], progress: Callable[[int], None] | None = None) -> None:
        """``BatchWriteItem`` puts in chunks of 25 (the DynamoDB limit); see :meth:`_batch`."""
        self._batch([{"PutRequest": {"Item": dict(i)}} for i in items], progress)

    def batch_delete(self, keys: Sequence[Mapping[str, str]]) -> None:
        """``BatchWriteItem`` deletes of ``{"PK", "SK"}`` keys; see :meth:`_batch`."""
        self._batch([{"DeleteRequest": {"Key": dict(k)}} for k in keys], None)

    def _batch(self, requests: Sequence[dict[str, Any]], progress: Callable[[int], None] | None) -> None:
        """Send write requests 25 at a time, retrying ``UnprocessedItems`` with
        jittered exponential backoff; ``progress(n)`` after each chunk.

        Raises ``StoreUnavailable`` naming the keys still unwritten after
        ``BATCH_ATTEMPTS`` tries.
        """
        client = self.table.meta.client
        name = self.table.name
        for start in range(0, len(requests), 25):
            chunk = list(requests[start : start + 25])
            pending = chunk
            for attempt in range(self.BATCH_ATTEMPTS):
                response = self._call(client.batch_write_item, RequestItems={name: pending})
                pending = (response.get("UnprocessedItems") or {}).get(name, [])
                if not pending:
                    break
                self._pause(attempt)
            else:
                keys = ", ".join(_request_key(r) for r in pending)
                raise StoreUnavailable(f"DynamoDB left items unwritten after retries: {keys}")
            if progress is not None:
                progress(len(chunk))

    # ------------------------------------------------------------ rotation

    def get_rotation(self, consistent: bool = False) -> dict[str, Any] | None:
        """``GetItem ROTATION/CURRENT``: the live rotation as a plain dict, or ``None``."""
        item = self._get(ROTATION_KEY, consistent)
        if item is None:
            return None
        return json.loads(item["doc"])

    def put_rotation(self, doc: Mapping[str, Any], expected: int | None, expires_at_epoch_s: int) -> None:
        """Write rotation ``doc["rotation"]`` and its history item in one transaction.

        Condition on ``ROTATION/CURRENT``: absent (``expected=None``) or still
        at rotation ``expected``; the history item must not exist yet. Raises
        ``RotationConflict`` when another run wrote first.
        """
        number = int(doc["rotation"])
        if expected is None:
            condition = "attribute_not_exists(#pk)"
            names = {"#pk": "PK"}
            values: dict[str, Any] | None = None
        else:
            condition = "#rotation = :expected"
            names = {"#rotation": "rotation"}
            values = {":expected": expected}
        current: dict[str, Any] = {
            "TableName": self.table.name,
            "Item": {"PK": ROTATION_PK, "SK": CURRENT_SK, "rotation": number, "doc": item_json(doc)},
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            current["ExpressionAttributeValues"] = values
        history = {
            "TableName": self.table.name,
            "Item": {
                "PK": ROTATION_PK,
                "SK": history_sk(number),
                "rotation": number,
                "doc": item_json(doc),
                TTL_ATTRIBUTE: expires_at_epoch_s,
            },
            "ConditionExpression": "attribute_not_exists(#pk)",
            "ExpressionAttributeNames": {"#pk": "PK"},
        }
        try:
            self._call(
                self.table.meta.client.transact_write_items,
                TransactItems=[{"Put": current}, {"Put": history}],
            )
        except ClientError as exc:
            if _is_condition_failure(exc):
                raise RotationConflict(f"rotation {number} was already written by another run") from exc
            raise

    def rotation_history(self, limit: int = 10, now_epoch_s: int | None = None) -> list[dict[str, Any]]:
        """The last ``limit`` rotations, newest first (one ``Query``).

        Items past their TTL are left out even if DynamoDB has not deleted
        them yet (TTL deletion can lag by days).
        """
        response = self._call(
            self.table.query,
            KeyConditionExpression="#pk = :pk AND begins_with(#sk, :prefix)",
            ExpressionAttributeNames={"#pk": "PK", "#sk": "SK"},
            ExpressionAttributeValues={":pk": ROTATION_PK, ":prefix": "H#"},
            ScanIndexForward=False,
            Limit=limit,
        )
        out = []
        for item in response.get("Items", []):
            if now_epoch_s is not None and int(item.get(TTL_ATTRIBUTE, 0)) <= now_epoch_s:
                continue
            out.append(json.loads(item["doc"]))
        return out

    # ------------------------------------------------------------ the local stack's clock

    def put_local_clock_offset_s(self, offset_s: float) -> None:
        """``campaign serve --at``: record how far its clock runs ahead of the real one (seconds),
        so that ``campaign rotate/publish --stage local`` from another terminal use the same time."""
        self._call(self.table.put_item, Item={"PK": LOCAL_PK, "SK": "CLOCK", "offset_ms": int(offset_s * 1000)})

    def get_local_clock_offset_s(self) -> float:
        """The recorded offset of the local stack's clock, seconds (0 when none)."""
        item = self._get({"PK": LOCAL_PK, "SK": "CLOCK"}, True)
        return 0.0 if item is None else int(item["offset_ms"]) / 1000

    # ------------------------------------------------------------ plumbing

    def _get(self, key: Mapping[str, str], consistent: bool) -> dict[str, Any] | None:
        response = self._call(self.table.get_item, Key=dict(key), ConsistentRead=consistent)
        return response.get("Item")

    def _query_all(self, **kwargs: Any) -> list[dict[str, Any]]:
        """The items of every page of one ``Query`` (following ``LastEvaluatedKey``)."""
        items: list[dict[str, Any]] = []
        while True:
            response = self._call(self.table.query, **kwargs)
            items.extend(response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return items
            kwargs["ExclusiveStartKey"] = last

    def _get_many(self, keys: Sequence[Mapping[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """``(PK, SK) -> item`` of the keys found (eventually consistent ``BatchGetItem``)."""
        client, name = self.table.meta.client, self.table.name
        items = batch_get_items(self._call, client, name, keys, False, self.BATCH_ATTEMPTS, self._pause)
        return {(i["PK"], i["SK"]): i for i in items}

    def _pause(self, attempt: int) -> None:
        """Jittered exponential backoff before batch retry ``attempt`` (0-based): at most 2 s."""
        self._sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))

    @staticmethod
    def _call(method: Callable[..., Any], **kwargs: Any) -> Any:
        """Call boto3; translate connection-level failures into ``StoreUnavailable``.

        ``ClientError`` passes through for the caller to interpret
        (conditions); other botocore failures (endpoint down, timeouts) mean
        the store is unavailable. So do throttling and 5xx errors that the
        SDK's own retries (standard mode, 3 attempts) did not get past: they
        are a 503 (or a stale page from the cache), never a 500.
        """
        from botocore.exceptions import BotoCoreError

        try:
            return method(**kwargs)
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in ("ResourceNotFoundException",):
                raise StoreUnavailable(f"DynamoDB table is missing: {code}") from exc
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
            if code in _UNAVAILABLE_CODES or status >= 500:
                raise StoreUnavailable(f"DynamoDB is unavailable: {code or status}") from exc
            raise
        except BotoCoreError as exc:
            raise StoreUnavailable(f"DynamoDB is unavailable: {exc.__class__.__name__}") from exc
