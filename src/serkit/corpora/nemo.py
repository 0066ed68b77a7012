"""nEMO (Christop, LREC-COLING 2024): Polish acted emotional speech, nine actors, six emotions.

The release is a folder with ``data.tsv`` (tab-separated, UTF-8, one row per clip:
``file_id, emotion, raw_text, normalized_text, speaker_id, gender, age``) and
``samples/{speaker}_{emotion}_{sentence}.wav`` (``samples/EB0_anger_1.wav``). The
table is the truth: speaker, gender, age and transcript come from it. A clip is found
by its ``file_id`` under ``samples/`` (or the folder itself), or by the same name with
another audio extension (a copy converted to FLAC keeps the original ``data.tsv``).
A row whose file is missing, whose emotion is unknown, or whose speaker or emotion
disagrees with its file name is skipped with the reason; so is an audio file the
table does not list.

Emotions: ``anger`` → angry, ``fear`` → fearful, ``happiness`` → happy, ``neutral``,
``sadness`` → sad, ``surprised``. nEMO has no calm and no disgust.

Examples
--------
>>> fields = parse_name("samples/EB0_anger_12.flac")
>>> fields["label"], fields["speaker"], fields["sentence"]
('angry', 'nemo:EB0', 12)
"""

from __future__ import annotations

import csv
import re
from pathlib import Path, PurePosixPath

from serkit.corpora.base import TABLE_COLUMNS, CorpusTable, code_field, no_clips_error, reader_hint, walk_audio
from serkit.core.exceptions import CorpusError

EMOTION_CODES = {"anger": "angry", "fear": "fearful", "happiness": "happy", "neutral": "neutral", "sadness": "sad", "surprised": "surprised"}
"""nEMO emotion word → serkit emotion name."""

TABLE_FILE = "data.tsv"
TSV_COLUMNS = ("file_id", "emotion", "raw_text", "normalized_text", "speaker_id", "gender", "age")
REQUIRED_TSV_COLUMNS = ("file_id", "emotion", "speaker_id", "gender")
AUDIO_FOLDER = "samples"
TITLE = "nEMO"
LANGUAGE = "pl"
SOURCE = "https://huggingface.co/datasets/amu-cai/nEMO (CC BY-NC-SA 4.0)"
LAYOUT = "data.tsv beside samples/ holding {speaker}_{emotion}_{sentence}.wav (e.g. samples/EB0_anger_1.wav)"

_NAME = re.compile(r"([A-Za-z0-9]+)_([a-z]+)_(\d+)")


def parse_name(name: str) -> dict:
    """Parse an nEMO file name ``{speaker}_{emotion}_{sentence}`` (folder and extension ignored).

    Returns
    -------
    dict
        ``label``, ``speaker`` (``"nemo:EB0"``), ``emotion_code``, ``sentence`` (int).

    Raises
    ------
    ValueError
        Not the pattern ``EB0_anger_1``, or an unknown emotion.
    """
    stem = PurePosixPath(name).stem
    match = _NAME.fullmatch(stem)
    if match is None:
        raise ValueError(f"expected speaker_emotion_sentence like EB0_anger_1, got {stem!r}")
    speaker, emotion, sentence = match.groups()
    return {
        "label": code_field(emotion, EMOTION_CODES, "emotion"),
        "speaker": f"nemo:{speaker}",
        "emotion_code": emotion,
        "sentence": int(sentence),
    }


def _read_tsv(tsv_path: Path):
    import pandas as pd

    try:
        frame = pd.read_csv(tsv_path, sep="\t", dtype=str, keep_default_na=False, quoting=csv.QUOTE_NONE)
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as error:
        raise CorpusError(f"{tsv_path}: not a readable tab-separated table ({error})".replace("\n", " ")) from None
    frame.columns = [str(column).strip() for column in frame.columns]
    missing = [column for column in REQUIRED_TSV_COLUMNS if column not in frame.columns]
    if missing:
        raise CorpusError(f"{tsv_path}: missing column(s) {', '.join(missing)}; nEMO's data.tsv has {', '.join(TSV_COLUMNS)}")
    return frame


def _row(record: dict, relative: str) -> dict:
    """One table row from a ``data.tsv`` record and its file; ``ValueError`` says why not."""
    emotion, speaker = record["emotion"].strip(), record["speaker_id"].strip()
    fields = {"label": code_field(emotion, EMOTION_CODES, "emotion"), "speaker": f"nemo:{speaker}"}
    try:
        named = parse_name(relative)
    except ValueError:
        named = None  # a renamed file: data.tsv alone labels it
    if named is not None and (named["speaker"], named["label"]) != (fields["speaker"], fields["label"]):
        raise ValueError(f"data.tsv says {speaker} {emotion}, the file name says {named['speaker'][5:]} {named['emotion_code']}")
    age = record.get("age", "").strip()
    return {
        "path": relative,
        **fields,
        "gender": record["gender"].strip().lower() or None,
        "language": LANGUAGE,
        "corpus": "nemo",
        "emotion_code": emotion,
        "sentence": None if named is None else named["sentence"],
        "age": int(age) if age.isdigit() else None,
        "text": record.get("raw_text", "").strip(),
        "normalized_text": record.get("normalized_text", "").strip(),
    }


def read(root) -> CorpusTable:
    """Read an nEMO folder (``data.tsv`` + ``samples/``).

    Raises
    ------
    CorpusError
        ``root`` is not a folder, ``data.tsv`` is missing, unreadable or lacks a column
        the reader needs, or no row names a usable clip.
    """
    import pandas as pd

    root = Path(root)
    if not root.is_dir():
        raise CorpusError(f"{root}: not a folder")
    tsv_path = root / TABLE_FILE
    on_disk = [path.relative_to(root).as_posix() for path in walk_audio(root)]
    if not tsv_path.is_file():
        raise CorpusError(f"{tsv_path}: not found; an nEMO folder holds {LAYOUT}; {reader_hint(on_disk, tried='nemo')}")
    frame = _read_tsv(tsv_path)
    by_name = {PurePosixPath(p).name: p for p in sorted(on_disk, key=lambda p: (p.startswith(f"{AUDIO_FOLDER}/"), p))}
    by_stem = {PurePosixPath(p).stem: p for p in reversed(list(by_name.values()))}
    rows, skipped, listed = [], [], set()
    for record in frame.to_dict("records"):
        file_id = record["file_id"].strip()
        relative = by_name.get(PurePosixPath(file_id).name) or by_stem.get(PurePosixPath(file_id).stem)
        if relative is None:
            skipped.append((f"{AUDIO_FOLDER}/{file_id}", f"listed in {TABLE_FILE}, file not found"))
            continue
        if relative in listed:
            skipped.append((relative, f"listed twice in {TABLE_FILE}"))
            continue
        listed.add(relative)
        try:
            rows.append(_row(record, relative))
        except ValueError as error:
            skipped.append((relative, f"{TABLE_FILE}: {error}"))
    skipped += [(p, f"not listed in {TABLE_FILE}") for p in on_disk if p not in listed]
    if not rows:
        raise no_clips_error(root, "nemo", TITLE, skipped)
    table = pd.DataFrame(rows)
    table = table[[*TABLE_COLUMNS, *(c for c in table.columns if c not in TABLE_COLUMNS)]]
    return CorpusTable(name="nemo", root=root, table=table.sort_values("path", ignore_index=True), skipped=skipped)
