"""Data layer: schema, store, synthetic generator and loaders."""
