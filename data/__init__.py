"""The data layer, in four groups that import one way only (rights -> intake -> synthetic ->
storage; tests/test_layers.py holds it):

- `data.storage`: the store and what lies beside it: the schema, the store file, its key and
  audit log, locking and the readers' snapshots, the history of writes, the fact tables, the
  engines every reader goes through (DuckDB, Spark) and the Parquet export.
- `data.synthetic`: the synthetic generator (`consentlens demo`).
- `data.intake`: the way in: readers of extract formats, header mapping, the known exports of
  marketing tools, the import front-end, the checks and the one write transaction, templates.
- `data.rights`: what a person may ask of us: erasure and its verification, and the policy a
  transparency report states.
"""
