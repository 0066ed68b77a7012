"""Source adaptation and the multi-corpus model on RAVDESS + nEMO: evidence, choice, headline.

Four parts, each printing its figures (``--part``):

- ``clips``: how the user-visible UA (argmax over all the model's emotions) varies with
  the number of clips whose statistics adapt a held-out corpus (random draws of k clips
  of the test corpus, 10 draws each): the evidence for :data:`serkit.adaptation.MIN_CLIPS`.
- ``spread``: the :func:`serkit.adaptation.spread` of every speaker holding all their
  emotions against the spread of each speaker's clips of one emotion: how often the
  one-emotion batches fall under the floor (the least all-emotion speaker's spread).
- ``select``: every candidate (adaptation grain, balance, feature columns) scored on a
  development split only: RAVDESS actors 01-10 and nEMO's first 5 speakers. The score is
  the mean of four user-visible UAs: each corpus's inner speaker folds (3, the other
  corpus's development speakers in training) and the two leave-one-corpus-out cells
  between the development halves. C is chosen inside every fit by ``logreg-tuned``'s
  inner speaker folds. The other speakers are never looked at.
- ``headline``: the chosen configuration's figures, the issue's table: RAVDESS 5 actor
  folds and nEMO 3 speaker folds with the other corpus in training; RAVDESS→nEMO and
  nEMO→RAVDESS with the argmax over all the model's emotions beside the argmax over the
  test corpus's; ECE on the held-out corpus; the same on the test halves only (speakers
  the selection never saw).

Adapted figures standardise each test source by its own statistics (a held-out corpus,
or a fold's held-out speakers, as one source); "plain" standardises it by the pooled
training statistics, as a single clip without source statistics is.

    nice -n 10 python benchmarks/bench_adaptation.py --part clips spread select headline

Features come through serkit's cache (``$SERKIT_CACHE_DIR`` or the user cache): the
first run extracts ``whisper+functionals`` for both corpora (3276 clips).
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = {"ravdess": SHARED / "ravdess-speech", "nemo": SHARED / "nemo"}
FEATURE_SET = "whisper+functionals"
MODEL = "logreg-tuned"
COLUMN_SETS = ("all", "functionals", "whisper")
DEV_SPEAKERS = {"ravdess": 10, "nemo": 5}
"""The first N speakers (sorted) of each corpus form the development split."""


def load(cache_dir=None) -> dict:
    from serkit.corpora import read_corpus
    from serkit.evaluation import dataset_from_extraction
    from serkit.features import extract_corpus

    datasets = {}
    for name, root in CORPORA.items():
        table = read_corpus(name, root)
        extraction = extract_corpus(table, FEATURE_SET, n_jobs=1, cache_dir=cache_dir, progress=sys.stderr.isatty())
        datasets[name], _ = dataset_from_extraction(table, extraction)
    return datasets


def subset(data, rows=None, columns=None):
    """``data`` restricted to ``rows`` (indices) and feature ``columns`` (a :data:`COLUMN_SETS` name)."""
    from serkit.evaluation import Dataset

    rows = np.arange(len(data.y)) if rows is None else rows
    keep = np.ones(len(data.columns), bool)
    if columns not in (None, "all"):
        keep = np.array([c.startswith("whisper") == (columns == "whisper") for c in data.columns])
    return Dataset(data.X[np.ix_(rows, np.flatnonzero(keep))], data.y[rows], data.groups[rows],
                   [c for c, k in zip(data.columns, keep) if k], data.corpus)


def split_speakers(datasets):
    """``(development, test)`` datasets: the first :data:`DEV_SPEAKERS` speakers of each corpus, the rest."""
    dev, test = {}, {}
    for name, data in datasets.items():
        speakers = sorted(set(data.groups.astype(str)))
        inside = np.isin(data.groups.astype(str), speakers[: DEV_SPEAKERS[name]])
        dev[name], test[name] = subset(data, np.flatnonzero(inside)), subset(data, np.flatnonzero(~inside))
    return dev, test


def cells(datasets, *, adapt, balance, n_splits, within=True):
    """The pooled model's speaker folds on each corpus and the two leave-one-corpus-out cells."""
    from serkit.crosscorpus import cross_corpus_matrix

    names = list(datasets)
    found = {}
    if within:
        pooled = cross_corpus_matrix(MODEL, datasets, [names], names, n_splits=n_splits, adapt=adapt, balance=balance,
                                     progress=False)
        found.update({f"{'+'.join(names)}→{c['test']}": c for c in pooled.cells})
    loco = cross_corpus_matrix(MODEL, datasets, [[name] for name in names], names, adapt=adapt, balance=balance,
                               progress=False)
    found.update({f"{c['train']}→{c['test']}": c for c in loco.cells if c["protocol"] == "cross-corpus"})
    return found


