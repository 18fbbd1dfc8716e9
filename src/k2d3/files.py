"""Writing output files whole or not at all: write beside, then rename into place.

A reader (or a resumed run) never sees half a file: a killed process leaves at most a
hidden temporary beside the target. Files get the usual permissions (0644 under umask
022), not the 0600 of a bare temporary file.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def write_atomic(path: Path, data: bytes | str | Callable[[Path], None]) -> None:
    """Write ``data`` (bytes, text, or a function that writes the file it is given) to
    ``path`` through a temporary in the same directory."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            if not callable(data):
                f.write(data.encode() if isinstance(data, str) else data)
        if callable(data):
            data(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
