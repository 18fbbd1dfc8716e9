"""Output files are written by ``k2d3.files.write_atomic`` (one place for every layer)."""
from k2d3.files import write_atomic

__all__ = ["write_atomic"]
