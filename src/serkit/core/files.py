"""Files: checksums (the model directories' manifests, the bundled encoders' check) and
directories named by untrusted input.

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


def is_directory(path) -> bool:
    """Whether ``path`` names a directory here; False, not an error, for a name the
    system refuses (too long, a NUL byte): such names come from files and flags.

    >>> is_directory("x" * 5000)
    False
    """
    try:
        return Path(path).is_dir()
    except (OSError, ValueError):
        return False
