"""The named corpus readers, on files synthesised with each corpus's real names (tiny sine WAVs)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from serkit.corpora import NAMED_READERS, corpus_emotions, guess_reader, read_corpus
from serkit.corpora import cremad, emodb, emovo, nemo, savee, tess
from serkit.core.exceptions import CorpusError
from serkit.core.labels import EMOTIONS
from conftest import SHARED_DATA

SHARED_NEMO = SHARED_DATA / "nemo"


def _write_clips(root, names):
    t = np.arange(800) / 8000
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, (0.1 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 8000)


def _rows(corpus, columns):
    return [tuple(row) for row in corpus.table[list(columns)].itertuples(index=False)]


def test_every_table_starts_with_the_shared_columns(tmp_path):
    _write_clips(tmp_path, ["wav/03a01Fa.wav"])
    columns = list(read_corpus("emodb", tmp_path).table.columns)
    assert columns[:6] == ["path", "label", "speaker", "gender", "language", "corpus"]


def test_tess_folders_case_and_pleasant_surprise(tmp_path):
    _write_clips(tmp_path, [
        "OAF_Sad/OAF_back_sad.wav",
        "OAF_Pleasant_surprise/OAF_bar_ps.wav",
        "YAF_pleasant_surprised/YAF_base_ps.wav",
        "YAF_fear/YAF_youth_fear.wav",
        "YAF_neutral/YAF_chalk_NEUTRAL.wav",
        "OAF_angry/OAF_back_happy.wav",  # filed under another emotion
        "OAF_angry/OAF_back_calm.wav",
        "YAF_angry/notes.wav",
    ])
    corpus = read_corpus("tess", tmp_path)
    assert _rows(corpus, ["path", "label", "speaker", "word", "age"]) == [
        ("OAF_Pleasant_surprise/OAF_bar_ps.wav", "surprised", "tess:OAF", "bar", 64),
        ("OAF_Sad/OAF_back_sad.wav", "sad", "tess:OAF", "back", 64),
        ("YAF_fear/YAF_youth_fear.wav", "fearful", "tess:YAF", "youth", 26),
        ("YAF_neutral/YAF_chalk_NEUTRAL.wav", "neutral", "tess:YAF", "chalk", 26),
        ("YAF_pleasant_surprised/YAF_base_ps.wav", "surprised", "tess:YAF", "base", 26),
    ]
    assert set(corpus.table["gender"]) == {"female"} and set(corpus.table["language"]) == {"en"}
    reasons = dict(corpus.skipped)
    assert "names another speaker or emotion" in reasons["OAF_angry/OAF_back_happy.wav"]
    assert "emotion code 'calm' is not one of" in reasons["OAF_angry/OAF_back_calm.wav"]
    assert reasons["YAF_angry/notes.wav"].startswith("not a TESS name: expected OAF_<word>_<emotion>")
    assert tess.parse_name("OAF_back_pleasant_surprise.wav")["label"] == "surprised"


def test_emodb_letters_speakers_and_boredom(tmp_path):
    _write_clips(tmp_path, ["wav/03a01Wa.wav", "wav/08b10Lb.wav", "wav/16a05Tc.wav", "wav/10a07Xa.wav", "wav/04a01Fa.wav"])
    corpus = read_corpus("emodb", tmp_path)
    assert _rows(corpus, ["label", "speaker", "gender", "age", "text", "version"]) == [
        ("angry", "emodb:03", "male", 31, "a01", "a"),
        ("bored", "emodb:08", "female", 34, "b10", "b"),
        ("sad", "emodb:16", "female", 31, "a05", "c"),
    ]
    assert set(corpus.table["language"]) == {"de"}
    reasons = dict(corpus.skipped)
    assert "emotion code 'X'" in reasons["wav/10a07Xa.wav"]
    assert "speaker code '04'" in reasons["wav/04a01Fa.wav"]
    assert {emodb.parse_name(f"03a01{letter}a")["label"] for letter in "WLEAFTN"} == {
        "angry", "bored", "disgust", "fearful", "happy", "sad", "neutral"}


def test_cremad_codes_and_demographics(tmp_path):
    _write_clips(tmp_path, ["AudioWAV/1001_DFA_ANG_XX.wav", "AudioWAV/1091_TSI_HAP_HI.wav", "AudioWAV/1002_IEO_SUR_LO.wav",
                            "AudioWAV/1092_IEO_SAD_LO.wav", "AudioWAV/1003_ABC_SAD_LO.wav"])
    corpus = read_corpus("cremad", tmp_path)
    assert _rows(corpus, ["label", "speaker", "intensity", "statement"]) == [
        ("angry", "cremad:1001", "unspecified", "Don't forget a jacket"),
        ("happy", "cremad:1091", "high", "The surface is slick"),
    ]
    assert corpus.table["gender"].isna().all()
    reasons = dict(corpus.skipped)
    assert "emotion code 'SUR'" in reasons["AudioWAV/1002_IEO_SUR_LO.wav"]
    assert "outside 1001–1091" in reasons["AudioWAV/1092_IEO_SAD_LO.wav"]
    assert "sentence code 'ABC'" in reasons["AudioWAV/1003_ABC_SAD_LO.wav"]
    (tmp_path / "VideoDemographics.csv").write_text("ActorID,Age,Sex,Race,Ethnicity\n1001,51,Male,Caucasian,Not Hispanic\n1091,29,Female,Asian,Not Hispanic\n")
    with_people = read_corpus("cremad", tmp_path)
    assert _rows(with_people, ["gender", "age"]) == [("male", 51), ("female", 29)]
    assert set(cremad.parse_name(f"1001_DFA_{code}_MD")["label"] for code in cremad.EMOTION_CODES) == set(EMOTIONS) - {"calm", "surprised"}


@pytest.mark.parametrize("layout", ["flat", "folders"])
def test_savee_both_layouts(tmp_path, layout):
    names = ["DC_a01.wav", "JE_sa15.wav", "KL_su03.wav", "JK_n30.wav", "XY_a01.wav", "DC_x01.wav"]
    if layout == "folders":
        names = [f"AudioData/{name[:2]}/{name[3:]}" for name in names]
    _write_clips(tmp_path, names)
    corpus = read_corpus("savee", tmp_path)
    assert _rows(corpus, ["label", "speaker", "sentence"]) == [
        ("angry", "savee:DC", 1), ("sad", "savee:JE", 15), ("neutral", "savee:JK", 30), ("surprised", "savee:KL", 3)]
    assert set(corpus.table["gender"]) == {"male"}
    reasons = [reason for _, reason in corpus.skipped]
    assert any("speaker 'XY' is not one of DC, JE, JK, KL" in r for r in reasons)
    assert any("emotion code 'x'" in r for r in reasons)


def test_emovo_codes_speakers_and_sentences(tmp_path):
    _write_clips(tmp_path, ["f1/dis-f1-b1.wav", "m3/tri-m3-n5.wav", "f2/GIO-F2-L4.wav", "m1/ang-m1-b1.wav", "m4/neu-m4-b1.wav"])
    corpus = read_corpus("emovo", tmp_path)
    assert _rows(corpus, ["label", "speaker", "gender", "sentence"]) == [
        ("disgust", "emovo:f1", "female", "b1"), ("happy", "emovo:f2", "female", "l4"), ("sad", "emovo:m3", "male", "n5")]
    assert set(corpus.table["language"]) == {"it"}
    reasons = dict(corpus.skipped)
    assert "emotion code 'ang'" in reasons["m1/ang-m1-b1.wav"]
    assert reasons["m4/neu-m4-b1.wav"].startswith("not an EMOVO name")
    assert {emovo.parse_name(f"{code}-m1-b1")["label"] for code in emovo.EMOTION_CODES} == set(EMOTIONS) - {"calm"}


NEMO_HEADER = "file_id\temotion\traw_text\tnormalized_text\tspeaker_id\tgender\tage\n"


def _nemo_folder(root, rows, files):
    _write_clips(root, files)
    (root / "data.tsv").write_text(NEMO_HEADER + "".join("\t".join(row) + "\n" for row in rows), encoding="utf-8")


def test_nemo_table_is_the_truth(tmp_path):
    _nemo_folder(tmp_path, [
        ("EB0_anger_1.wav", "anger", "Lubię czytać przed snem.", "lubię czytać przed snem", "EB0", "female", "27"),
        ("MP0_sadness_12.wav", "sadness", "Chodźmy w tango.", "chodźmy w tango", "MP0", "male", "23"),
        ("EB0_boredom_2.wav", "boredom", "x", "x", "EB0", "female", "27"),
        ("EB0_fear_3.wav", "happiness", "y", "y", "EB0", "female", "27"),
        ("EB0_fear_4.wav", "fear", "z", "z", "EB0", "female", "27"),
    ], ["samples/EB0_anger_1.wav", "samples/MP0_sadness_12.flac", "samples/EB0_boredom_2.wav",
        "samples/EB0_fear_3.wav", "samples/SB0_neutral_9.wav"])
    corpus = read_corpus("nemo", tmp_path)
    assert _rows(corpus, ["path", "label", "speaker", "gender", "age", "sentence", "text"]) == [
        ("samples/EB0_anger_1.wav", "angry", "nemo:EB0", "female", 27, 1, "Lubię czytać przed snem."),
        ("samples/MP0_sadness_12.flac", "sad", "nemo:MP0", "male", 23, 12, "Chodźmy w tango."),
    ]
    assert set(corpus.table["language"]) == {"pl"} and set(corpus.table["corpus"]) == {"nemo"}
    reasons = dict(corpus.skipped)
    assert "data.tsv: emotion code 'boredom'" in reasons["samples/EB0_boredom_2.wav"]
    assert reasons["samples/EB0_fear_3.wav"] == "data.tsv: data.tsv says EB0 happiness, the file name says EB0 fear"
    assert reasons["samples/EB0_fear_4.wav"] == "listed in data.tsv, file not found"
    assert reasons["samples/SB0_neutral_9.wav"] == "not listed in data.tsv"


def test_nemo_bad_tables(tmp_path):
    _write_clips(tmp_path, ["samples/EB0_anger_1.wav"])
    with pytest.raises(CorpusError, match=r"data.tsv: not found; an nEMO folder holds data.tsv beside samples/"):
        read_corpus("nemo", tmp_path)
    (tmp_path / "data.tsv").write_text("file_id\temotion\tgender\nEB0_anger_1.wav\tanger\tfemale\n")
    with pytest.raises(CorpusError, match=r"data.tsv: missing column\(s\) speaker_id; nEMO's data.tsv has file_id, emotion"):
        read_corpus("nemo", tmp_path)
    (tmp_path / "data.tsv").write_text(NEMO_HEADER + "EB0_anger_1.wav\tjoy\tx\tx\tEB0\tfemale\t27\n")
    with pytest.raises(CorpusError, match=r"no nEMO clips found \(1 files skipped, e.g. samples/EB0_anger_1.wav: data.tsv: emotion code 'joy'"):
        read_corpus("nemo", tmp_path)


def test_shared_nemo_reads_every_clip():
    if not (SHARED_NEMO / "data.tsv").is_file():
        pytest.skip(f"shared nEMO not found at {SHARED_NEMO}")
    corpus = read_corpus("nemo", SHARED_NEMO)
    table = corpus.table
    assert len(table) == 2076 and not corpus.skipped
    assert table["speaker"].nunique() == 9 and table["speaker"].str.startswith("nemo:").all()
    assert set(table["label"]) == {"angry", "fearful", "happy", "neutral", "sad", "surprised"}
    assert table.groupby("speaker")["gender"].nunique().eq(1).all()
    assert table.drop_duplicates("speaker")["gender"].value_counts().to_dict() == {"male": 5, "female": 4}
    assert table["age"].notna().all() and table["text"].str.len().gt(0).all()


def test_no_clips_names_the_readers_and_guesses(tmp_path):
    _write_clips(tmp_path, ["wav/03a01Fa.wav", "wav/03a01Wa.wav", "readme.wav"])
    with pytest.raises(CorpusError) as caught:
        read_corpus("ravdess", tmp_path)
    message = str(caught.value)
    assert "no RAVDESS speech clips found (3 files skipped" in message
    assert "the names look like emodb's: try --corpus emodb" in message
    assert all(name in message for name in NAMED_READERS)
    assert "--corpus manifest with a CSV with columns path,label[,speaker]" in message
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusError, match=r"no TESS clips found \(0 files skipped\); readers: ravdess"):
        read_corpus("tess", empty)


def test_guess_reader_per_corpus():
    examples = {
        "ravdess": "Actor_01/03-01-05-01-02-01-01.wav", "nemo": "samples/EB0_anger_1.flac",
        "tess": "OAF_angry/OAF_back_angry.wav", "emodb": "wav/03a01Fa.wav", "cremad": "AudioWAV/1001_DFA_ANG_XX.wav",
        "savee": "DC/a01.wav", "emovo": "f1/dis-f1-b1.wav",
    }
    assert {name: guess_reader([path]) for name, path in examples.items()} == {name: name for name in examples}
    assert guess_reader(["notes.wav"]) is None


def test_lacks_and_adds():
    assert {name: (corpus_emotions(name)["lacks"], corpus_emotions(name)["adds"]) for name in NAMED_READERS} == {
        "ravdess": ([], []),
        "nemo": (["calm", "disgust"], []),
        "tess": (["calm"], []),
        "emodb": (["calm", "surprised"], ["bored"]),
        "cremad": (["calm", "surprised"], []),
        "savee": (["calm"], []),
        "emovo": (["calm"], []),
    }
    for module in (nemo, tess, emodb, cremad, savee, emovo):
        assert set(module.EMOTION_CODES.values()) - set(EMOTIONS) <= {"bored"}
