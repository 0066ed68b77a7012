"""Corpus readers: RAVDESS names, layouts, song/speech, manifests."""

import numpy as np
import pytest
import soundfile as sf

from serkit.corpora import read_corpus
from serkit.corpora.ravdess import parse_name
from serkit.core.exceptions import CorpusError, ParameterError


def test_parse_every_field():
    fields = parse_name("Actor_12/03-01-05-02-02-01-12.wav")
    assert fields == {
        "label": "angry",
        "speaker": "Actor_12",
        "actor": 12,
        "gender": "female",
        "modality": "audio-only",
        "vocal_channel": "speech",
        "emotion_code": "05",
        "intensity": "strong",
        "statement": "Dogs are sitting by the door",
        "repetition": 1,
    }
    assert parse_name("02-02-08-01-01-02-01.mp3")["gender"] == "male"


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("03-01-05-01-02-01.wav", "7 two-digit fields"),
        ("03-01-09-01-02-01-01.wav", "emotion code '09'"),
        ("03-01-01-02-01-01-01.wav", "neutral has no strong"),
        ("03-03-05-01-02-01-01.wav", "vocal channel"),
        ("03-01-05-01-02-01-25.wav", "outside 01–24"),
        ("notes.wav", "7 two-digit fields"),
    ],
)
def test_bad_names(name, reason):
    with pytest.raises(ValueError, match=reason):
        parse_name(name)


def _touch_audio(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, np.zeros(100, dtype=np.float32), 8000)


def test_flat_and_nested_layouts_song_and_bad_names(tmp_path):
    for name in ("Actor_01/03-01-03-01-01-01-01.wav", "03-01-04-01-01-01-02.flac", "Actor_01/03-02-03-01-01-01-01.wav", "Actor_01/readme.wav"):
        _touch_audio(tmp_path / name)
    (tmp_path / "Actor_01" / "notes.txt").write_text("not audio")
    corpus = read_corpus("ravdess", tmp_path)
    assert list(corpus.table["path"]) == ["03-01-04-01-01-01-02.flac", "Actor_01/03-01-03-01-01-01-01.wav"]
    assert list(corpus.table["label"]) == ["sad", "happy"]
    reasons = dict(corpus.skipped)
    assert reasons["Actor_01/03-02-03-01-01-01-01.wav"] == "song, not speech"
    assert reasons["Actor_01/readme.wav"].startswith("not a RAVDESS name")
    song = read_corpus("ravdess", tmp_path, channel="song")
    assert list(song.table["vocal_channel"]) == ["song"]
    assert len(read_corpus("ravdess", tmp_path, channel="all").table) == 3


def test_ravdess_errors(tmp_path):
    with pytest.raises(CorpusError, match="not a folder"):
        read_corpus("ravdess", tmp_path / "missing")
    with pytest.raises(CorpusError, match="no RAVDESS speech clips"):
        read_corpus("ravdess", tmp_path)
    with pytest.raises(ParameterError, match="unknown corpus 'timit'"):
        read_corpus("timit", tmp_path)


def test_shared_ravdess_table(ravdess_root):
    corpus = read_corpus("ravdess", ravdess_root)
    table = corpus.table
    assert len(table) == 1200 and table["speaker"].nunique() == 20 and not corpus.skipped
    counts = table["label"].value_counts()
    assert counts["neutral"] == 80 and (counts.drop("neutral") == 160).all()
    assert table["path"].iloc[0] == "Actor_01/03-01-01-01-01-01-01.flac"
    assert set(table.groupby("speaker")["gender"].nunique()) == {1}


def test_manifest(tmp_path):
    _touch_audio(tmp_path / "a" / "one.wav")
    _touch_audio(tmp_path / "two.ogg")
    (tmp_path / "list.csv").write_text("path,label,speaker\na/one.wav,happy,s1\ntwo.ogg,sad,s2\ngone.wav,sad,s3\nmissing_label.wav,,s4\n")
    corpus = read_corpus("manifest", tmp_path / "list.csv")
    assert list(corpus.table["path"]) == ["a/one.wav", "two.ogg"]
    assert list(corpus.table["speaker"]) == ["s1", "s2"]
    assert dict(corpus.skipped) == {"gone.wav": "file not found", "missing_label.wav": "empty label"}


