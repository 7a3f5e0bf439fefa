"""The DynamoDB access layer: one table, one door.

- :mod:`~chalicelib.store.table`: :class:`~chalicelib.store.table.Table`, the only caller of boto3
  for the table (the retry policy, transaction actions), with its siblings
  :mod:`~chalicelib.store.failures` (error translation), :mod:`~chalicelib.store.calls` and
  :mod:`~chalicelib.store.cutoff` (the request's deadline), :mod:`~chalicelib.store.conditions`;
- :mod:`~chalicelib.store.keys`: every key builder with its parser, and the table of item types;
- :mod:`~chalicelib.store.items`: the entities, each with ``to_item``/``from_item``;
- :mod:`~chalicelib.store.releases`, :mod:`~chalicelib.store.rotations`, :mod:`~chalicelib.store.books`:
  the access patterns, one method per ``GetItem``, ``Query``, ``BatchGetItem`` or transaction.
"""
