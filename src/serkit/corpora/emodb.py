"""EmoDB, the Berlin Database of Emotional Speech (Burkhardt et al., 2005): German.

A name like ``03a01Fa.wav`` reads speaker ``03``, text ``a01``, emotion letter ``F``
(Freude: happiness) and version ``a`` (a second take is ``b``, …). The official
download keeps the 535 clips in ``wav/``; any folder layout works.

Emotion letters (German initials): ``W`` Wut/Ärger → angry, ``L`` Langeweile →
**bored**, ``E`` Ekel → disgust, ``A`` Angst → fearful, ``F`` Freude → happy, ``T``
Trauer → sad, ``N`` neutral. EmoDB has no calm and no surprised; its boredom has no
counterpart in serkit's eight emotions and is kept as the extra label ``bored``
(drop it, or leave it out of the shared emotions as cross-corpus evaluation does).

Ten actors, speakers ``emodb:03`` … ``emodb:16``, gender and age from the
corpus's documentation.

Examples
--------
>>> fields = parse_name("wav/03a01Fa.wav")
>>> fields["label"], fields["speaker"], fields["gender"], fields["text"], fields["version"]
('happy', 'emodb:03', 'male', 'a01', 'a')
>>> parse_name("16b10Lb.wav")["label"]
'bored'
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from serkit.corpora.base import CorpusTable, code_field, read_named_files

EMOTION_CODES = {"W": "angry", "L": "bored", "E": "disgust", "A": "fearful", "F": "happy", "T": "sad", "N": "neutral"}
"""EmoDB emotion letter → serkit emotion name."""

SPEAKERS = {
    "03": ("male", 31), "08": ("female", 34), "09": ("female", 21), "10": ("male", 32), "11": ("male", 26),
    "12": ("male", 30), "13": ("female", 32), "14": ("female", 35), "15": ("male", 25), "16": ("female", 31),
}
"""Speaker number → (gender, age at recording), from EmoDB's documentation."""

TITLE = "EmoDB"
LANGUAGE = "de"
SOURCE = "http://emodb.bilderbar.info/ (download.zip; free for research)"
LAYOUT = "the unzipped download: wav/03a01Fa.wav … (any folder layout works; names as released)"

_NAME = re.compile(r"(\d{2})([a-z]\d{2})([A-Z])([a-z])")


def parse_name(name: str) -> dict:
    """Parse an EmoDB file name (folder and extension ignored).

    Returns
    -------
    dict
        ``label``, ``speaker`` (``"emodb:03"``), ``gender``, ``age``, ``emotion_code``,
        ``text`` (``"a01"``), ``version`` (``"a"``).

    Raises
    ------
    ValueError
        Not the pattern ``03a01Fa``, an unknown speaker or emotion letter.
    """
    stem = PurePosixPath(name).stem
    match = _NAME.fullmatch(stem)
    if match is None:
        raise ValueError(f"expected speaker, text, emotion letter and version like 03a01Fa, got {stem!r}")
    speaker, text, emotion, version = match.groups()
    gender, age = code_field(speaker, SPEAKERS, "speaker")
    return {
        "label": code_field(emotion, EMOTION_CODES, "emotion"),
        "speaker": f"emodb:{speaker}",
        "gender": gender,
        "age": age,
        "emotion_code": emotion,
        "text": text,
        "version": version,
    }


def read(root) -> CorpusTable:
    """Read an EmoDB folder; files whose names do not parse are skipped with the reason."""
    return read_named_files(root, corpus="emodb", title=TITLE, language=LANGUAGE, parse=parse_name)
