"""What every corpus reader returns, and the audio files it looks at."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

AUDIO_EXTENSIONS = frozenset(
    {".wav", ".wave", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".aifc", ".au", ".snd", ".caf", ".w64", ".rf64"}
)
"""File endings treated as audio when walking a corpus (formats libsndfile reads)."""

REQUIRED_COLUMNS = ("path", "label", "speaker")


@dataclass
class CorpusTable:
    """A corpus read from disk.

    Attributes
    ----------
    name : str
        The corpus reader's name (``"ravdess"``, ``"manifest"``).
    root : Path
        Folder that every ``path`` is relative to.
    table : pandas.DataFrame
        One row per clip: ``path`` (POSIX, relative to ``root``), ``label``,
        ``speaker`` and the corpus's own metadata columns; sorted by ``path``.
    skipped : list of (str, str)
        ``(path, reason)`` for every file that was not used.
    """

    name: str
    root: Path
    table: pd.DataFrame
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def absolute_paths(self) -> list[Path]:
        """``root / path`` for every row, in table order."""
        return [self.root / p for p in self.table["path"]]

    def summary(self) -> dict:
        """Clip, speaker and label counts, JSON-safe."""
        return {
            "name": self.name,
            "root": str(self.root),
            "n_clips": int(len(self.table)),
            "n_speakers": int(self.table["speaker"].nunique()),
            "label_counts": {str(k): int(v) for k, v in self.table["label"].value_counts().sort_index().items()},
            "n_skipped": len(self.skipped),
        }


def walk_audio(root: Path) -> list[Path]:
    """Every audio file under ``root`` (by extension), sorted, hidden files excluded.

    Symbolic links to folders are followed (a corpus assembled from links is common),
    each real folder once, so a link cycle cannot loop.
    """
    found, seen = [], set()
    for folder, subfolders, files in os.walk(root, followlinks=True):
        seen.add(os.path.realpath(folder))
        subfolders[:] = sorted(d for d in subfolders if os.path.realpath(os.path.join(folder, d)) not in seen)
        found += [
            Path(folder) / name
            for name in files
            if not name.startswith(".") and Path(name).suffix.lower() in AUDIO_EXTENSIONS
        ]
    return sorted(found)
