"""RAVDESS (Livingstone & Russo, 2018): filenames carry every label.

A name like ``03-01-05-01-02-01-12.wav`` reads modality ``03`` (audio-only), vocal
channel ``01`` (speech), emotion ``05`` (angry), intensity ``01`` (normal), statement
``02`` ("Dogs are sitting by the door"), repetition ``01``, actor ``12`` (even:
female). The official zip's ``Actor_XX/`` folders and a flat folder both work, with
any audio extension.

Examples
--------
>>> parse_name("03-01-05-02-01-02-12.flac")["label"]
'angry'
>>> parse_name("03-01-05-02-01-02-12.flac")["gender"]
'female'
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from serkit.corpora.base import CorpusTable, walk_audio
from serkit.exceptions import CorpusError, ParameterError
from serkit.labels import RAVDESS_EMOTION_CODES

MODALITIES = {"01": "audio-video", "02": "video-only", "03": "audio-only"}
VOCAL_CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
CHANNEL_CHOICES = ("speech", "song", "all")

ZENODO_RECORD = "https://zenodo.org/records/1188976"
LICENSE = "CC BY-NC-SA 4.0"


def _field(value: str, table: dict, what: str) -> str:
    if value not in table:
        raise ValueError(f"{what} code {value!r} is not one of {', '.join(sorted(table))}")
    return table[value]


def parse_name(name: str) -> dict:
    """Parse a RAVDESS file name (with or without folder and extension).

    Returns
    -------
    dict
        ``label`` (emotion name), ``speaker`` (``"Actor_XX"``), ``actor`` (int),
        ``gender``, ``modality``, ``vocal_channel``, ``emotion_code``, ``intensity``,
        ``statement``, ``repetition``.

    Raises
    ------
    ValueError
        The name does not follow the 7-field pattern; the message says which field.
    """
    stem = Path(name).stem
    parts = stem.split("-")
    if len(parts) != 7 or not all(len(p) == 2 and p.isdigit() for p in parts):
        raise ValueError(f"expected 7 two-digit fields like 03-01-05-01-02-01-12, got {stem!r}")
    modality, channel, emotion, intensity, statement, repetition, actor = parts
    if emotion == "01" and intensity == "02":
        raise ValueError("neutral has no strong intensity in RAVDESS")
    if repetition not in ("01", "02"):
        raise ValueError(f"repetition code {repetition!r} is not 01 or 02")
    actor_number = int(actor)
    if not 1 <= actor_number <= 24:
        raise ValueError(f"actor {actor!r} is outside 01–24")
    return {
        "label": _field(emotion, RAVDESS_EMOTION_CODES, "emotion"),
        "speaker": f"Actor_{actor}",
        "actor": actor_number,
        "gender": "male" if actor_number % 2 else "female",
        "modality": _field(modality, MODALITIES, "modality"),
        "vocal_channel": _field(channel, VOCAL_CHANNELS, "vocal channel"),
        "emotion_code": emotion,
        "intensity": _field(intensity, INTENSITIES, "intensity"),
        "statement": _field(statement, STATEMENTS, "statement"),
        "repetition": int(repetition),
    }


def read(root, *, channel: str = "speech") -> CorpusTable:
    """Read a RAVDESS folder into a corpus table.

    Parameters
    ----------
    root : str or Path
        The unzipped corpus: ``Actor_XX/`` folders, or all files in one folder.
    channel : {"speech", "song", "all"}
        Keep speech and song apart: clips of the other channel are skipped (listed
        with the reason) unless ``"all"``.

    Raises
    ------
    CorpusError
        ``root`` is missing, or holds no usable RAVDESS clip.
    """
    if channel not in CHANNEL_CHOICES:
        raise ParameterError(f"channel={channel!r} must be one of {', '.join(CHANNEL_CHOICES)}")
    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"{root}: not a folder")
    rows, skipped = [], []
    for path in walk_audio(root):
        relative = path.relative_to(root).as_posix()
        try:
            fields = parse_name(path.name)
        except ValueError as error:
            skipped.append((relative, f"not a RAVDESS name: {error}"))
            continue
        if channel != "all" and fields["vocal_channel"] != channel:
            skipped.append((relative, f"{fields['vocal_channel']}, not {channel}"))
            continue
        rows.append({"path": relative, **fields})
    if not rows:
        raise CorpusError(f"{root}: no RAVDESS {channel} clips found ({len(skipped)} files skipped)")
    table = pd.DataFrame(rows).sort_values("path", ignore_index=True)
    return CorpusTable(name="ravdess", root=root, table=table, skipped=skipped)