def test_manifest_without_speaker_uses_one_speaker_per_clip(tmp_path):
    _touch_audio(tmp_path / "x.wav")
    (tmp_path / "manifest.csv").write_text("path,label\nx.wav,calm\n")
    assert list(read_corpus("manifest", tmp_path).table["speaker"]) == ["x.wav"]


def test_manifest_errors(tmp_path):
    with pytest.raises(CorpusError, match="manifest not found"):
        read_corpus("manifest", tmp_path)
    (tmp_path / "manifest.csv").write_text("file,emotion\nx.wav,calm\n")
    with pytest.raises(CorpusError, match=r"missing column\(s\) label, path"):
        read_corpus("manifest", tmp_path)


def test_linked_folders_are_followed_once(tmp_path):
    _touch_audio(tmp_path / "store" / "03-01-03-01-01-01-01.wav")
    corpus_root = tmp_path / "corpus"
    corpus_root.mkdir()
    (corpus_root / "Actor_01").symlink_to(tmp_path / "store", target_is_directory=True)
    (tmp_path / "store" / "loop").symlink_to(corpus_root, target_is_directory=True)
    corpus = read_corpus("ravdess", corpus_root)
    assert list(corpus.table["path"]) == ["Actor_01/03-01-03-01-01-01-01.wav"]


def test_linked_sibling_folder_is_listed_once(tmp_path):
    _touch_audio(tmp_path / "Actor_01" / "03-01-03-01-01-01-01.wav")
    (tmp_path / "Actor_01_link").symlink_to(tmp_path / "Actor_01", target_is_directory=True)
    (tmp_path / "Actor_01" / "up").symlink_to(tmp_path, target_is_directory=True)
    corpus = read_corpus("ravdess", tmp_path)
    assert list(corpus.table["path"]) == ["Actor_01/03-01-03-01-01-01-01.wav"]


def test_manifest_strips_normalises_and_drops_duplicates(tmp_path):
    for name in ("clips/a.wav", "clips/b.wav", "clips/c.wav", "clips/d.wav"):
        _touch_audio(tmp_path / name)
    (tmp_path / "manifest.csv").write_text(
        "path,label\n"
        "clips/./a.wav, happy \n"
        " clips/b.wav ,sad\n"
        "clips/../clips/b.wav,sad\n"
        "clips/c.wav,happy\n"
        f"{tmp_path / 'clips' / 'c.wav'},sad\n"
        "clips/d.wav,angry\n"
    )
    corpus = read_corpus("manifest", tmp_path)
    assert _rows(corpus) == [("clips/a.wav", "happy", "clips/a.wav"), ("clips/b.wav", "sad", "clips/b.wav"),
                             ("clips/d.wav", "angry", "clips/d.wav")]
    reasons = dict(corpus.skipped)
    assert len(corpus.skipped) == 3
    assert reasons["clips/c.wav"] == "listed 2 times with happy, sad: dropped"
    assert reasons[(tmp_path / "clips" / "c.wav").as_posix()] == "listed 2 times with happy, sad: dropped"
    assert reasons["clips/b.wav"] == "duplicate of clips/b.wav"


def test_manifest_one_file_two_speakers_is_dropped(tmp_path):
    _touch_audio(tmp_path / "a.wav")
    (tmp_path / "manifest.csv").write_text("path,label,speaker\na.wav,happy,s1\n./a.wav,happy, s2\n")
    with pytest.raises(CorpusError, match="no manifest clips found .2 files skipped, e.g. a.wav: listed 2 times with different speakers: dropped"):
        read_corpus("manifest", tmp_path)


def _rows(corpus):
    return [tuple(row) for row in corpus.table[["path", "label", "speaker"]].itertuples(index=False)]
