"""Familiarity: does it pick out the clips the model gets right, and the audio it never learnt?

On the shared RAVDESS, 5 speaker-grouped folds: each fold's model (``logreg-tuned`` on
``whisper+functionals``, the bundled recipe) and familiarity statistics are fitted on
the training actors only; the held-out actors' clips get a prediction, a confidence
(the top probability) and a familiarity score. The table gives:

- the risk-coverage curve: accuracy of the most familiar / most confident k % of the
  held-out clips (k = 100 … 10), and the target figure, the 50 % most familiar against all;
- how the caution separates in-domain from out-of-domain audio: the share of held-out
  RAVDESS clips and of nEMO clips (Polish, another corpus: a sample of ``--nemo-clips``,
  scored by a model and statistics fitted on all of RAVDESS) below each threshold;
- the component count and the caution threshold chosen on these held-out figures
  (``--choose``): the count with the best separation (AUROC, RAVDESS held out against
  nEMO), the threshold with the most nEMO clips flagged while at most 5 % of held-out
  RAVDESS clips are.

    python benchmarks/bench_familiarity.py
    python benchmarks/bench_familiarity.py --choose --nemo-clips 300
    python benchmarks/bench_familiarity.py --figure docs/images/risk-coverage.png

Features come through serkit's cache (the first run extracts them: minutes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
COVERAGES = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1)
THRESHOLDS = (0.005, 0.01, 0.02, 0.05, 0.1)
COMPONENTS = (8, 16, 32, 64)
MAX_FLAGGED_IN_DOMAIN = 0.05


def held_out_scores(dataset, *, n_components: int, n_splits: int = 5, seed: int = 0) -> dict:
    """Per held-out clip: correct or not, confidence, familiarity (5 speaker folds)."""
    from serkit.evaluation.protocols import split_indices
    from serkit.inference.familiarity import fit_familiarity
    from serkit.models.registry import fit_model, make_model

    X, y, groups = dataset.X, dataset.y, dataset.groups
    correct, confidence, familiarity = (np.empty(len(y)) for _ in range(3))
    for train, test in split_indices("speaker", y, groups, n_splits=n_splits, random_state=seed):
        model = fit_model(make_model("logreg-tuned", random_state=seed), X[train], y[train], groups[train])
        proba = model.predict_proba(X[test])
        correct[test] = model.classes_[proba.argmax(axis=1)] == y[test]
        confidence[test] = proba.max(axis=1)
        familiarity[test] = fit_familiarity(X[train], groups[train], n_components=n_components).scores(X[test])
    return {"correct": correct, "confidence": confidence, "familiarity": familiarity}


def accuracy_at(correct, score, coverage: float) -> float:
    """Accuracy of the ``coverage`` share of clips with the highest ``score`` (ties by order).

    >>> accuracy_at(np.array([1, 0, 1, 0]), np.array([0.9, 0.1, 0.8, 0.2]), 0.5)
    1.0
    """
    keep = np.argsort(-score, kind="stable")[: max(1, int(round(coverage * len(score))))]
    return float(np.mean(correct[keep]))


def auroc(inside, outside) -> float:
    """Probability that an in-domain clip is more familiar than an out-of-domain one."""
    inside, outside = np.asarray(inside), np.asarray(outside)
    wins = (inside[:, None] > outside[None, :]).mean() + 0.5 * (inside[:, None] == outside[None, :]).mean()
    return float(wins)


def nemo_features(root: Path, n_clips: int, seed: int) -> np.ndarray:
    """``whisper+functionals`` of a seeded sample of nEMO clips (through the cache)."""
    from serkit.corpora import read_corpus
    from serkit.features.batch import extract_files

    table = read_corpus("nemo", root)
    paths = table.absolute_paths()
    chosen = np.random.default_rng(seed).choice(len(paths), min(n_clips, len(paths)), replace=False)
    results = extract_files([Path(paths[i]) for i in sorted(chosen)], "whisper+functionals", n_jobs=1)
    return np.array([r.value for r in results if r.value is not None])


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ravdess", type=Path, default=SHARED / "ravdess-speech")
    parser.add_argument("--nemo", type=Path, default=SHARED / "nemo")
    parser.add_argument("--nemo-clips", type=int, default=300)
    parser.add_argument("--choose", action="store_true", help="also try each component count (slower)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--figure", type=Path, help="draw the risk-coverage curve here (docs/images/risk-coverage.png)")
    args = parser.parse_args(argv)

    from serkit.evaluation.dataset import dataset_from_corpus
    from serkit.inference.familiarity import CAUTION_BELOW, N_COMPONENTS, fit_familiarity

    dataset, _ = dataset_from_corpus(args.ravdess, corpus="ravdess", feature_set="whisper+functionals",
                                     progress=sys.stderr.isatty())
    nemo = nemo_features(args.nemo, args.nemo_clips, args.seed)
    figures = {"components": {}}
    for k in (COMPONENTS if args.choose else (N_COMPONENTS,)):
        held = held_out_scores(dataset, n_components=k, seed=args.seed)
        outside = fit_familiarity(dataset.X, dataset.groups, n_components=k).scores(nemo)
        figures["components"][k] = {
            "auroc_ravdess_vs_nemo": auroc(held["familiarity"], outside),
            "risk_coverage": {f"{c:.0%}": {"familiar": accuracy_at(held["correct"], held["familiarity"], c),
                                           "confident": accuracy_at(held["correct"], held["confidence"], c)}
                              for c in COVERAGES},
            "flagged": {str(t): {"ravdess_held_out": float(np.mean(held["familiarity"] < t)),
                                 "nemo": float(np.mean(outside < t))} for t in THRESHOLDS},
        }
        print(f"components {k}: AUROC RAVDESS held out vs nEMO {figures['components'][k]['auroc_ravdess_vs_nemo']:.3f}",
              file=sys.stderr)
    chosen_k = max(figures["components"], key=lambda k: figures["components"][k]["auroc_ravdess_vs_nemo"])
    flagged = figures["components"][chosen_k]["flagged"]
    allowed = [t for t in THRESHOLDS if flagged[str(t)]["ravdess_held_out"] <= MAX_FLAGGED_IN_DOMAIN]
    figures["chosen"] = {"components": chosen_k,
                         "caution_below": max(allowed, key=lambda t: (flagged[str(t)]["nemo"], -t)) if allowed else None,
                         "in_use": {"components": N_COMPONENTS, "caution_below": CAUTION_BELOW}}
    _print(figures, len(dataset.y), len(nemo))
    if args.figure:
        from serkit.report import risk_coverage_figure

        curve = figures["components"][N_COMPONENTS if N_COMPONENTS in figures["components"] else chosen_k]["risk_coverage"]
        risk_coverage_figure({name: {c: v[name.split()[-1]] for c, v in curve.items()} for name in ("most familiar", "most confident")},
                             title="Held-out RAVDESS folds: accuracy of the top k %").savefig(args.figure, dpi=100)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n")
    return 0


def _print(figures: dict, n_ravdess: int, n_nemo: int) -> None:
    k = figures["chosen"]["in_use"]["components"]
    row = figures["components"].get(k) or figures["components"][figures["chosen"]["components"]]
    curve = row["risk_coverage"]
    print(f"risk-coverage on held-out RAVDESS folds ({n_ravdess} clips), accuracy of the top k %:")
    print("| k | most familiar | most confident |")
    print("| --- | --- | --- |")
    for coverage, values in curve.items():
        print(f"| {coverage} | {values['familiar']:.1%} | {values['confident']:.1%} |")
    gain = (curve["50%"]["familiar"] - curve["100%"]["familiar"]) * 100
    print(f"\n| 50 % most familiar vs all, held-out folds | {curve['50%']['familiar']:.1%} vs "
          f"{curve['100%']['familiar']:.1%} ({gain:+.1f} points) | target ≥ +10 points |")
    print(f"| familiarity AUROC, held-out RAVDESS vs nEMO ({n_nemo} clips) | {row['auroc_ravdess_vs_nemo']:.3f} | |")
    for threshold, shares in row["flagged"].items():
        print(f"| caution below {float(threshold):.1%}: flagged | RAVDESS held out {shares['ravdess_held_out']:.1%}, "
              f"nEMO {shares['nemo']:.1%} | |")
    print(f"\nchosen on these held-out figures: {figures['chosen']}")


if __name__ == "__main__":
    sys.exit(main())
