"""Feature extraction speed: the reference's librosa code against serkit, in one run.

For each clip, the reference loads with ``librosa.load`` and makes one librosa call
per feature (its STFT recomputed each time); serkit loads with
``serkit.core.audio.load_audio`` and computes ``seed26`` from one shared STFT. Both run in
this process, one thread, after a warm-up, interleaved clip by clip so that machine
noise hits both alike. Then the whole corpus is extracted with all cores, cache off.

    python benchmarks/bench_features.py                      # 60 clips of each kind
    python benchmarks/bench_features.py --clips 20 --sets seed26 functionals egemaps logmel
    python benchmarks/bench_features.py --only-sets --clip-seconds 4 --sets whisper whisper+functionals
    python benchmarks/bench_features.py --json bench.json
    python benchmarks/bench_features.py --parts --clips 30   # whisper+functionals part by part, before/after
    python benchmarks/bench_features.py --agreement          # numpy against librosa features, every shared clip
    python benchmarks/bench_features.py --cold               # a fresh process: whisper+functionals of one clip

``--parts`` times the bundled set ``whisper+functionals`` on real 4 s clips at 16 kHz,
one thread, part by part, each clip three times (median): "before" is serkit 0.2's path (librosa's functions, the
level normalisation once per part with a fresh noise draw), "after" this code's
(numpy only, one shared level normalisation); then the whole set both ways.
``--agreement`` compares, on every shared RAVDESS clip, the bundled model's features and
probabilities computed now with those of serkit 0.2's librosa path.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from functools import partial
from pathlib import Path

from threadpoolctl import threadpool_limits

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
TESTS = Path(__file__).resolve().parents[1] / "tests"


def per_clip_ms(sources, load_and_extract) -> list[float]:
    times = []
    for source in sources:
        start = time.perf_counter()
        load_and_extract(source)
        times.append((time.perf_counter() - start) * 1000)
    return times


def compare_with_reference(paths: list[Path], repeats: int) -> dict:
    import librosa

    from serkit.core.audio import load_audio
    from serkit.features import get_feature_set
    from serkit.features.seed26 import reference_features

    seed26 = get_feature_set("seed26")

    def reference(path):
        return reference_features(*librosa.load(path))

    def serkit(path):
        return seed26.from_audio(*load_audio(path))

    for path in paths[:3]:  # warm-up: imports, filter banks, numba
        reference(path), serkit(path)
    ref_ms, ours_ms = [], []
    # One thread for both, limited only now: threadpoolctl limits the BLAS libraries
    # already loaded, and the warm-up loaded them.
    with threadpool_limits(1):
        for _ in range(repeats):
            for path in paths:
                ref_ms += per_clip_ms([path], reference)
                ours_ms += per_clip_ms([path], serkit)
    ref, ours = statistics.median(ref_ms), statistics.median(ours_ms)
    return {"clips": len(paths), "reference_ms": ref, "serkit_ms": ours, "speedup": ref / ours}


def clips_of_length(paths: list[Path], seconds: float, sr: int) -> list:
    """Each clip at ``sr``, repeated and cut to exactly ``seconds`` (real speech, fixed length)."""
    import numpy as np

    from serkit.core.audio import load_audio

    n = int(seconds * sr)
    return [np.resize(load_audio(path, sr=sr)[0], n) for path in paths]


def other_sets(paths: list[Path], names: list[str], clip_seconds: float | None = None) -> dict:
    """Median ms per clip of each set, one thread: file loading included, or with
    ``clip_seconds`` the features alone of clips cut to that length."""
    from serkit.features import extract, get_feature_set

    costs = {}
    for name in names:
        try:
            feature_set = get_feature_set(name)
            extract(paths[0], feature_set)
        except Exception as error:  # noqa: BLE001 — report a set that cannot run, measure the rest
            costs[name] = {"error": str(error)}
            continue
        if clip_seconds is None:
            sources, run = paths, partial(extract, feature_set=feature_set)
        else:
            sources = clips_of_length(paths, clip_seconds, feature_set.sr)
            run = partial(feature_set.from_audio, sr=feature_set.sr)
        with threadpool_limits(1):
            costs[name] = {"ms_per_clip": statistics.median(per_clip_ms(sources, run))}
    return costs


def _librosa_parts(fs) -> dict:
    """serkit 0.2's functionals descriptor groups, librosa's functions: ``{group: f(y, S)}``."""
    import librosa

    sys.path.insert(0, str(TESTS))
    from librosa_functionals import librosa_periodicity, librosa_trim

    hop, n_fft, sr = fs.hop_length, fs.n_fft, fs.sr
    yin = partial(librosa.yin, fmin=fs.fmin_hz, fmax=fs.fmax_hz, sr=sr, frame_length=n_fft, hop_length=hop)
    return {
        "trim": lambda y, S: librosa_trim(y, top_db=fs.trim_top_db, frame_length=n_fft, hop_length=hop),
        "mfcc": lambda y, S: librosa.feature.mfcc(S=S["log_mel"], n_mfcc=fs.n_mfcc),
        "deltas": lambda y, S: [librosa.feature.delta(S["mfcc"], width=9, order=k) for k in (1, 2)],
        "contrast": lambda y, S: librosa.feature.spectral_contrast(S=S["S"], sr=sr, fmin=100.0, n_bands=6),
        "flatness": lambda y, S: librosa.feature.spectral_flatness(S=S["S"]),
        "yin": lambda y, S: yin(y),
        "periodicity": lambda y, S: librosa_periodicity(y, S["f0"], sr=sr, frame_length=n_fft, hop_length=hop),
    }


def _numpy_parts(fs) -> dict:
    """The same groups as serkit computes them now, and the groups that did not change."""
    from serkit.features import spectral
    from serkit.features.functionals import _periodicity, _summarise

    hop, n_fft, sr = fs.hop_length, fs.n_fft, fs.sr
    yin = partial(spectral.yin, fmin=fs.fmin_hz, fmax=fs.fmax_hz, sr=sr, frame_length=n_fft, hop_length=hop)
    mel_bank = spectral.mel_filters(sr=sr, n_fft=n_fft, n_mels=fs.n_mels)
    return {
        "trim": lambda y, S: spectral.trim_silence(y, top_db=fs.trim_top_db, frame_length=n_fft, hop_length=hop),
        "stft": lambda y, S: spectral.stft_magnitude(y, n_fft=n_fft, hop_length=hop),
        "mel": lambda y, S: spectral.power_to_db(spectral.apply_filters(mel_bank, S["S"] ** 2), top_db=None),
        "mfcc": lambda y, S: spectral.mfcc(S=S["log_mel"], n_mfcc=fs.n_mfcc),
        "deltas": lambda y, S: [spectral.delta(S["mfcc"], width=9, order=k) for k in (1, 2)],
        "contrast": lambda y, S: spectral.spectral_contrast(S=S["S"], sr=sr, fmin=100.0, n_bands=6),
        "centroid/bandwidth/rolloff": lambda y, S: [
            f(S=S["S"], sr=sr) for f in (spectral.spectral_centroid, spectral.spectral_bandwidth, spectral.spectral_rolloff)
        ],
        "flatness": lambda y, S: spectral.spectral_flatness(S=S["S"]),
        "rms/zcr": lambda y, S: [
            f(y=y, frame_length=n_fft, hop_length=hop) for f in (spectral.rms, spectral.zero_crossing_rate)
        ],
        "yin": lambda y, S: yin(y),
        "periodicity": lambda y, S: _periodicity(y, S["f0"], sr=sr, frame_length=n_fft, hop_length=hop),
        "statistics": lambda y, S: _summarise(S["descriptors"]),
    }


def part_costs(paths: list[Path], seconds: float = 4.0) -> dict:
    """Median ms per clip of each part of ``whisper+functionals``, before and after, one thread."""
    import numpy as np

    from serkit.core import level
    from serkit.features import get_feature_set
    from serkit.features.whisper import whisper_log_mel

    joined = get_feature_set("whisper+functionals")
    whisper, functionals = joined._parts()
    encoder = whisper._encoder()
    clips = [level.normalise_level(y, 16000) for y in clips_of_length(paths, seconds, 16000)]
    sys.path.insert(0, str(TESTS))
    from librosa_functionals import librosa_functionals

    def spectra(y):
        """Inputs of the descriptor groups: one clip's trimmed spectrogram, MFCCs, pitch, descriptors."""
        S = {"whole clip": y}
        y = numpy_parts["trim"](y, None)
        S["S"] = numpy_parts["stft"](y, None)
        S["log_mel"] = numpy_parts["mel"](y, S)
        S["mfcc"] = numpy_parts["mfcc"](y, S)
        S["f0"] = numpy_parts["yin"](y, S)
        S["descriptors"] = np.vstack([S["mfcc"]] * 3 + [S["log_mel"], np.zeros((15, S["mfcc"].shape[1]))])
        return y, S

    def fresh_noise(run):
        """``run`` with serkit 0.2's level normalisation: a new noise draw every call."""
        def uncached(*args):
            cap, level.NOISE_CACHE_SAMPLES = level.NOISE_CACHE_SAMPLES, 0
            try:
                return run(*args)
            finally:
                level.NOISE_CACHE_SAMPLES = cap
        return uncached

    numpy_parts, librosa_parts = _numpy_parts(functionals), _librosa_parts(functionals)
    inputs = [spectra(y) for y in clips]
    log_mels = [whisper_log_mel(S["whole clip"]) for _, S in inputs]
    for (_, S), log_mel in zip(inputs, log_mels):
        S["whisper log-mel"] = log_mel
    unchanged = {  # the untrimmed clip, as whisper sees it
        "whisper log-mel": lambda y, S: whisper_log_mel(S["whole clip"]),
        "whisper encoder": lambda y, S: encoder.encode(S["whisper log-mel"]),
    }
    levels = {
        "level normalisation": (
            fresh_noise(lambda y, S: [level.normalise_level(S["whole clip"], 16000) for _ in range(2)]),
            lambda y, S: level.normalise_level(S["whole clip"], 16000),
        ),
    }
    rows = dict(levels)
    for name, after in {**numpy_parts, **unchanged}.items():
        rows[name] = (librosa_parts.get(name, after), after)
    costs = {}
    with threadpool_limits(1):
        for name, (before, after) in rows.items():
            costs[name] = before_and_after(inputs, lambda pair: before(*pair), lambda pair: after(*pair))
        old_whole = fresh_noise(lambda y: np.concatenate([whisper.from_audio(y, 16000), librosa_functionals(functionals, y, 16000)]))
        costs["whisper+functionals (whole)"] = before_and_after(clips, old_whole, lambda y: joined.from_audio(y, 16000))
    return {"clips": len(clips), "clip_seconds": seconds, "parts": costs}


