"""Familiarity: does it pick out the clips the model gets right, and the audio it never learnt?

The model is the bundled recipe's classifier on RAVDESS (``logreg-tuned`` on the bundled
model's features, ``whisper-speech+functionals``; ``--feature-set`` takes another); each fold's
model and familiarity statistics are fitted on its training actors only. Nothing reported is
chosen on what it is reported on:

- *choice* (``--choose``): RAVDESS actors 01-10 in 5 folds of 2 (the model and statistics
  fitted on the other 18 actors, as large a training set as the report's: actors 11-20 only ever
  train there, and no figure of theirs is scored) and nEMO's development speakers (the first 5
  of 9, sorted), scored by the same statistics. Each setting of the familiarity score (the emotion part's
  principal components, none for the global part alone, and the global part's weight) gets
  the accuracy of the 50 % most familiar held-out clips against all, and its AUROC of held-out
  RAVDESS against nEMO; the chosen one has the best gain among those with AUROC >= 0.99.
  The caution threshold is chosen there too: the one flagging the most nEMO development clips
  while flagging at most 5 % of held-out RAVDESS clips, the lowest on a tie;
- *report*: RAVDESS actors 11-20 in 5 folds of 2 (trained on the other 18 actors), nEMO's
  other 4 speakers and synthetic non-speech (noise, hums, tones, chords, 4 s each) scored by a
  model and statistics fitted on all of RAVDESS; and the pool a user from elsewhere stands in:
  the held-out RAVDESS clips with the nEMO report clips (argmax over the model's 8 emotions).

    python benchmarks/bench_familiarity.py                 # the settings in use: threshold and report
    python benchmarks/bench_familiarity.py --choose        # also every setting on the choice split
    python benchmarks/bench_familiarity.py --figure docs/images/risk-coverage.png

Features come through serkit's cache (the first run extracts them: minutes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
THRESHOLDS = (0.005, 0.01, 0.02, 0.05, 0.1)
DISCRIMINANT = (None, 64, 128, 192, 256, 384, 512)
WEIGHTS = (0.1, 0.3, 1.0)
MIN_AUROC = 0.99
MAX_FLAGGED_IN_DOMAIN = 0.05
N_NEMO_DEV = 5
FEATURE_SET = "whisper-speech+functionals"


def auroc(inside, outside) -> float:
    """Probability that an in-domain clip is more familiar than an out-of-domain one.

    >>> auroc([0.9, 0.8], [0.1, 0.85])
    0.75
    """
    inside, outside = np.asarray(inside), np.asarray(outside)
    return float((inside[:, None] > outside[None, :]).mean() + 0.5 * (inside[:, None] == outside[None, :]).mean())


def gain_at_half(correct, score) -> float:
    """Points of accuracy the 50 % highest-scored clips gain over all."""
    from serkit.evaluation.metrics import risk_coverage

    everything, half = risk_coverage(correct, score, (1.0, 0.5))
    return 100 * (half - everything)


def load(args):
    """RAVDESS and nEMO datasets (``args.feature_set``, through the cache)."""
    from serkit.evaluation.dataset import dataset_from_corpus

    progress = sys.stderr.isatty()
    ravdess, _ = dataset_from_corpus(args.ravdess, corpus="ravdess", feature_set=args.feature_set, progress=progress)
    nemo, _ = dataset_from_corpus(args.nemo, corpus="nemo", feature_set=args.feature_set, progress=progress)
    return ravdess, nemo


def nonspeech_features(feature_set_name: str = FEATURE_SET) -> np.ndarray:
    """``feature_set_name``'s features of bench_speech's synthetic non-speech clips."""
    from bench_speech import nonspeech_clips

    from serkit.features import get_feature_set

    feature_set = get_feature_set(feature_set_name)
    return np.array([feature_set.from_audio(y, feature_set.sr) for _, _, y in nonspeech_clips(feature_set.sr)])


def fold_predictions(dataset, test_actors: list, train_actors: list, seed: int) -> list[dict]:
    """Per fold (2 test actors): the training rows, the test rows, correct or not, confidence."""
    from serkit.models.registry import fit_model, make_model

    X, y, groups = dataset.X, dataset.y.astype(str), dataset.groups.astype(str)
    folds = []
    for index in range(5):
        tested = test_actors[index::5]
        test = np.isin(groups, tested)
        train = np.isin(groups, train_actors) & ~test
        model = fit_model(make_model("logreg-tuned", random_state=seed), X[train], y[train], groups[train])
        proba = model.predict_proba(X[test])
        folds.append({"train": train, "test": test, "correct": model.classes_[proba.argmax(axis=1)] == y[test],
                      "confidence": proba.max(axis=1)})
    return folds


def familiar(dataset, folds, outside: dict, *, reference: bool, **options) -> dict:
    """Held-out RAVDESS familiarity (per fold's statistics) and each outside set's (mean over
    folds of its AUROC against the fold's held-out clips); scores with ``reference``, else
    negated distances."""
    from serkit.inference.familiarity import fit_familiarity

    X, y, groups = dataset.X, dataset.y.astype(str), dataset.groups.astype(str)
    inside, aurocs, scored = [], {name: [] for name in outside}, {name: [] for name in outside}
    for fold in folds:
        stats = fit_familiarity(X[fold["train"]], groups[fold["train"]], y[fold["train"]],
                                n_folds=5 if reference else 0, **options)
        score = stats.scores if reference else (lambda rows, stats=stats: -stats.distances(rows))
        inside.append(score(X[fold["test"]]))
        for name, rows in outside.items():
            scored[name].append(score(rows))
            aurocs[name].append(auroc(inside[-1], scored[name][-1]))
    return {"inside": np.concatenate(inside), "auroc": {name: float(np.mean(v)) for name, v in aurocs.items()},
            "outside": {name: np.concatenate(v) for name, v in scored.items()}}


def choose(dataset, folds, nemo_dev) -> dict:
    """Every setting on the choice split; the chosen one and the caution threshold."""
    from serkit.inference.familiarity import DISCRIMINANT_COMPONENTS, GLOBAL_WEIGHT

    correct = np.concatenate([fold["correct"] for fold in folds])
    rows = []
    for components in DISCRIMINANT:
        for weight in (WEIGHTS if components else (1.0,)):
            options = {"discriminant_components": components or 1, "weight": weight}
            scored = familiar(_without_emotions(dataset) if components is None else dataset, folds,
                              {"nemo": nemo_dev}, reference=False, **options)
            rows.append({"discriminant_components": components, "weight": weight,
                         "gain": gain_at_half(correct, scored["inside"]), "auroc_nemo": scored["auroc"]["nemo"]})
            print(f"choice split: {rows[-1]}", file=sys.stderr)
    allowed = [row for row in rows if row["auroc_nemo"] >= MIN_AUROC]
    best = max(allowed, key=lambda row: (round(row["gain"], 6), -(row["discriminant_components"] or 0), row["weight"]))
    return {"rows": rows, "chosen": best, "in_use": {"discriminant_components": DISCRIMINANT_COMPONENTS,
                                                      "weight": GLOBAL_WEIGHT}}


class _without_emotions:  # noqa: N801 (reads as a function at its call sites)
    """The dataset with every clip's emotion hidden from the statistics (one emotion: the
    global part alone)."""

    def __init__(self, dataset):
        self.X, self.groups = dataset.X, dataset.groups
        self.y = np.full(len(dataset.y), "any")


def threshold(inside, nemo_dev) -> dict:
    """The caution threshold by the documented rule, and the shares flagged at each."""
    flagged = {t: {"ravdess_held_out": float(np.mean(inside < t)), "nemo_dev": float(np.mean(nemo_dev < t))}
               for t in THRESHOLDS}
    allowed = [t for t in THRESHOLDS if flagged[t]["ravdess_held_out"] <= MAX_FLAGGED_IN_DOMAIN]
    chosen = max(allowed, key=lambda t: (flagged[t]["nemo_dev"], -t)) if allowed else None
    return {"flagged": flagged, "chosen": chosen}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ravdess", type=Path, default=SHARED / "ravdess-speech")
    parser.add_argument("--nemo", type=Path, default=SHARED / "nemo")
    parser.add_argument("--choose", action="store_true", help="also try every setting on the choice split (slower)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--feature-set", default=FEATURE_SET, help=f"default: the bundled model's, {FEATURE_SET}")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--figure", type=Path, help="draw the report split's risk-coverage curve here")
    args = parser.parse_args(argv)

    from serkit.evaluation.metrics import COVERAGES, risk_coverage
    from serkit.inference.familiarity import CAUTION_BELOW, fit_familiarity
    from serkit.models.registry import fit_model, make_model

    ravdess, nemo = load(args)
    actors = sorted(np.unique(ravdess.groups.astype(str)))
    speakers = sorted(np.unique(nemo.groups.astype(str)))
    nemo_dev = np.isin(nemo.groups.astype(str), speakers[:N_NEMO_DEV])
    figures = {}

    # -- the choice split: actors 01-10, nEMO development speakers
    inner = fold_predictions(ravdess, actors[:10], actors, args.seed)
    if args.choose:
        figures["choice"] = choose(ravdess, inner, nemo.X[nemo_dev])
    scored = familiar(ravdess, inner, {"nemo": nemo.X[nemo_dev]}, reference=True)
    figures["threshold"] = threshold(scored["inside"], scored["outside"]["nemo"])
    figures["threshold"]["in_use"] = CAUTION_BELOW

    # -- the report split: actors 11-20, nEMO's other speakers, non-speech
    outer = fold_predictions(ravdess, actors[10:], actors, args.seed)
    correct = np.concatenate([fold["correct"] for fold in outer])
    confidence = np.concatenate([fold["confidence"] for fold in outer])
    X, y, groups = ravdess.X, ravdess.y.astype(str), ravdess.groups.astype(str)
    model = fit_model(make_model("logreg-tuned", random_state=args.seed), X, y, groups)
    proba = model.predict_proba(nemo.X[~nemo_dev])
    nemo_correct = model.classes_[proba.argmax(axis=1)] == nemo.y.astype(str)[~nemo_dev]
    outside = {"nemo": nemo.X[~nemo_dev], "nonspeech": nonspeech_features(args.feature_set)}
    figures["report"] = {}
    for name, data in (("global part alone (before)", _without_emotions(ravdess)), ("in use", ravdess)):
        held = familiar(data, outer, {}, reference=True)
        everything = fit_familiarity(X, groups, data.y.astype(str))
        elsewhere = {key: everything.scores(rows) for key, rows in outside.items()}
        pooled_correct = np.r_[correct, nemo_correct]
        pooled_familiar, pooled_confident = np.r_[held["inside"], elsewhere["nemo"]], np.r_[confidence, proba.max(axis=1)]
        figures["report"][name] = {
            "n": {"ravdess_held_out": int(len(correct)), "nemo": int(len(nemo_correct)),
                  "nonspeech": int(len(outside["nonspeech"]))},
            "risk_coverage": {"coverage": list(COVERAGES), "familiar": risk_coverage(correct, held["inside"]),
                              "confident": risk_coverage(correct, confidence)},
            "auroc": {key: auroc(held["inside"], value) for key, value in elsewhere.items()},
            "flagged": {"ravdess_held_out": float(np.mean(held["inside"] < CAUTION_BELOW)),
                        **{key: float(np.mean(value < CAUTION_BELOW)) for key, value in elsewhere.items()}},
            "pooled": {"all": float(pooled_correct.mean()), "nemo_accuracy": float(nemo_correct.mean()),
                       "familiar_50": risk_coverage(pooled_correct, pooled_familiar, (0.5,))[0],
                       "confident_50": risk_coverage(pooled_correct, pooled_confident, (0.5,))[0],
                       "nemo_share_of_familiar_50": float(np.mean(np.argsort(-pooled_familiar, kind="stable")[: len(pooled_correct) // 2] >= len(correct)))},
        }
    _print(figures)
    if args.figure:
        from serkit.report import risk_coverage_figure

        curve = figures["report"]["in use"]["risk_coverage"]
        risk_coverage_figure({f"most {key}": dict(zip(curve["coverage"], curve[key])) for key in ("familiar", "confident")},
                             title="Held-out actors 11-20: top k %").savefig(args.figure, dpi=100)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, default=float) + "\n")
    return 0


def _print(figures: dict) -> None:
    if "choice" in figures:
        print("choice split (RAVDESS actors 01-10 held out in 5 folds; nEMO development speakers):")
        print("| emotion part's components | global weight | 50 % most familiar vs all | AUROC vs nEMO |")
        print("| --- | --- | --- | --- |")
        for row in figures["choice"]["rows"]:
            print(f"| {row['discriminant_components'] or 'none (global part alone)'} | {row['weight']} | "
                  f"{row['gain']:+.1f} points | {row['auroc_nemo']:.3f} |")
        print(f"chosen: {figures['choice']['chosen']}; in use: {figures['choice']['in_use']}\n")
    t = figures["threshold"]
    print("caution threshold on the choice split (flagged: held-out RAVDESS / nEMO development):",
          ", ".join(f"{k:.1%}: {v['ravdess_held_out']:.1%} / {v['nemo_dev']:.1%}" for k, v in t["flagged"].items()),
          f"→ chosen {t['chosen']}, in use {t['in_use']}\n")
    for name, row in figures["report"].items():
        curve, n = row["risk_coverage"], row["n"]
        print(f"report split, familiarity {name}: held-out RAVDESS actors 11-20 ({n['ravdess_held_out']} clips), accuracy of the top k %")
        print("| k | " + " | ".join(f"{c:.0%}" for c in curve["coverage"]) + " |")
        for key in ("familiar", "confident"):
            print(f"| most {key} | " + " | ".join(f"{v:.1%}" for v in curve[key]) + " |")
        everything, half = curve["familiar"][0], curve["familiar"][5]
        pooled = row["pooled"]
        print(f"| 50 % most familiar vs all, held-out actors | {half:.1%} vs {everything:.1%} ({100 * (half - everything):+.1f} points) |")
        print(f"| pooled held-out RAVDESS + nEMO ({n['nemo']} clips, {pooled['nemo_accuracy']:.1%} right): 50 % most familiar vs all | "
              f"{pooled['familiar_50']:.1%} vs {pooled['all']:.1%} ({100 * (pooled['familiar_50'] - pooled['all']):+.1f} points; "
              f"nEMO {pooled['nemo_share_of_familiar_50']:.1%} of them); 50 % most confident {pooled['confident_50']:.1%} |")
        print(f"| AUROC held-out RAVDESS vs nEMO / non-speech ({n['nonspeech']} clips) | {row['auroc']['nemo']:.3f} / {row['auroc']['nonspeech']:.3f} |")
        print(f"| flagged at the caution threshold: held-out RAVDESS / nEMO / non-speech | "
              f"{row['flagged']['ravdess_held_out']:.1%} / {row['flagged']['nemo']:.1%} / {row['flagged']['nonspeech']:.1%} |\n")


if __name__ == "__main__":
    sys.exit(main())
