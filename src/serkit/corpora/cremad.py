"""CREMA-D (Cao et al., 2014): 91 actors of American English, six emotions.

A name like ``1001_DFA_ANG_XX.wav`` reads actor ``1001`` (1001–1091), sentence ``DFA``
("Don't forget a jacket"; 12 sentences), emotion ``ANG`` and intensity ``XX``. The
release keeps the 7442 clips in ``AudioWAV/``; any layout works.

Emotions: ``ANG`` → angry, ``DIS`` → disgust, ``FEA`` → fearful, ``HAP`` → happy,
``NEU`` → neutral, ``SAD`` → sad; CREMA-D has no calm and no surprised. Intensity:
``LO`` low, ``MD`` medium, ``HI`` high, ``XX`` unspecified.

Gender and age are not in the names: when the release's ``VideoDemographics.csv``
(``ActorID,Age,Sex,…``) lies in the corpus folder they are read from it, else they
are left empty.

Examples
--------
>>> fields = parse_name("AudioWAV/1001_DFA_ANG_XX.wav")
>>> fields["label"], fields["speaker"], fields["intensity"], fields["statement"]
('angry', 'cremad:1001', 'unspecified', "Don't forget a jacket")
"""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath

from serkit.corpora.base import CorpusTable, code_field, read_named_files

EMOTION_CODES = {"ANG": "angry", "DIS": "disgust", "FEA": "fearful", "HAP": "happy", "NEU": "neutral", "SAD": "sad"}
"""CREMA-D emotion code → serkit emotion name."""

INTENSITIES = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}
SENTENCES = {
    "IEO": "It's eleven o'clock", "TIE": "That is exactly what happened", "IOM": "I'm on my way to the meeting",
    "IWW": "I wonder what this is about", "TAI": "The airplane is almost full", "MTI": "Maybe tomorrow it will be cold",
    "IWL": "I would like a new alarm clock", "ITH": "I think I have a doctor's appointment",
    "DFA": "Don't forget a jacket", "ITS": "I think I've seen this before", "TSI": "The surface is slick",
    "WSI": "We'll stop in a couple of minutes",
}
DEMOGRAPHICS_FILE = "VideoDemographics.csv"
TITLE = "CREMA-D"
LANGUAGE = "en"
SOURCE = "https://github.com/CheyneyComputerScience/CREMA-D (Open Database License; audio via Git LFS)"
LAYOUT = "the repository's AudioWAV/1001_DFA_ANG_XX.wav …, with VideoDemographics.csv beside AudioWAV/ for gender and age"

_NAME = re.compile(r"(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})")


def parse_name(name: str) -> dict:
    """Parse a CREMA-D file name (folder and extension ignored).

    Returns
    -------
    dict
        ``label``, ``speaker`` (``"cremad:1001"``), ``gender`` (None: not in the name),
        ``emotion_code``, ``intensity``, ``sentence_code``, ``statement``.

    Raises
    ------
    ValueError
        Not the pattern ``1001_DFA_ANG_XX``, an actor outside 1001–1091, or an unknown code.
    """
    stem = PurePosixPath(name).stem
    match = _NAME.fullmatch(stem)
    if match is None:
        raise ValueError(f"expected actor_sentence_emotion_intensity like 1001_DFA_ANG_XX, got {stem!r}")
    actor, sentence, emotion, intensity = match.groups()
    if not 1001 <= int(actor) <= 1091:
        raise ValueError(f"actor {actor!r} is outside 1001–1091")
    return {
        "label": code_field(emotion, EMOTION_CODES, "emotion"),
        "speaker": f"cremad:{actor}",
        "gender": None,
        "emotion_code": emotion,
        "intensity": code_field(intensity, INTENSITIES, "intensity"),
        "sentence_code": sentence,
        "statement": code_field(sentence, SENTENCES, "sentence"),
    }


def _demographics(root: Path) -> dict:
    """``cremad:<ActorID>`` → (gender, age) from ``VideoDemographics.csv``, if present and readable."""
    import pandas as pd

    csv_path = root / DEMOGRAPHICS_FILE
    if not csv_path.is_file():
        return {}
    try:
        frame = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError):
        return {}
    if not {"ActorID", "Sex"} <= set(frame.columns):
        return {}
    ages = frame["Age"] if "Age" in frame else [""] * len(frame)
    return {
        f"cremad:{actor.strip()}": (sex.strip().lower() or None, int(age) if age.strip().isdigit() else None)
        for actor, sex, age in zip(frame["ActorID"], frame["Sex"], ages)
    }


def read(root) -> CorpusTable:
    """Read a CREMA-D folder; gender and age from ``VideoDemographics.csv`` when present."""
    corpus = read_named_files(root, corpus="cremad", title=TITLE, language=LANGUAGE, parse=parse_name)
    people = _demographics(Path(root))
    corpus.table["gender"] = [people.get(s, (None, None))[0] for s in corpus.table["speaker"]]
    corpus.table["age"] = [people.get(s, (None, None))[1] for s in corpus.table["speaker"]]
    return corpus
