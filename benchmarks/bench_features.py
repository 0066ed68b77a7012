"""Feature extraction speed: the reference's librosa code against serkit, in one run.

For each clip, the reference loads with ``librosa.load`` and makes one librosa call
per feature (its STFT recomputed each time); serkit loads with
``serkit.audio.load_audio`` and computes ``seed26`` from one shared STFT. Both run in
this process, one thread, after a warm-up, interleaved clip by clip so that machine
noise hits both alike. Then the whole corpus is extracted with all cores, cache off.

    python benchmarks/bench_features.py                      # 60 clips of each kind
    python benchmarks/bench_features.py --clips 20 --sets seed26 functionals egemaps logmel
    python benchmarks/bench_features.py --only-sets --clip-seconds 4 --sets whisper whisper+functionals
    python benchmarks/bench_features.py --json bench.json
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


def per_clip_ms(sources, load_and_extract) -> list[float]:
    times = []
    for source in sources:
        start = time.perf_counter()
        load_and_extract(source)
        times.append((time.perf_counter() - start) * 1000)
    return times


def compare_with_reference(paths: list[Path], repeats: int) -> dict:
    import librosa

    from serkit.audio import load_audio
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

    from serkit.audio import load_audio

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


def whole_corpus(root: Path, n_jobs: int) -> dict:
    from serkit.corpora import read_corpus
    from serkit.features import extract_corpus

    start = time.perf_counter()
    extraction = extract_corpus(read_corpus("ravdess", root), "seed26", n_jobs=n_jobs, use_cache=False, progress=False)
    return {"clips": len(extraction.table), "jobs": n_jobs, "wall_s": time.perf_counter() - start}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED, help="folder holding ravdess-speech/ and ravdess-speech-48k/")
    parser.add_argument("--clips", type=int, default=60, help="clips of each kind for the per-clip comparison")
    parser.add_argument("--repeats", type=int, default=1, help="passes over the clips")
    parser.add_argument("--jobs", type=int, default=2, help="workers for the whole-corpus run")
    parser.add_argument("--sets", nargs="*", default=[], help="other feature sets to time per clip (22 kHz FLAC)")
    parser.add_argument("--clip-seconds", type=float, help="time --sets on clips cut to this length, features only (no file loading)")
    parser.add_argument("--only-sets", action="store_true", help="time --sets only (skip the reference comparison and the corpus run)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    warnings.simplefilter("ignore")

    wav = sorted((args.data / "ravdess-speech-48k" / "Actor_01").glob("*.wav"))[: args.clips]
    flac = sorted((args.data / "ravdess-speech").glob("Actor_*/*.flac"))[:: max(1, 1200 // args.clips)][: args.clips]
    if not wav or not flac:
        print(f"no RAVDESS clips under {args.data}", file=sys.stderr)
        return 1
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
