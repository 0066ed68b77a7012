"""Any corpus described by a CSV manifest: ``path,label[,speaker]`` and more columns.

Paths are relative to the manifest's folder (or absolute). Without a ``speaker``
column every clip is its own speaker, so speaker-grouped evaluation stays honest
(no clip on both sides) but cannot group takes of one person.

Cells are stripped (``" happy "`` is ``happy``) and paths normalised
(``clips/./a.wav`` is ``clips/a.wav``, the same clip and, without a speaker column, the
same speaker). A file listed twice is kept once; listed with two labels (or two
speakers) it is dropped, both rows reported in ``skipped``.

Examples
--------
>>> import tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = (folder / "manifest.csv").write_text("path,label\\nmissing.wav,happy\\n")
>>> read(folder)
Traceback (most recent call last):
...
serkit.core.exceptions.CorpusError: ...manifest.csv: no manifest clips found (1 files skipped, e.g. missing.wav: file not found); ...
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from serkit.corpora.base import CorpusTable, no_clips_error
from serkit.core.exceptions import CorpusError

DEFAULT_NAME = "manifest.csv"


def read(source) -> CorpusTable:
    """Read a manifest CSV (or a folder holding ``manifest.csv``).

    Rows whose file is missing or whose label is empty are skipped with the reason.

    Raises
    ------
    CorpusError
        The CSV is missing, unreadable, lacks a ``path`` or ``label`` column, or no
        row names a usable clip.
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
    for column in ("path", "label", "speaker"):
        if column in frame.columns:
            frame[column] = frame[column].str.strip()
    # One spelling per file: "clips/./a.wav" and "clips/a.wav" are one clip and one speaker.
    frame["path"] = [Path(os.path.normpath(p)).as_posix() if p else p for p in frame["path"]]
    if "speaker" not in frame.columns:
        frame["speaker"] = frame["path"]
    keep, skipped = [], []
    for index, row in frame.iterrows():
        path = Path(row["path"])
        if not row["path"]:
            skipped.append((row["path"], f"row {index + 2}: empty path"))
        elif not row["label"]:
            skipped.append((row["path"], "empty label"))
        elif not (path if path.is_absolute() else root / path).is_file():
            skipped.append((row["path"], "file not found"))
        else:
            keep.append(index)
    table, duplicates = _drop_duplicates(frame.loc[keep], root)
    if table.empty:
        raise no_clips_error(csv_path, "manifest", "manifest", skipped + duplicates)
    table = table.sort_values("path", ignore_index=True)
    return CorpusTable(name="manifest", root=root, table=table, skipped=skipped + duplicates)


def _drop_duplicates(frame: pd.DataFrame, root: Path) -> tuple[pd.DataFrame, list[tuple[str, str]]]:
    """Rows naming one file once: a repeat with the same label and speaker is dropped;
    a file listed with different labels or speakers is dropped altogether (which row
    would be right cannot be told). Files are compared by their resolved location, so
    a relative and an absolute spelling of one file are one file."""
    location = pd.Series([os.path.realpath(p if os.path.isabs(p) else root / p) for p in frame["path"]], index=frame.index)
    skipped, drop = [], set()
    for _, rows in frame.groupby(location, sort=False):
        if len(rows) == 1:
            continue
        first = rows.iloc[0]["path"]
        if rows["label"].nunique() > 1 or rows["speaker"].nunique() > 1:
            what = ", ".join(sorted(set(rows["label"]))) if rows["label"].nunique() > 1 else "different speakers"
            skipped += [(p, f"listed {len(rows)} times with {what}: dropped") for p in rows["path"]]
            drop.update(rows.index)
        else:
            skipped += [(p, f"duplicate of {first}") for p in rows["path"].iloc[1:]]
            drop.update(rows.index[1:])
    return frame.drop(index=sorted(drop)), skipped
