"""Metrics layer: pure functions over the canonical tables, with suppression."""
