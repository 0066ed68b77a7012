"""The ``whisper`` set on the shared RAVDESS: input choices on inner folds, then the figures.

1. **Choice, on inner folds only.** Each input variant (trimmed or whole clip, own
   length or padded to 30 s, int8 or float32 weights, mean+std or mean pooling) is
   scored by a 4-fold speaker-grouped CV *inside the training actors* of each of the
   5 outer folds (``logreg``, C = 0.01). Each outer fold picks its own winner; the
   outer test actors never inform a choice. Printed: the inner UA of every variant
   per outer fold, each fold's winner, and the outer UA of that nested choice.
2. **Figures** for the chosen variant (``--report``, default: the first, the set's defaults):
   ``whisper`` and ``whisper+functionals`` with ``logreg`` and ``logreg-tuned``, the
   5 speaker-grouped folds of ``serkit evaluate`` (seed 0), with ``--speaker-norm``,
   and the random 80/20 split: the same calls ``serkit evaluate`` makes.
3. **Level.** Every clip scaled by 0.01, 0.1 and 10 (−40, −20, +20 dB) and encoded
   again: how far the pooled vectors move, and out-of-fold predictions of a model
   trained at the recorded level on the scaled copies (UA and agreement).

Features go through serkit's cache (``$SERKIT_CACHE_DIR`` or the user cache), one
process; the padded variant costs about 0.5 s a clip, the others about 20 ms.

    nice -n 10 python benchmarks/bench_whisper.py                 # all three parts
    python benchmarks/bench_whisper.py --parts choice
    python benchmarks/bench_whisper.py --parts figures --models logreg-tuned svm
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import warnings
from pathlib import Path

import numpy as np

SHARED_RAVDESS = Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess-speech"

VARIANTS = {
    "whole clip, own length, int8": {"trim_top_db": None},  # the set's defaults: the inner folds' choice
    "trimmed, own length, int8": {"trim_top_db": 35.0},
    "trimmed, own length, float32": {"trim_top_db": 35.0, "compute_type": "float32"},
    "trimmed, own length, int8, mean only": {"trim_top_db": 35.0, "pooling": "mean"},
    "whole clip, padded to 30 s, int8": {"trim_top_db": None, "pad_to_30s": True},
}
SELECTION_MODEL = ("logreg", {"C": 0.01})
LEVEL_GAINS = (0.01, 0.1, 10.0)
"""−40, −20 and +20 dB: RAVDESS peaks near −30 dBFS, so +20 dB is still unclipped for most clips."""


def whisper_dataset(table, params: dict):
    from serkit.evaluation import dataset_from_extraction
    from serkit.features import extract_corpus, get_feature_set

    extraction = extract_corpus(table, get_feature_set("whisper", **params), n_jobs=1)
    return dataset_from_extraction(table, extraction)[0]


def unweighted_accuracy(y_true, y_pred) -> float:
    from sklearn.metrics import balanced_accuracy_score

    return float(balanced_accuracy_score(y_true, y_pred))


def fit_score(X, y, train, test) -> float:
    from serkit.models import make_model

    name, params = SELECTION_MODEL
    model = make_model(name, **params).fit(X[train], y[train])
    return unweighted_accuracy(y[test], model.predict(X[test]))


def choose_on_inner_folds(datasets: dict) -> None:
    from serkit.evaluation import split_indices

    first = next(iter(datasets.values()))
    y, groups = first.y, first.groups
    outer = split_indices("speaker", y, groups, n_splits=5, random_state=0)
    print(f"\nInner 4-fold speaker CV on each outer fold's training actors ({SELECTION_MODEL[0]}, C=0.01), UA %:")
    print(f"{'variant':40s} " + " ".join(f"fold {k + 1:d}" for k in range(len(outer))) + "    mean")
    inner_scores = {name: [] for name in datasets}
    for train, _ in outer:
        inner = split_indices("speaker", y[train], groups[train], n_splits=4, random_state=0)
        for name, data in datasets.items():
            scores = [fit_score(data.X[train], y[train], a, b) for a, b in inner]
            inner_scores[name].append(float(np.mean(scores)))
    for name, scores in inner_scores.items():
        print(f"{name:40s} " + " ".join(f"{100 * s:6.1f}" for s in scores) + f"  {100 * np.mean(scores):6.1f}")
    names = list(datasets)
    outer_ua = []
    for k, (train, test) in enumerate(outer):
        winner = max(names, key=lambda name: inner_scores[name][k])
        data = datasets[winner]
        outer_ua.append(fit_score(data.X, y, train, test))
        print(f"outer fold {k + 1}: inner winner {winner!r}, outer UA {100 * outer_ua[-1]:.1f} %")
    print(f"nested choice, outer UA: {100 * np.mean(outer_ua):.1f} ± {100 * np.std(outer_ua):.1f} %")


def figures(table, whisper_params: dict, models: list[str]) -> None:
    from serkit.evaluation import dataset_from_extraction, evaluate
    from serkit.features import extract_corpus

    data = whisper_dataset(table, whisper_params)
    functionals = dataset_from_extraction(table, extract_corpus(table, "functionals", n_jobs=1))[0]
    # whisper+functionals is the concatenation of the two sets' vectors (same clips, same order).
    joined = np.hstack([data.X, functionals.X])
    print(f"\nwhisper {whisper_params or '(defaults)'}: 5 speaker-grouped folds (seed 0), random 80/20")
    print(f"{'set':22s} {'model':14s} {'speaker UA':>14s} {'+speaker norm UA':>18s} {'random 80/20 acc':>18s}")
    for set_name, X in (("whisper", data.X), ("whisper+functionals", joined)):
        for model in models:
            cells = []
            for protocol, norm in (("speaker", False), ("speaker", True), ("random", False)):
                run = evaluate(model, X, data.y, data.groups, protocol=protocol, speaker_norm=norm, progress=False).runs[0]
                stat = run.summary["unweighted_accuracy" if protocol == "speaker" else "accuracy"]
                cells.append(f"{100 * stat['mean']:5.1f} ± {100 * stat['std']:4.1f}%" if protocol == "speaker" else f"{100 * stat['mean']:5.1f}%")
            print(f"{set_name:22s} {model:14s} {cells[0]:>14s} {cells[1]:>18s} {cells[2]:>18s}")


def level_check(table, whisper_params: dict, cache_dir: Path) -> None:
    from serkit import __version__
    from serkit.core.audio import load_audio
    from serkit.evaluation import split_indices
    from serkit.features import get_feature_set
    from serkit.models import make_model

    data = whisper_dataset(table, whisper_params)
    fs = get_feature_set("whisper", **whisper_params)
    y, groups, loud = data.y, data.groups, data.X
    folds = split_indices("speaker", y, groups, n_splits=5, random_state=0)
    models = [make_model("logreg", C=0.01).fit(loud[train], y[train]) for train, _ in folds]
    pred_loud = np.empty_like(y)
    for model, (_, test) in zip(models, folds):
        pred_loud[test] = model.predict(loud[test])
    spread = loud.std(axis=0) + 1e-9
    print(f"\nLevel: every clip scaled, whisper {whisper_params or '(defaults)'}; out-of-fold logreg (C=0.01) trained as recorded "
          f"(UA {100 * unweighted_accuracy(y, pred_loud):.1f} % as recorded)")
    for gain in LEVEL_GAINS:
        key = hashlib.blake2b(repr((sorted(whisper_params.items()), gain, __version__)).encode(), digest_size=8).hexdigest()
        cache = cache_dir / f"whisper-level-{key}.npy"
        if cache.is_file():
            scaled = np.load(cache)
        else:
            scaled = np.stack([fs.from_audio(gain * load_audio(p, sr=fs.sr)[0], fs.sr) for p in table.absolute_paths()])
            np.save(cache, scaled)
        shift = np.abs(scaled - loud) / spread
        corr = [np.corrcoef(a, b)[0, 1] for a, b in zip(loud, scaled)]
        pred = np.empty_like(y)
        for model, (_, test) in zip(models, folds):
            pred[test] = model.predict(scaled[test])
        print(
            f"  × {gain:g} ({20 * np.log10(gain):+.0f} dB): |Δ feature| / std median {np.median(shift):.2f}, "
            f"clip correlation median {np.median(corr):.3f} (min {np.min(corr):.3f}); "
            f"UA {100 * unweighted_accuracy(y, pred):.1f} %, agreement {100 * np.mean(pred == pred_loud):.1f} %"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_RAVDESS, help="RAVDESS root")
    parser.add_argument("--parts", nargs="*", default=["choice", "figures", "level"], choices=["choice", "figures", "level"])
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS), help="variants compared on inner folds")
    parser.add_argument("--report", default=next(iter(VARIANTS)), choices=list(VARIANTS), help="variant whose figures are reported")
    parser.add_argument("--models", nargs="*", default=["logreg", "logreg-tuned"])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    from serkit.corpora import read_corpus
    from serkit.features import default_cache_dir

    if not args.data.is_dir():
        print(f"no RAVDESS under {args.data}", file=sys.stderr)
        return 1
    table = read_corpus("ravdess", args.data)
    if "choice" in args.parts:
        choose_on_inner_folds({name: whisper_dataset(table, VARIANTS[name]) for name in args.variants})
    if "figures" in args.parts:
        figures(table, VARIANTS[args.report], args.models)
    if "level" in args.parts:
        level_check(table, VARIANTS[args.report], default_cache_dir())
    return 0


if __name__ == "__main__":
    sys.exit(main())
