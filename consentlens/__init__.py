"""ConsentLens: privacy-aware marketing analytics."""

__version__ = "0.1.0"
