"""SAVEE, Surrey Audio-Visual Expressed Emotion (Haq & Jackson, 2009): four male speakers of British English.

The release keeps the audio in one folder per speaker, ``AudioData/DC/a01.wav``; the
common flat copies prefix the speaker instead, ``DC_a01.wav``. Both are read: the
speaker (``DC``, ``JE``, ``JK``, ``KL``) comes from the name, else from the folder.
The letters before the number are the emotion: ``a`` anger → angry, ``d`` disgust,
``f`` fear → fearful, ``h`` happiness → happy, ``n`` neutral, ``sa`` sadness → sad,
``su`` surprise → surprised. SAVEE has no calm.

Examples
--------
>>> parse_name("DC_su03.wav")["label"], parse_name("AudioData/KL/a01.wav")["speaker"]
('surprised', 'savee:KL')
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from serkit.corpora.base import CorpusTable, code_field, read_named_files

EMOTION_CODES = {"a": "angry", "d": "disgust", "f": "fearful", "h": "happy", "n": "neutral", "sa": "sad", "su": "surprised"}
"""SAVEE emotion letters → serkit emotion name."""

SPEAKERS = ("DC", "JE", "JK", "KL")
TITLE = "SAVEE"
LANGUAGE = "en"
SOURCE = "http://kahlan.eps.surrey.ac.uk/savee/ (free for research after registration)"
LAYOUT = "AudioData/DC/a01.wav … as released, or flat DC_a01.wav (the speaker prefixed)"

_STEM = re.compile(r"(?:([A-Za-z]{2})_)?([a-z]{1,2})(\d{2})")


def parse_name(name: str) -> dict:
    """Parse a SAVEE path: ``DC_a01.wav`` or ``DC/a01.wav``.

    Returns
    -------
    dict
        ``label``, ``speaker`` (``"savee:DC"``), ``gender`` (all male),
        ``emotion_code``, ``sentence`` (int).

    Raises
    ------
    ValueError
        Not the pattern, no speaker in the name or its folder, or an unknown code.
    """
    path = PurePosixPath(name)
    match = _STEM.fullmatch(path.stem)
    if match is None:
        raise ValueError(f"expected DC_a01 or DC/a01 (speaker, emotion letters, number), got {path.stem!r}")
    speaker, emotion, number = match.groups()
    speaker = (speaker or path.parent.name).upper()
    if speaker not in SPEAKERS:
        raise ValueError(f"speaker {speaker or path.parent.name!r} is not one of {', '.join(SPEAKERS)} (from DC_a01.wav or DC/a01.wav)")
    return {
        "label": code_field(emotion, EMOTION_CODES, "emotion"),
        "speaker": f"savee:{speaker}",
        "gender": "male",
        "emotion_code": emotion,
        "sentence": int(number),
    }


def read(root) -> CorpusTable:
    """Read a SAVEE folder (either layout); files whose names do not parse are skipped."""
    return read_named_files(root, corpus="savee", title=TITLE, language=LANGUAGE, parse=parse_name)
