"""TESS, the Toronto Emotional Speech Set (Dupuis & Pichora-Fuller, 2010): two female speakers.

Each name is ``<speaker>_<word>_<emotion>.wav``: speaker ``OAF`` (older adult female,
aged 64) or ``YAF`` (younger adult female, aged 26), the target word of "Say the
word …", then the emotion. The release puts each speaker × emotion in a folder
``<speaker>_<emotion>/`` (``OAF_Fear/``, ``YAF_pleasant_surprised/``); a flat folder
works too. Case varies in the release (``OAF_Sad``, ``YAF_fear``) and does not matter.
When the folder is named ``<speaker>_<emotion>`` it must agree with the file name (a
clip filed under another emotion is skipped with the reason).

Emotions: ``angry``, ``disgust``, ``fear`` → fearful, ``happy``, ``neutral``, ``sad``,
``ps`` / ``pleasant_surprise`` / ``pleasant_surprised`` → surprised. TESS has no calm.

Examples
--------
>>> fields = parse_name("YAF_pleasant_surprised/YAF_back_ps.wav")
>>> fields["label"], fields["speaker"], fields["word"], fields["age"]
('surprised', 'tess:YAF', 'back', 26)
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from serkit.corpora.base import CorpusTable, code_field, read_named_files

EMOTION_CODES = {
    "angry": "angry", "disgust": "disgust", "fear": "fearful", "happy": "happy", "neutral": "neutral",
    "sad": "sad", "ps": "surprised", "pleasant_surprise": "surprised", "pleasant_surprised": "surprised",
}
"""TESS emotion word (lower case) → serkit emotion name."""

AGES = {"OAF": 64, "YAF": 26}
TITLE = "TESS"
LANGUAGE = "en"
SOURCE = "https://doi.org/10.5683/SP2/E8H2MF (University of Toronto Dataverse, Borealis)"
LAYOUT = "the unzipped release: OAF_angry/OAF_back_angry.wav … YAF_sad/YAF_youth_sad.wav (a flat folder works too)"

_NAME = re.compile(r"(OAF|YAF)_([^_]+)_(.+)", re.IGNORECASE)
_FOLDER = re.compile(r"(OAF|YAF)_(.+)", re.IGNORECASE)


def parse_name(name: str) -> dict:
    """Parse a TESS path: ``OAF_back_angry.wav``, optionally under ``OAF_angry/``.

    Returns
    -------
    dict
        ``label``, ``speaker`` (``"tess:OAF"``), ``gender`` (female), ``age``,
        ``emotion_code`` (as in the name), ``word``.

    Raises
    ------
    ValueError
        Not the pattern, an unknown emotion, or a ``<speaker>_<emotion>`` folder that
        names another speaker or emotion than the file.
    """
    path = PurePosixPath(name)
    match = _NAME.fullmatch(path.stem)
    if match is None:
        raise ValueError(f"expected OAF_<word>_<emotion> or YAF_<word>_<emotion>, got {path.stem!r}")
    speaker, word, emotion = match.group(1).upper(), match.group(2).lower(), match.group(3)
    label = code_field(emotion.lower(), EMOTION_CODES, "emotion")
    folder = _FOLDER.fullmatch(path.parent.name)
    if folder is not None:
        folder_label = EMOTION_CODES.get(folder.group(2).lower())
        if folder.group(1).upper() != speaker or folder_label not in (None, label):
            raise ValueError(f"its folder {path.parent.name!r} names another speaker or emotion than the file")
    return {
        "label": label,
        "speaker": f"tess:{speaker}",
        "gender": "female",
        "age": AGES[speaker],
        "emotion_code": emotion,
        "word": word,
    }


def read(root) -> CorpusTable:
    """Read a TESS folder (per-emotion folders or flat); unparsed files are skipped with the reason."""
    return read_named_files(root, corpus="tess", title=TITLE, language=LANGUAGE, parse=parse_name)
