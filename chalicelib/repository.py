"""DynamoDB access: keys, item shapes, and one method per access pattern.

One table, key ``PK`` (S) + ``SK`` (S), TTL attribute ``expires_at_epoch_s``.

==========================  ======================  ==========================================
PK                          SK                      item
==========================  ======================  ==========================================
``RELEASE``                 ``CURRENT``             the live release: number, manifest, catalog
``RELEASE``                 ``R#<n:010>``           every release, kept for rollback
``CAMPAIGN#<id>``           ``V#<sha256>``          one campaign document, content-addressed
``HOMEPAGE#R#<n:010>``      ``C#<id>``              one homepage campaign of release n
``ROTATION``                ``CURRENT``             the live homepage rotation
``ROTATION``                ``H#<n:010>``           rotation history (TTL 30 days)
``ORDER#<order_id>``        ``ORDER``               a recorded sale (idempotency of /api/sales)
``REFUND#<refund_id>``      ``REFUND``              a recorded refund (idempotency of /api/refunds)
``POINTS#<donation_id>``    ``POINTS``              a point donation (idempotency of /api/point-donations)
``TOTALS#<id>#<s:03d>``     ``SUM``                 counter shard s of a campaign's books (ADD only)
``LEDGER#<id>#<l:02d>``     ``E#<at UTC>#<nonce>``  one public ledger entry, in ledger shard l
==========================  ======================  ==========================================

The donation books' items (the last five rows) are written and read by
:mod:`chalicelib.books_store`; their shapes are in :mod:`chalicelib.books_items`
and the capacity plan in ``docs/donations.md``.

Documents are stored as JSON text (``doc``), so no number ever passes through
``float`` and no DynamoDB ``Decimal`` reaches a response.

Access patterns: a campaign page is ``GetItem(RELEASE/CURRENT)`` (cached by
:class:`chalicelib.catalog.Catalog`) plus ``GetItem`` of an immutable
campaign version (cached for the container's life); the homepage is
``GetItem(ROTATION/CURRENT)``; a rotation is one ``Query`` of the release's
homepage partition plus one two-item transaction. Nothing scans.

Exceptions (all :class:`chalicelib.errors.PlatformError`):
``ReleaseConflict`` when the release pointer moved under a publish or
rollback; ``RotationConflict`` when another rotation won the race.
"""
from __future__ import annotations

import json
import random
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from botocore.exceptions import ClientError

from .errors import ReleaseConflict, RotationConflict, StoreUnavailable

RELEASE_PK = "RELEASE"
CURRENT_SK = "CURRENT"
ROTATION_PK = "ROTATION"
LOCAL_PK = "LOCAL"  # the local stack only (campaign serve)
TTL_ATTRIBUTE = "expires_at_epoch_s"

KEY_SCHEMA = [
    {"AttributeName": "PK", "KeyType": "HASH"},
    {"AttributeName": "SK", "KeyType": "RANGE"},
]
ATTRIBUTE_DEFINITIONS = [
    {"AttributeName": "PK", "AttributeType": "S"},
    {"AttributeName": "SK", "AttributeType": "S"},
]


def release_sk(release: int) -> str:
    return f"R#{release:010d}"


def campaign_pk(campaign_id: str) -> str:
    return f"CAMPAIGN#{campaign_id}"


def version_sk(digest: str) -> str:
    return f"V#{digest}"


def homepage_pk(release: int) -> str:
    return f"HOMEPAGE#R#{release:010d}"


def homepage_sk(campaign_id: str) -> str:
    return f"C#{campaign_id}"


def history_sk(rotation: int) -> str:
    return f"H#{rotation:010d}"


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Release:
    """A published set of campaigns.

    ``manifest``: campaign id -> content digest of its document.
    ``catalog``: one compact summary per campaign (id, kind, title, windows,
    charity headline) for the homepage list and ``/charity``.
    """

    number: int
    manifest: Mapping[str, str]
    catalog: Sequence[Mapping[str, Any]]
    published_at: str
    published_by: str = ""
    commit: str = ""
    previous: int = 0

    @property
    def content_digest(self) -> str:
        import hashlib

        return hashlib.sha256(_json([self.manifest, list(self.catalog)]).encode()).hexdigest()

    def to_item(self, sk: str) -> dict[str, Any]:
        return {
            "PK": RELEASE_PK,
            "SK": sk,
            "release": self.number,
            "previous": self.previous,
            "manifest": _json(dict(self.manifest)),
            "catalog": _json(list(self.catalog)),
            "published_at": self.published_at,
            "published_by": self.published_by,
            "commit": self.commit,
        }

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> "Release":
        return cls(
            number=int(item["release"]),
            previous=int(item.get("previous", 0)),
            manifest=json.loads(item["manifest"]),
            catalog=json.loads(item["catalog"]),
            published_at=str(item.get("published_at", "")),
            published_by=str(item.get("published_by", "")),
            commit=str(item.get("commit", "")),
        )


def _request_key(request: Mapping[str, Any]) -> str:
    body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key") or {}
    return f"{body.get('PK')}/{body.get('SK')}"


