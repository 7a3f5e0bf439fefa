"""The DynamoDB access layer: one table, one door.

- :mod:`~chalicelib.store.table`: :class:`~chalicelib.store.table.Table`, the only caller of boto3
  for the table (error translation, the retry policy, conditions and transaction actions);
- :mod:`~chalicelib.store.keys`: every key builder with its parser, and the table of item types;
- :mod:`~chalicelib.store.items`: the entities, each with ``to_item``/``from_item``;
- :mod:`~chalicelib.store.releases`, :mod:`~chalicelib.store.rotations`, :mod:`~chalicelib.store.books`:
  the access patterns, one method per ``GetItem``, ``Query``, ``BatchGetItem`` or transaction.
"""
