"""Robustness: crafted, broken and extreme inputs through every layer below the service.

Each input goes through ``load_audio``/``audio_info``, ``features.extract`` (every cheap
set), the batch (``extract_files``, ``extract_corpus`` with the cache) and the
``serkit features``/``serkit info`` verbs in-process. The outcome must be one of: an
answer (finite features), a :class:`SerkitError` with the file in its message, or a
batch failure/skip with a reason; never another exception, a traceback, a hang (every
test has a timeout) or memory beyond a bound (tracemalloc's peak). The inputs are
synthesised here; see docs/robustness.md for what is guaranteed.
"""

from __future__ import annotations

import contextlib
import os
import re
import struct
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from conftest import make_tone
from serkit.core.audio import audio_info, load_audio
from serkit.cli import main
from serkit.corpora import read_corpus
from serkit.core.exceptions import ParameterError, SerkitError
from serkit.features import extract, extract_corpus, extract_files, get_feature_set
from serkit.features import spectral

pytestmark = pytest.mark.timeout(60)

SR = 16000
CHEAP_SETS = ("seed26", "functionals", "logmel")
MEMORY_BOUND = 64 << 20
"""Peak Python/numpy allocation allowed for one small crafted file, whatever its header claims."""


# --- Inputs ---------------------------------------------------------------------------------


def riff_wav(
    *, sr: int = SR, channels: int = 1, bits: int = 16, payload: bytes | None = None, data_length: int | None = None, fmt_tag: int = 1
) -> bytes:
    """A canonical RIFF/WAVE file with every header field chosen by the caller."""
    payload = np.int16(1000 * np.sin(np.arange(SR) / 5)).tobytes() if payload is None else payload
    block_align = channels * bits // 8
    fmt = struct.pack("<HHIIHH", fmt_tag, channels, sr, (sr * block_align) & 0xFFFFFFFF, block_align & 0xFFFF, bits)
    length = len(payload) if data_length is None else data_length
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", length & 0xFFFFFFFF) + payload
    return b"RIFF" + struct.pack("<I", len(body) & 0xFFFFFFFF) + body


