"""File checksums, shared by the model directories' manifests and the bundled encoders' check.

>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "empty"
>>> _ = path.write_bytes(b"")
>>> sha256_file(path)[:16]
'e3b0c44298fc1c14'
"""

from __future__ import annotations

import hashlib
from pathlib import Path


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