# Throttling that outlasted the SDK's retries: the table is there but cannot serve us now.
_UNAVAILABLE_CODES = ("ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded")


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
        item = self._get({"PK": RELEASE_PK, "SK": CURRENT_SK}, consistent)
        return None if item is None else Release.from_item(item)

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
                raise ReleaseConflict(f"release {release.number} already exists") from exc
            raise

    def flip_current(self, release: Release, expected: int | None) -> None:
        """Point ``RELEASE/CURRENT`` at ``release`` if it still names ``expected``.

        One conditional ``PutItem``: the atomic step of a publish or rollback.
        ``expected=None`` means "no release yet". Raises ``ReleaseConflict``
        when another publish moved the pointer first.
        """
        if expected is None:
            condition = "attribute_not_exists(#pk)"
            values: dict[str, Any] = {}
        else:
            condition = "#release = :expected"
            values = {":expected": expected}
        kwargs: dict[str, Any] = {
            "Item": release.to_item(CURRENT_SK),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": {"#pk": "PK"} if expected is None else {"#release": "release"},
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        try:
            self._call(self.table.put_item, **kwargs)
        except ClientError as exc:
            if _is_condition_failure(exc):
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
            {"PK": campaign_pk(cid), "SK": version_sk(digest), "doc": _json(doc)}
            for cid, digest, doc in docs
        ]
        self.batch_put(items, progress)
        return len(items)

    def put_homepage_entries(
        self, release: int, entries: Iterable[tuple[str, Mapping[str, Any]]], progress: Callable[[int], None] | None = None
    ) -> int:
        """Write the homepage partition of ``release``: one item per homepage campaign."""
        items = [
            {"PK": homepage_pk(release), "SK": homepage_sk(cid), "entry": _json(entry)}
            for cid, entry in entries
        ]
        self.batch_put(items, progress)
        return len(items)

    def release_numbers(self) -> list[int]:
        """Every kept release number, newest first (``Query`` pages on ``RELEASE``, keys only)."""
        numbers: list[int] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :prefix)",
            "ExpressionAttributeNames": {"#pk": "PK", "#sk": "SK"},
            "ExpressionAttributeValues": {":pk": RELEASE_PK, ":prefix": "R#"},
            "ProjectionExpression": "#sk",
            "ScanIndexForward": False,
        }
        while True:
            response = self._call(self.table.query, **kwargs)
            numbers.extend(int(i["SK"][2:]) for i in response.get("Items", []))
            if not response.get("LastEvaluatedKey"):
                return numbers
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def delete_release(self, number: int) -> None:
        """Delete release ``number``: its homepage partition, then its record.

        Campaign documents stay: they are shared by content digest with other
        releases and are small.
        """
        keys = [{"PK": homepage_pk(number), "SK": homepage_sk(e["campaign_id"])} for e in self.query_homepage_entries(number)]
        self.batch_delete(keys)
        self._call(self.table.delete_item, Key={"PK": RELEASE_PK, "SK": release_sk(number)})

    def query_homepage_entries(self, release: int) -> list[dict[str, Any]]:
        """All homepage campaigns of ``release``: ``Query`` pages on ``HOMEPAGE#R#n``."""
        entries: list[dict[str, Any]] = []
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": "PK"},
            "ExpressionAttributeValues": {":pk": homepage_pk(release)},
            "ConsistentRead": True,
        }
        while True:
            response = self._call(self.table.query, **kwargs)
            entries.extend(json.loads(i["entry"]) for i in response.get("Items", []))
            last = response.get("LastEvaluatedKey")
            if not last:
                return entries
            kwargs["ExclusiveStartKey"] = last

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
                self._sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
            else:
                keys = ", ".join(_request_key(r) for r in pending)
                raise StoreUnavailable(f"DynamoDB left items unwritten after retries: {keys}")
            if progress is not None:
                progress(len(chunk))

    # ------------------------------------------------------------ rotation

    def get_rotation(self, consistent: bool = False) -> dict[str, Any] | None:
        """``GetItem ROTATION/CURRENT``: the live rotation as a plain dict, or ``None``."""
        item = self._get({"PK": ROTATION_PK, "SK": CURRENT_SK}, consistent)
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
            "Item": {"PK": ROTATION_PK, "SK": CURRENT_SK, "rotation": number, "doc": _json(doc)},
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
                "doc": _json(doc),
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


def create_table(dynamodb: Any, table_name: str) -> Any:
    """Create the table (on-demand) with TTL, for the local stage and tests.

    Deployed stages get the same table from the packaged CloudFormation
    template. Returns the ``Table``. An existing table is reused.
    """
    client = dynamodb.meta.client
    try:
        client.create_table(
            TableName=table_name,
            KeySchema=KEY_SCHEMA,
            AttributeDefinitions=ATTRIBUTE_DEFINITIONS,
            BillingMode="PAY_PER_REQUEST",
        )
        client.get_waiter("table_exists").wait(TableName=table_name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 50})
        client.update_time_to_live(
            TableName=table_name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise
    return dynamodb.Table(table_name)