def rf64_wav(*, claimed_bytes: int) -> bytes:
    """An RF64 file whose ds64 chunk claims ``claimed_bytes`` of samples (it holds 1 s)."""
    payload = np.int16(1000 * np.sin(np.arange(SR) / 5)).tobytes()
    fmt = struct.pack("<HHIIHH", 1, 1, SR, 2 * SR, 2, 16)
    ds64 = struct.pack("<QQQI", claimed_bytes + 100, claimed_bytes, claimed_bytes // 2, 0)
    body = (
        b"WAVE" + b"ds64" + struct.pack("<I", len(ds64)) + ds64 + b"fmt " + struct.pack("<I", len(fmt)) + fmt
        + b"data" + struct.pack("<I", 0xFFFFFFFF) + payload
    )
    return b"RF64" + struct.pack("<I", 0xFFFFFFFF) + body


CRAFTED = {
    "huge-data-length": riff_wav(data_length=0xFFFFFFF0),
    "zero-data-length": riff_wav(data_length=0),
    "zero-data-length-no-payload": riff_wav(payload=b"", data_length=0),
    "sample-rate-1": riff_wav(sr=1),
    "sample-rate-2**31-1": riff_wav(sr=2**31 - 1),
    "sample-rate-0": riff_wav(sr=0),
    "zero-channels": riff_wav(channels=0),
    "1000-channels": riff_wav(channels=1000, payload=bytes(2000 * 100)),
    "zero-bits": riff_wav(bits=0),
    "float-format-8-bits": riff_wav(fmt_tag=3, bits=8),
    "rf64-claiming-2-TB": rf64_wav(claimed_bytes=2 << 40),
    "truncated-header": riff_wav()[:30],
    "truncated-data": riff_wav()[:1000],
    "riff-then-garbage": b"RIFF" + np.random.default_rng(0).bytes(4000),
    "random-bytes": np.random.default_rng(1).bytes(8000),
    "html": b"<!DOCTYPE html><html><head><title>404</title></head><body>Not found</body></html>\n" * 20,
    "empty": b"",
}

_t = np.arange(SR) / SR
SIGNALS = {
    "nan": np.where(np.arange(SR) == 100, np.nan, 0.1 * np.sin(2 * np.pi * 200 * _t)),
    "inf": np.where(np.arange(SR) == 100, np.inf, 0.1 * np.sin(2 * np.pi * 200 * _t)),
    "huge-1e30": 1e30 * np.sin(2 * np.pi * 200 * _t),
    "huge-1e6": 1e6 * np.sin(2 * np.pi * 200 * _t),
    "denormal": np.full(SR, 1e-40),
    "denormal-sine": 1e-40 * np.sin(2 * np.pi * 200 * _t),
    "silence": np.zeros(SR),
    "dc": np.full(SR, 0.5),
    "full-scale-dc": np.ones(SR),
    "square": 0.9 * np.sign(np.sin(2 * np.pi * 100 * _t)),
    "click-in-silence": (np.arange(SR) == SR // 2).astype(float),
    "clipped": np.clip(10 * np.sin(2 * np.pi * 200 * _t), -1, 1),
    "0.1-s": 0.3 * np.sin(2 * np.pi * 200 * _t[: SR // 10]),
}
"""Float signals, written as 32-bit float WAV (which stores NaN, inf and 1e30 as they are)."""

EXPECTED_ERRORS = {
    "sample-rate-1": "sample rate 1 Hz",
    "sample-rate-2**31-1": "sample rate 2147483647 Hz",
    "zero-channels": "not readable as audio",
    "zero-bits": "not readable as audio",
    "truncated-header": "not readable as audio",
    "html": "not readable as audio",
    "random-bytes": "not readable as audio",
    "empty": "empty file",
    "nan": "non-finite",
    "inf": "non-finite",
}
"""Inputs whose refusal is certain, and the reason the message must give."""

EXPECTED_FEATURE_ERRORS = {**EXPECTED_ERRORS, "huge-1e30": "beyond any recording", "huge-1e6": "beyond any recording"}
"""Loading hands finite samples of any size back (the caller may rescale them);
features are computed from samples within ``audio.MAX_PEAK`` only."""


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict:
    """Every crafted file and signal on disk, named like a clip: ``{name: path}``."""
    folder = tmp_path_factory.mktemp("inputs")
    paths = {}
    for name, data in CRAFTED.items():
        paths[name] = folder / f"{name}.wav"
        paths[name].write_bytes(data)
    for name, y in SIGNALS.items():
        paths[name] = folder / f"{name}.wav"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            sf.write(paths[name], y.astype(np.float32), SR, subtype="FLOAT")
    return paths


ALL_INPUTS = [*CRAFTED, *SIGNALS]


@contextlib.contextmanager
def bounded_memory(limit: int = MEMORY_BOUND):
    """Fail when what runs inside allocates more than ``limit`` bytes at its peak
    (numpy's buffers included: numpy reports them to tracemalloc)."""
    tracemalloc.start()
    try:
        yield
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < limit, f"peak allocation {peak / 2**20:.0f} MiB > {limit / 2**20:.0f} MiB"


def outcome(function, *args, **kwargs) -> tuple[str, object]:
    """``("answer", value)`` or ``("error", message)`` for a SerkitError; anything else
    (a bare ValueError, MemoryError, …) propagates and fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return "answer", function(*args, **kwargs)
        except SerkitError as error:
            return "error", str(error)


def check_expected(name: str, path, result: tuple[str, object], expected: dict = EXPECTED_ERRORS) -> None:
    kind, value = result
    if kind == "error":
        assert str(path) in value, f"the message must name the file: {value!r}"
    if name in expected:
        assert kind == "error" and expected[name] in value, result


# --- Layer 1: audio in ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_INPUTS)
def test_load_audio_answers_or_refuses_in_bounded_memory(inputs, name):
    with bounded_memory():
        result = outcome(load_audio, inputs[name])
    check_expected(name, inputs[name], result)
    if result[0] == "answer":
        y, sr = result[1]
        assert sr == 22050 and y.dtype == np.float32 and y.ndim == 1 and np.all(np.isfinite(y))


@pytest.mark.parametrize("name", ALL_INPUTS)
def test_audio_info_answers_or_refuses_in_bounded_memory(inputs, name):
    with bounded_memory():
        kind, value = outcome(audio_info, inputs[name])
    if kind == "error":
        assert str(inputs[name]) in value
    else:
        assert value.frames >= 0 and value.channels >= 1 and value.duration_s >= 0


def test_a_header_claiming_terabytes_reads_only_what_is_there(inputs):
    with bounded_memory(16 << 20):
        info = audio_info(inputs["rf64-claiming-2-TB"])
        y, _ = load_audio(inputs["rf64-claiming-2-TB"], sr=None)
    assert info.frames == y.size == SR


def test_a_compressed_hour_of_silence_is_refused_before_decoding(tmp_path):
    """A FLAC "bomb": kilobytes on disk, an hour of samples once decoded."""
    path = tmp_path / "bomb.flac"
    with sf.SoundFile(path, "w", samplerate=8000, channels=1, format="FLAC") as stream:
        block = np.zeros(8000 * 60, dtype=np.int16)
        for _ in range(60):
            stream.write(block)
    assert path.stat().st_size < 1 << 20
    with bounded_memory(16 << 20):
        kind, message = outcome(extract, path, "seed26")
        assert audio_info(path).duration_s == 3600
    assert kind == "error" and "too long (3600.0 s > 600 s)" in message


# --- Layer 2: features of one clip ------------------------------------------------------------


@pytest.mark.parametrize("name", ALL_INPUTS)
@pytest.mark.parametrize("feature_set", CHEAP_SETS)
def test_extract_answers_finite_or_refuses(inputs, name, feature_set):
    result = outcome(extract, inputs[name], feature_set)
    check_expected(name, inputs[name], result, EXPECTED_FEATURE_ERRORS)
    if result[0] == "answer":
        assert np.all(np.isfinite(result[1])) and result[1].size > 0


@pytest.mark.parametrize("name", list(SIGNALS))
def test_egemaps_answers_finite_or_refuses(inputs, name):
    pytest.importorskip("opensmile")
    result = outcome(extract, inputs[name], "egemaps")
    check_expected(name, inputs[name], result, EXPECTED_FEATURE_ERRORS)
    if result[0] == "answer":
        assert result[1].shape == (88,) and np.all(np.isfinite(result[1]))


ABSURD_PARAMETERS = [
    ("seed26", dict(n_fft=2**30)),
    ("seed26", dict(n_fft=1)),
    ("seed26", dict(n_fft=0)),
    ("seed26", dict(hop_length=0)),
    ("seed26", dict(hop_length=-1)),
    ("seed26", dict(hop_length=2**30)),
    ("seed26", dict(n_fft=65536, hop_length=1)),
    ("seed26", dict(n_mels=10**9)),
    ("seed26", dict(n_mfcc=10**6)),
    ("seed26", dict(sr=1)),
    ("seed26", dict(sr=10**9)),
    ("seed26", dict(n_fft=2.5)),
    ("seed26", dict(n_fft=float("nan"))),
    ("seed26", dict(sr="22050")),
    ("functionals", dict(n_fft=2**30)),
    ("functionals", dict(hop_length=1)),
    ("functionals", dict(n_mels=10**6)),
    ("functionals", dict(fmin_hz=float("nan"))),
    ("functionals", dict(sr=10**9)),
    ("logmel", dict(hop_length_s=1e-300)),
    ("logmel", dict(hop_length_s=float("inf"))),
    ("logmel", dict(win_length_s=1e-300)),
    ("logmel", dict(win_length_s=1e6)),
    ("logmel", dict(n_mels=10**6)),
    ("logmel", dict(top_db=float("nan"))),
    ("egemaps", dict(sr=1)),
    ("egemaps", dict(sr=10**9)),
]


@pytest.mark.skipif(not hasattr(spectral, "check_stft"), reason="feature-set parameter bounds (spectral.check_stft) not in this tree yet")
@pytest.mark.parametrize(("name", "params"), ABSURD_PARAMETERS, ids=[f"{n}-{p}" for n, p in ABSURD_PARAMETERS])
def test_absurd_parameters_are_refused_or_bounded(name, params):
    """Refused when the set is built (ParameterError naming the parameter), or an answer
    for a 3 s clip in bounded memory; never a MemoryError, a crash or minutes of work."""
    try:
        feature_set = get_feature_set(name, **params)
    except ParameterError as error:
        # It quotes the parameter, or what logmel derives from it (seconds → samples).
        assert re.match(r"\w+=", str(error)), str(error)
        return
    if name == "egemaps":
        pytest.importorskip("opensmile")
    y = make_tone(sr=22050, duration_s=3.0)
    with bounded_memory(512 << 20):
        kind, value = outcome(feature_set.from_audio, y, 22050)
    assert kind == "error" or np.all(np.isfinite(value))


# --- Layer 3: the batch -----------------------------------------------------------------------


def test_extract_files_keeps_the_good_clip_and_gives_every_bad_one_a_reason(inputs, tmp_path):
    good = tmp_path / "good.wav"
    sf.write(good, make_tone(sr=SR), SR)
    paths = [inputs[name] for name in ALL_INPUTS] + [good]
    with bounded_memory(256 << 20):
        results = extract_files(paths, "seed26", n_jobs=1, cache_dir=tmp_path / "cache", progress=False)
    assert len(results) == len(paths)
    assert results[-1].error is None and np.all(np.isfinite(results[-1].value))
    for name, result in zip(ALL_INPUTS, results):
        assert (result.error is None) != (result.value is None), name
        if result.error is not None:
            assert str(inputs[name]) in result.error
            assert EXPECTED_FEATURE_ERRORS.get(name, "") in result.error
        else:
            assert np.all(np.isfinite(result.value)), name


def _ravdess_like(tmp_path, inputs) -> tuple:
    """A RAVDESS folder holding every input, plus a FIFO and a link to /dev/zero, each
    under a clip's name: ``(root, {clip name: input name})``."""
    root = tmp_path / "corpus" / "Actor_01"
    root.mkdir(parents=True)
    names = {}
    specials = ["fifo", "dev-zero", "good"]
    for index, name in enumerate([*ALL_INPUTS, *specials]):
        emotion, rest = index % 8 + 1, index // 8
        clip = f"03-01-{emotion:02d}-{rest % 2 + 1:02d}-{rest // 2 % 2 + 1:02d}-{rest // 4 + 1:02d}-01.wav"
        names[clip] = name
        if name == "fifo":
            os.mkfifo(root / clip)
        elif name == "dev-zero":
            (root / clip).symlink_to("/dev/zero")
        elif name == "good":
            sf.write(root / clip, make_tone(sr=SR), SR)
        else:
            (root / clip).write_bytes(inputs[name].read_bytes())
    return root.parent, names


def test_extract_corpus_with_the_cache_survives_every_input(inputs, tmp_path):
    root, names = _ravdess_like(tmp_path, inputs)
    corpus = read_corpus("ravdess", root)
    for use in ("first run", "from the cache"):
        extraction = extract_corpus(corpus, "seed26", n_jobs=1, cache_dir=tmp_path / "cache", progress=False)
        extracted = {names[path.split("/")[-1]] for path in extraction.table["path"]}
        failed = {names[path.split("/")[-1]]: reason for path, reason in extraction.failures}
        assert "good" in extracted, use
        assert "not a regular file" in failed["fifo"] and "not a regular file" in failed["dev-zero"]
        skipped = {names[Path(path).name] for path, _ in corpus.skipped}
        assert extracted | failed.keys() | skipped == set(names.values()), use
        assert np.all(np.isfinite(extraction.X))
    assert extraction.n_cached == len(extraction.table)


# --- Layer 4: the verbs -----------------------------------------------------------------------


def test_features_verb_reports_each_bad_clip_on_one_line(inputs, tmp_path, capsys):
    root, names = _ravdess_like(tmp_path, inputs)
    out = tmp_path / "features.csv"
    code = main(["features", str(root), "-o", str(out), "--cache-dir", str(tmp_path / "cache"), "-q", "-j", "1"])
    err = capsys.readouterr().err
    assert code == 0 and out.exists()
    assert "Traceback" not in err
    failed_lines = [line for line in err.splitlines() if line.startswith("failed ")]
    assert any("not a regular file" in line for line in failed_lines)
    assert len(failed_lines) == len(open(str(out) + ".failures.csv").read().splitlines()) - 1


@pytest.mark.parametrize("name", ALL_INPUTS)
def test_info_verb_answers_or_says_why_in_one_line(inputs, name, capsys):
    code = main(["info", str(inputs[name])])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    if code == 1:
        assert captured.err.count("\n") == 1 and str(inputs[name]) in captured.err
    else:
        assert code == 0 and "sample rate" in captured.out


def test_info_verb_json_on_a_mix_of_inputs(inputs, capsys):
    import json

    code = main(["info", "--json", *(str(inputs[name]) for name in ALL_INPUTS)])
    listed = json.loads(capsys.readouterr().out)
    assert code == 0 and len(listed) == len(ALL_INPUTS)
    assert all(("error" in item) != ("sample_rate" in item) for item in listed)


# --- Figures: user text is drawn, not parsed ------------------------------------------------


def test_figures_draw_labels_that_look_like_mathtext():
    from serkit.report.clip import waveform_figure
    from serkit.report.corpus import class_counts_figure, duration_figure, speaker_counts_figure
    from serkit.report.distributions import capping_figure, feature_boxplots_figure, feature_histograms_figure
    from serkit.report.results import confusion_figure, model_comparison_figure, roc_figure, training_curves_figure
    from serkit.report.style import figure_to_png

    bad = r"$\notacommand$"
    labels = [bad, "happy", "a$b$c"]
    figures = [
        confusion_figure(np.eye(3), labels, title=bad),
        roc_figure({label: {"fpr": [0, 1], "tpr": [0, 1], "auc": 0.5} for label in labels}, title=bad),
        model_comparison_figure([bad, "logreg"], {bad: [0.5, 0.6]}, title=bad, ylabel=bad),
        training_curves_figure([{"loss": 1.0, "accuracy": 0.5}], title=bad),
        class_counts_figure(labels),
        speaker_counts_figure([bad, "$x$1", bad], [bad, "male", bad]),
        duration_figure([1.0, 2.0, 3.0], labels),
        feature_histograms_figure({bad: [1.0, 2.0, 3.0]}),
        feature_boxplots_figure({bad: [1.0, 2.0, 3.0]}),
        capping_figure([1.0, 2.0], {bad: [1.0, 1.5]}, column=bad, unit="$u$"),
        waveform_figure(make_tone(sr=22050), 22050, title=bad),
    ]
    for figure in figures:
        assert figure_to_png(figure)[:8] == b"\x89PNG\r\n\x1a\n"
    ticks = [tick.get_text() for tick in figures[0].axes[0].get_xticklabels()]
    assert ticks[0] == r"\$\notacommand\$"  # drawn as the label itself, dollars included