def before_and_after(sources: list, before, after, repeats: int = 3) -> dict:
    """Median ms of ``before`` and ``after`` over the sources, each source timed by both in
    turn (so that machine noise hits both alike), after a warm-up (numba, caches)."""
    before(sources[0]), after(sources[0])
    before_ms, after_ms = [], []
    for _ in range(repeats):
        for source in sources:
            before_ms += per_clip_ms([source], before)
            after_ms += per_clip_ms([source], after)
    return {"before_ms": statistics.median(before_ms), "after_ms": statistics.median(after_ms)}


def agreement(paths: list[Path]) -> dict:
    """The bundled model's features now against serkit 0.2's (librosa) on each clip:
    vectors equal to 1e-5, the columns that differ (on how many clips, by how much at
    most), YIN frames that differ by more than
    0.1 %, and whether the model's label and probabilities change."""
    from collections import Counter

    import librosa
    import numpy as np

    from serkit.models.artifacts import load_model
    from serkit.core.audio import load_audio
    from serkit.features import spectral
    from serkit.core.level import normalise_level

    sys.path.insert(0, str(TESTS))
    from librosa_functionals import librosa_functionals

    predictor = load_model()
    joined = predictor.feature_set
    functionals = joined._parts()[1]
    yin = dict(fmin=functionals.fmin_hz, fmax=functionals.fmax_hz, sr=16000, frame_length=functionals.n_fft,
               hop_length=functionals.hop_length)
    result = {"clips": 0, "vectors_within_1e-5": 0, "same_label": 0, "max_probability_change": 0.0,
              "yin_frames": 0, "yin_frames_off_by_0.1%": 0}
    columns, largest = Counter(), {}
    for path in paths:
        y, sr = load_audio(path, sr=16000)
        new = joined.from_audio(y, sr)
        old = np.concatenate([new[: -len(functionals.columns)], librosa_functionals(functionals, y, sr)])
        close = np.isclose(new, old, rtol=1e-5, atol=1e-5)
        columns.update(np.asarray(joined.columns)[~close].tolist())
        for i in np.flatnonzero(~close):
            largest[joined.columns[i]] = max(largest.get(joined.columns[i], 0.0), float(abs(new[i] - old[i])))
        probabilities = predictor.estimator.predict_proba(np.stack([new, old]))
        trimmed = spectral.trim_silence(normalise_level(y, 16000), top_db=functionals.trim_top_db,
                                        frame_length=functionals.n_fft, hop_length=functionals.hop_length)
        f0, reference = spectral.yin(trimmed, **yin), librosa.yin(trimmed, **yin)
        result["clips"] += 1
        result["vectors_within_1e-5"] += int(close.all())
        result["same_label"] += int(np.argmax(probabilities[0]) == np.argmax(probabilities[1]))
        result["max_probability_change"] = max(result["max_probability_change"], float(np.ptp(probabilities, axis=0).max()))
        result["yin_frames"] += f0.size
        result["yin_frames_off_by_0.1%"] += int(np.sum(np.abs(f0 - reference) > 1e-3 * reference))
    result["columns_off"] = {name: {"clips": count, "largest_difference": largest[name]} for name, count in columns.most_common()}
    return result


