"""Files: checksums (the model directories' manifests), pinned files read once and checked
(the bundled encoders, the VAD, the emotion directions) and directories named by untrusted input.

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


def read_pinned(path: Path, sha256: str, *, max_bytes: int, pinned: str, reinstall: str) -> bytes:
    """The bytes of the pinned file ``path``, read once and checked against its SHA-256
    ``sha256``: the bytes returned are the bytes hashed, so nothing can change the file between
    the check and its use. A file larger than ``max_bytes`` cannot be the pinned one and is not read.

    Raises :class:`~serkit.core.exceptions.ArtifactError`, one line naming the file: missing,
    too large, or its SHA-256 differs from ``pinned``'s (e.g. ``"silero-vad==6.2.0's"``);
    each ends with ``reinstall`` (what to do).

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "pinned"
    >>> _ = path.write_bytes(b"")
    >>> read_pinned(path, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ...             max_bytes=16, pinned="the empty file's", reinstall="write it again")
    b''
    """
    from serkit.core.exceptions import ArtifactError

    path = Path(path)
    if not path.is_file():
        raise ArtifactError(f"{path}: missing; {reinstall}")
    size = path.stat().st_size
    if size > max_bytes:
        raise ArtifactError(f"{path}: {size} bytes is too large for {pinned} file (at most {max_bytes}); {reinstall}")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ArtifactError(f"{path}: SHA-256 differs from {pinned} (altered or another version); {reinstall}")
    return data


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