def part_clips(datasets, adapt="corpus", draws=10) -> dict:
    """User-visible UA of a held-out corpus adapted by the statistics of k of its clips."""
    from serkit.adaptation import SourceStatistics, adapt_training
    from serkit.crosscorpus import _all_emotions_ua
    from serkit.models import fit_model, make_model

    rng = np.random.default_rng(0)
    table = {}
    for train, test in (("ravdess", "nemo"), ("nemo", "ravdess")):
        source, target = datasets[train], datasets[test]
        X, pooled = adapt_training(source.X, adapt, np.full(len(source.y), train), source.groups)
        model = fit_model(make_model(MODEL), X, source.y.astype(str), source.groups.astype(str))
        classes = [str(c) for c in model.classes_]
        shared = np.isin(target.y.astype(str), classes)
        X_test, y_test = target.X[shared], target.y[shared].astype(str)
        row = {"plain (pooled training statistics)": _all_emotions_ua(y_test, model.predict_proba(pooled["pooled"].apply(X_test)), classes)}
        for k in (2, 4, 8, 16, 32, 64, len(y_test)):
            scores = []
            for _ in range(draws if k < len(y_test) else 1):
                stats = SourceStatistics.of(X_test[rng.choice(len(y_test), size=k, replace=False)])
                scores.append(_all_emotions_ua(y_test, model.predict_proba(stats.apply(X_test)), classes))
            row[f"k={k}"] = (float(np.mean(scores)), float(np.std(scores)))
        table[f"{train}→{test}"] = row
    for cell, row in table.items():
        print(f"\n{cell}: user-visible UA (%) with the statistics of k random test clips ({draws} draws)")
        for key, value in row.items():
            text = f"{100 * value:.1f}" if isinstance(value, float) else f"{100 * value[0]:.1f} ± {100 * value[1]:.1f}"
            print(f"  {key:<36} {text}")
    return table


def part_spread(datasets) -> dict:
    """Spread of all-emotion speakers vs one-emotion batches of a speaker, against the pooled scale."""
    from serkit.adaptation import SourceStatistics, spread

    X = np.concatenate([data.X for data in datasets.values()])
    reference = SourceStatistics.of(X).scale
    full, single = [], []
    for name, data in datasets.items():
        for speaker in np.unique(data.groups.astype(str)):
            rows = data.groups.astype(str) == speaker
            full.append(spread(data.X[rows], reference))
            for emotion in np.unique(data.y[rows]):
                single.append(spread(data.X[rows & (data.y == emotion)], reference))
    floor = min(full)
    flagged = float(np.mean(np.array(single) < floor))
    print(f"\nspread against the pooled scale: {len(full)} all-emotion speakers {min(full):.3f}–{max(full):.3f} "
          f"(median {np.median(full):.3f}); {len(single)} one-emotion speaker batches {min(single):.3f}–{max(single):.3f} "
          f"(median {np.median(single):.3f}); under the floor {floor:.3f}: {100 * flagged:.0f} % of the one-emotion batches")
    return {"all_emotion": full, "one_emotion": single, "floor": floor, "flagged": flagged}