COLD_START = """
import sys
import numpy as np
from serkit.features import get_feature_set

y = (0.1 * np.sin(2 * np.pi * 180 * np.arange(64000) / 16000)).astype(np.float32)
get_feature_set("whisper+functionals").from_audio(y, 16000)
print(",".join(name for name in ("librosa", "scipy", "numba", "sklearn", "torch", "pandas") if name in sys.modules))
"""


def cold_start(repeats: int = 5) -> dict:
    """Median wall time of a fresh interpreter that computes ``whisper+functionals`` of one
    4 s clip (imports and encoder loading included), and the heavy modules it imported.
    The serkit it runs is the one on ``PYTHONPATH``: point it at another checkout to compare."""
    import subprocess

    times, imported = [], ""
    for _ in range(repeats):
        start = time.perf_counter()
        imported = subprocess.run([sys.executable, "-c", COLD_START], capture_output=True, text=True, check=True).stdout.strip()
        times.append(time.perf_counter() - start)
    return {"runs": repeats, "wall_s": statistics.median(times), "heavy_modules": imported.split(",") if imported else []}


def whole_corpus(root: Path, n_jobs: int) -> dict:
    from serkit.corpora import read_corpus
    from serkit.features import extract_corpus

    start = time.perf_counter()
    extraction = extract_corpus(read_corpus("ravdess", root), "seed26", n_jobs=n_jobs, use_cache=False, progress=False)
    return {"clips": len(extraction.table), "jobs": n_jobs, "wall_s": time.perf_counter() - start}


