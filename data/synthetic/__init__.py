"""The synthetic generator: seeded, streaming, with the effects the demo is known for."""