def part_select(datasets) -> dict:
    """Every candidate on the development split; the best by the mean user-visible UA."""
    dev, _ = split_speakers(datasets)
    candidates = [(adapt, balance, "all") for adapt in ("none", "corpus", "speaker") for balance in ("corpus", "none")]
    scores = {}
    for adapt, balance, columns in candidates + [None, None]:
        if adapt is None:  # the columns, once the grain and balance are chosen
            best = max(scores, key=scores.get)
            adapt, balance = best[0], best[1]
            columns = next(c for c in COLUMN_SETS if (adapt, balance, c) not in scores)
        found = cells({name: subset(data, columns=columns) for name, data in dev.items()}, adapt=adapt,
                      balance=balance, n_splits=3)
        figures = [cell["unweighted_accuracy_all"] for cell in found.values()]
        scores[(adapt, balance, columns)] = float(np.mean(figures))
        print(f"adapt {adapt:<8} balance {balance:<7} columns {columns:<12} "
              + "  ".join(f"{key} {100 * cell['unweighted_accuracy_all']:.1f}" for key, cell in found.items())
              + f"  → mean {100 * scores[(adapt, balance, columns)]:.1f}", flush=True)
    best = max(scores, key=scores.get)
    print(f"chosen: adapt {best[0]}, balance {best[1]}, columns {best[2]}")
    return {"scores": {" ".join(key): value for key, value in scores.items()}, "chosen": best}


def part_headline(datasets, adapt, balance, columns) -> dict:
    """The issue's table for the chosen configuration."""
    data = {name: subset(d, columns=columns) for name, d in datasets.items()}
    found = cells({"ravdess": data["ravdess"], "nemo": data["nemo"]}, adapt=adapt, balance=balance, n_splits=5)
    nemo3 = cells(data, adapt=adapt, balance=balance, n_splits=3)["ravdess+nemo→nemo"]
    _, test = split_speakers(data)
    halves = cells(test, adapt=adapt, balance=balance, n_splits=3, within=False)
    rows = [("RAVDESS speaker-independent UA (5 actor folds, nEMO in training)", found["ravdess+nemo→ravdess"], "unweighted_accuracy"),
            ("nEMO speaker-independent UA (3 speaker folds, RAVDESS in training)", nemo3, "unweighted_accuracy"),
            ("RAVDESS → nEMO, user-visible UA (argmax over all the model's emotions)", found["ravdess→nemo"], "unweighted_accuracy_all"),
            ("RAVDESS → nEMO, UA (argmax over nEMO's emotions)", found["ravdess→nemo"], "unweighted_accuracy"),
            ("nEMO → RAVDESS, user-visible UA", found["nemo→ravdess"], "unweighted_accuracy_all"),
            ("nEMO → RAVDESS, UA (argmax over RAVDESS's emotions)", found["nemo→ravdess"], "unweighted_accuracy"),
            ("ECE on the held-out corpus, RAVDESS → nEMO", found["ravdess→nemo"], "ece_all"),
            ("ECE on the held-out corpus, nEMO → RAVDESS", found["nemo→ravdess"], "ece_all"),
            ("test halves only: RAVDESS → nEMO, user-visible UA", halves["ravdess→nemo"], "unweighted_accuracy_all"),
            ("test halves only: nEMO → RAVDESS, user-visible UA", halves["nemo→ravdess"], "unweighted_accuracy_all")]
    print(f"\n{MODEL}, {FEATURE_SET} ({columns} columns), adapt {adapt}, balance {balance}")
    print(f"{'figure':<76} {'adapted':>8} {'plain':>8}")
    table = {}
    for title, cell, key in rows:
        adapted, plain = cell[key], cell.get(f"{key}_fallback", cell[key])
        spread = f" ± {100 * cell['unweighted_accuracy_std']:.1f}" if key == "unweighted_accuracy" and "unweighted_accuracy_std" in cell else ""
        print(f"{title:<76} {100 * adapted:>7.1f}%{spread} {100 * plain:>7.1f}%")
        table[title] = {"adapted": adapted, "plain": plain}
    return table


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", nargs="+", choices=("clips", "spread", "select", "headline"), default=["select", "headline"])
    parser.add_argument("--adapt", help="headline: the grain (default: the one select chose, else corpus)")
    parser.add_argument("--balance", default=None)
    parser.add_argument("--columns", default=None, choices=COLUMN_SETS)
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, help="write every part's figures here")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    datasets = load(args.cache_dir)
    results = {}
    if "clips" in args.part:
        results["clips"] = part_clips(datasets)
    if "spread" in args.part:
        results["spread"] = part_spread(datasets)
    chosen = ("corpus", "corpus", "all")
    if "select" in args.part:
        results["select"] = part_select(datasets)
        chosen = results["select"]["chosen"]
    if "headline" in args.part:
        results["headline"] = part_headline(datasets, args.adapt or chosen[0], args.balance or chosen[1],
                                            args.columns or chosen[2])
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