def print_parts(results: dict, json_path: Path | None) -> int:
    print(f"whisper+functionals, {results['clips']} real {results['clip_seconds']:g} s clips at 16 kHz, one thread, median ms per clip")
    print(f"{'part':28s} {'before':>8s} {'after':>8s}")
    for name, cost in results["parts"].items():
        print(f"{name:28s} {cost['before_ms']:8.2f} {cost['after_ms']:8.2f}")
    if json_path:
        json_path.write_text(json.dumps(results, indent=2))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED, help="folder holding ravdess-speech/ and ravdess-speech-48k/")
    parser.add_argument("--clips", type=int, default=60, help="clips of each kind for the per-clip comparison")
    parser.add_argument("--repeats", type=int, default=1, help="passes over the clips")
    parser.add_argument("--jobs", type=int, default=2, help="workers for the whole-corpus run")
    parser.add_argument("--sets", nargs="*", default=[], help="other feature sets to time per clip (22 kHz FLAC)")
    parser.add_argument("--clip-seconds", type=float, help="time --sets on clips cut to this length, features only (no file loading)")
    parser.add_argument("--only-sets", action="store_true", help="time --sets only (skip the reference comparison and the corpus run)")
    parser.add_argument("--parts", action="store_true", help="time whisper+functionals part by part, before and after (only that)")
    parser.add_argument("--agreement", action="store_true", help="compare the bundled model's features with the librosa path on every shared clip (only that)")
    parser.add_argument("--cold", action="store_true", help="time a fresh process computing whisper+functionals of one clip (only that)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    if args.cold:
        cold = cold_start()
        print(f"cold start, whisper+functionals of one 4 s clip: {cold['wall_s']:.2f} s (median of {cold['runs']}), "
              f"heavy modules imported: {', '.join(cold['heavy_modules']) or 'none'}")
        return 0
    wav = sorted((args.data / "ravdess-speech-48k" / "Actor_01").glob("*.wav"))[: args.clips]
    flac = sorted((args.data / "ravdess-speech").glob("Actor_*/*.flac"))[:: max(1, 1200 // args.clips)][: args.clips]
    if not wav or not flac:
        print(f"no RAVDESS clips under {args.data}", file=sys.stderr)
        return 1
    if args.parts:
        return print_parts(part_costs(flac), args.json)
    if args.agreement:
        results = agreement(sorted((args.data / "ravdess-speech").glob("Actor_*/*.flac")))
        print(json.dumps(results, indent=2))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return 0
    results = {"sets": other_sets(flac, args.sets, args.clip_seconds)}
    if not args.only_sets:
        results["wav_48k"] = compare_with_reference(wav, args.repeats)
        results["flac_22k"] = compare_with_reference(flac, args.repeats)
        results["corpus"] = whole_corpus(args.data / "ravdess-speech", args.jobs)
        for kind, label in (("wav_48k", "48 kHz WAV originals"), ("flac_22k", "22 kHz FLAC")):
            r = results[kind]
            print(f"{label:22s} reference {r['reference_ms']:6.1f} ms/clip   serkit seed26 {r['serkit_ms']:5.1f} ms/clip   {r['speedup']:.1f}x  ({r['clips']} clips, median)")
    what = "load + features" if args.clip_seconds is None else f"features of a {args.clip_seconds:g} s clip"
    for name, cost in results["sets"].items():
        print(f"{'set ' + name:22s} " + (f"{cost['ms_per_clip']:.1f} ms/clip ({what})" if "ms_per_clip" in cost else f"unavailable: {cost['error']}"))
    if not args.only_sets:
        c = results["corpus"]
        print(f"{'whole corpus':22s} {c['clips']} clips in {c['wall_s']:.1f} s with {c['jobs']} workers (seed26, cache off)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
