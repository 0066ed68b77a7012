"""Any corpus described by a CSV manifest: ``path,label[,speaker]`` and more columns.

Paths are relative to the manifest's folder (or absolute). Without a ``speaker``
column every clip is its own speaker, so speaker-grouped evaluation stays honest
(no clip on both sides) but cannot group takes of one person.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "manifest.csv").write_text("path,label\\nmissing.wav,happy\\n")
>>> read(folder).skipped
[('missing.wav', 'file not found')]
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from serkit.corpora.base import CorpusTable
from serkit.exceptions import CorpusError

DEFAULT_NAME = "manifest.csv"


def read(source) -> CorpusTable:
    """Read a manifest CSV (or a folder holding ``manifest.csv``).

    Rows whose file is missing or whose label is empty are skipped with the reason.

    Raises
    ------
    CorpusError
        The CSV is missing, unreadable, or lacks a ``path`` or ``label`` column.
    """
    csv_path = Path(source)
    if csv_path.is_dir():
        csv_path = csv_path / DEFAULT_NAME
    if not csv_path.is_file():
        raise CorpusError(f"{csv_path}: manifest not found")
    try:
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise CorpusError(f"{csv_path}: not a readable CSV ({error})") from None
    missing = {"path", "label"} - set(frame.columns)
    if missing:
        raise CorpusError(f"{csv_path}: missing column(s) {', '.join(sorted(missing))}; need path,label[,speaker]")
    root = csv_path.parent
    if "speaker" not in frame.columns:
        frame["speaker"] = frame["path"]
    keep, skipped = [], []
    for index, row in frame.iterrows():
        path = Path(row["path"])
        if not row["label"].strip():
            skipped.append((row["path"], "empty label"))
        elif not (path if path.is_absolute() else root / path).is_file():
            skipped.append((row["path"], "file not found"))
        else:
            keep.append(index)
    table = frame.loc[keep].copy()
    table["path"] = [Path(p).as_posix() for p in table["path"]]
    table = table.sort_values("path", ignore_index=True)
    return CorpusTable(name="manifest", root=root, table=table, skipped=skipped)
