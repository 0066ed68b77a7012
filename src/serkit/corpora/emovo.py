"""EMOVO (Costantini et al., LREC 2014): Italian emotional speech, six actors.

A name like ``dis-f1-b1.wav`` reads emotion ``dis``, speaker ``f1`` (``f1``–``f3``
female, ``m1``–``m3`` male) and sentence ``b1`` (``b1``–``b3``, ``d1``–``d2``,
``l1``–``l4``, ``n1``–``n5``: 14 sentences). The release keeps each actor's clips in a
folder named after the speaker (``f1/dis-f1-b1.wav``); any layout works.

Emotion codes (Italian): ``dis`` disgusto → disgust, ``gio`` gioia → happy, ``neu``
neutrale → neutral, ``pau`` paura → fearful, ``rab`` rabbia → angry, ``sor``
sorpresa → surprised, ``tri`` tristezza → sad. EMOVO has no calm.

Examples
--------
>>> fields = parse_name("f1/dis-f1-b1.wav")
>>> fields["label"], fields["speaker"], fields["gender"], fields["sentence"]
('disgust', 'emovo:f1', 'female', 'b1')
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from serkit.corpora.base import CorpusTable, code_field, read_named_files

EMOTION_CODES = {"dis": "disgust", "gio": "happy", "neu": "neutral", "pau": "fearful", "rab": "angry", "sor": "surprised", "tri": "sad"}
"""EMOVO emotion code → serkit emotion name."""

GENDERS = {"f": "female", "m": "male"}
TITLE = "EMOVO"
LANGUAGE = "it"
SOURCE = ("its authors (Fondazione Ugo Bordoni; Costantini, Iaderola, Paoloni & Todisco, "
          "\"EMOVO Corpus: an Italian Emotional Speech Database\", LREC 2014)")
LAYOUT = "one folder per actor as released: f1/dis-f1-b1.wav … m3/tri-m3-n5.wav (any layout works)"

_NAME = re.compile(r"([a-z]{3})-([fm][1-3])-([bdln]\d)", re.IGNORECASE)


def parse_name(name: str) -> dict:
    """Parse an EMOVO file name (folder and extension ignored; case-insensitive).

    Returns
    -------
    dict
        ``label``, ``speaker`` (``"emovo:f1"``), ``gender``, ``emotion_code``, ``sentence``.

    Raises
    ------
    ValueError
        Not the pattern ``dis-f1-b1``, or an unknown emotion code.
    """
    stem = PurePosixPath(name).stem
    match = _NAME.fullmatch(stem)
    if match is None:
        raise ValueError(f"expected emotion-speaker-sentence like dis-f1-b1 (speakers f1–f3, m1–m3), got {stem!r}")
    emotion, speaker, sentence = (part.lower() for part in match.groups())
    return {
        "label": code_field(emotion, EMOTION_CODES, "emotion"),
        "speaker": f"emovo:{speaker}",
        "gender": GENDERS[speaker[0]],
        "emotion_code": emotion,
        "sentence": sentence,
    }


def read(root) -> CorpusTable:
    """Read an EMOVO folder; files whose names do not parse are skipped with the reason."""
    return read_named_files(root, corpus="emovo", title=TITLE, language=LANGUAGE, parse=parse_name)
