"""The store and what lies beside it: schema, store file, key, audit log, locking,
snapshots, history of writes, fact tables, engines and the Parquet export."""
