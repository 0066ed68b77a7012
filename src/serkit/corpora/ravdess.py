"""RAVDESS (Livingstone & Russo, 2018): filenames carry every label.

A name like ``03-01-05-01-02-01-12.wav`` reads modality ``03`` (audio-only), vocal
channel ``01`` (speech), emotion ``05`` (angry), intensity ``01`` (normal), statement
``02`` ("Dogs are sitting by the door"), repetition ``01``, actor ``12`` (even:
female). The official zip's ``Actor_XX/`` folders and a flat folder both work, with
any audio extension. Speakers keep RAVDESS's own ids, ``Actor_XX`` (the other readers'
``<corpus>:<id>`` never collide with them); every emotion of serkit is RAVDESS's.

Examples
--------
>>> parse_name("03-01-05-02-01-02-12.flac")["label"]
'angry'
>>> parse_name("03-01-05-02-01-02-12.flac")["gender"]
'female'
"""

from __future__ import annotations

from pathlib import Path

from serkit.corpora.base import CorpusTable, SkipClip, code_field, read_named_files
from serkit.core.exceptions import ParameterError
from serkit.core.labels import RAVDESS_EMOTION_CODES

EMOTION_CODES = RAVDESS_EMOTION_CODES
"""RAVDESS emotion field → serkit emotion name (serkit's eight are RAVDESS's)."""

MODALITIES = {"01": "audio-video", "02": "video-only", "03": "audio-only"}
VOCAL_CHANNELS = {"01": "speech", "02": "song"}
INTENSITIES = {"01": "normal", "02": "strong"}
STATEMENTS = {"01": "Kids are talking by the door", "02": "Dogs are sitting by the door"}
CHANNEL_CHOICES = ("speech", "song", "all")

ZENODO_RECORD = "https://zenodo.org/records/1188976"
LICENSE = "CC BY-NC-SA 4.0"
SOURCE = f"{ZENODO_RECORD} ({LICENSE}; serkit download ravdess fetches and checks it)"
LAYOUT = "Actor_01/03-01-01-01-01-01-01.wav … as in the official zip, or every clip in one folder"
TITLE = "RAVDESS"
LANGUAGE = "en"


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
        "label": code_field(emotion, EMOTION_CODES, "emotion"),
        "speaker": f"Actor_{actor}",
        "actor": actor_number,
        "gender": "male" if actor_number % 2 else "female",
        "modality": code_field(modality, MODALITIES, "modality"),
        "vocal_channel": code_field(channel, VOCAL_CHANNELS, "vocal channel"),
        "emotion_code": emotion,
        "intensity": code_field(intensity, INTENSITIES, "intensity"),
        "statement": code_field(statement, STATEMENTS, "statement"),
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

    def parse_kept(relative: str) -> dict:
        fields = parse_name(relative)
        if channel != "all" and fields["vocal_channel"] != channel:
            raise SkipClip(f"{fields['vocal_channel']}, not {channel}")
        return fields

    return read_named_files(
        root, corpus="ravdess", title=TITLE, language=LANGUAGE, parse=parse_kept,
        description=f"RAVDESS {channel}",
    )
