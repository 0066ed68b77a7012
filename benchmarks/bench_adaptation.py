"""Source adaptation and the multi-corpus model on RAVDESS + nEMO: evidence, choice, headline.

Four parts, each printing its figures (``--part``):

- ``clips``: how the user-visible UA (argmax over all the model's emotions) varies with
  the number of clips whose statistics adapt a held-out corpus (random draws of k clips
  of the test corpus, 10 draws each): the evidence for :data:`serkit.features.adaptation.MIN_CLIPS`.
- ``spread``: the :func:`serkit.features.adaptation.spread` of every speaker holding all their
  emotions against the spread of each speaker's clips of one emotion: how often the
  one-emotion batches fall under the floor (the least all-emotion speaker's spread).
- ``select``: the candidates (adaptation grain; then C and the balance at the best grain)
  scored on a development split only: RAVDESS actors 01-10 and nEMO's first 5 speakers.
  The score is the mean of four user-visible UAs: each corpus's inner speaker folds (2,
  the other corpus's development speakers in training) and the two leave-one-corpus-out
  cells between the development halves. The other speakers are never looked at.
- ``plain``: each adaptation grain's single-clip (plain) UA beside its adapted ones, on the
  development split only: trained on its nEMO speakers and RAVDESS actors 01-08, tested on
  actors 09-10 (the mode the ``select`` score left out).
- ``robust``: held-out RAVDESS speakers (the first of the 5 actor folds, ``--robust-actors``
  of them) clean, with white noise at 10 dB SNR and through a telephone band (8 kHz,
  300-3400 Hz), predicted by the chosen configuration trained on everything else.
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
MODEL = "logreg"
C_VALUES = (0.01, 0.1)
"""The logistic regression's C: chosen on the development split with the rest."""
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


def subset(data, rows=None):
    """``data`` restricted to ``rows`` (indices)."""
    from serkit.evaluation import Dataset

    rows = np.arange(len(data.y)) if rows is None else rows
    return Dataset(data.X[rows], data.y[rows], data.groups[rows], data.columns, data.corpus)


def split_speakers(datasets):
    """``(development, test)`` datasets: the first :data:`DEV_SPEAKERS` speakers of each corpus, the rest."""
    dev, test = {}, {}
    for name, data in datasets.items():
        speakers = sorted(set(data.groups.astype(str)))
        inside = np.isin(data.groups.astype(str), speakers[: DEV_SPEAKERS[name]])
        dev[name], test[name] = subset(data, np.flatnonzero(inside)), subset(data, np.flatnonzero(~inside))
    return dev, test


def matrix(datasets, train_sets, test_sets, config, n_splits=5, test_grain=None):
    """The cells of :func:`serkit.evaluation.crosscorpus.cross_corpus_matrix` for ``config`` (adapt, balance, C), by ``train→test``."""
    from serkit.evaluation.crosscorpus import cross_corpus_matrix

    adapt, balance, C = config
    result = cross_corpus_matrix(MODEL, datasets, train_sets, test_sets, n_splits=n_splits, adapt=adapt,
                                 balance=balance, params={"C": C}, progress=False, test_grain=test_grain)
    return {f"{c['train']}→{c['test']}": c for c in result.cells}


def loco(datasets, config, test_grain=None):
    """The two leave-one-corpus-out cells."""
    return {key: cell for key, cell in matrix(datasets, [["ravdess"], ["nemo"]], ["ravdess", "nemo"], config,
                                              test_grain=test_grain).items()
            if cell["protocol"] == "cross-corpus"}


def part_clips(datasets, config, draws=10) -> dict:
    """User-visible UA of a held-out corpus adapted by the statistics of k of its clips."""
    from serkit.features.adaptation import SourceStatistics, adapt_training
    from serkit.evaluation.crosscorpus import _all_emotions_ua
    from serkit.models import fit_model, make_model

    rng = np.random.default_rng(0)
    table = {}
    for train, test in (("ravdess", "nemo"), ("nemo", "ravdess")):
        source, target = datasets[train], datasets[test]
        X, pooled = adapt_training(source.X, config[0], np.full(len(source.y), train), source.groups)
        model = fit_model(make_model(MODEL, C=config[2]), X, source.y.astype(str), source.groups.astype(str))
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
    from serkit.features.adaptation import SourceStatistics, spread

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
    """The candidates on the development split, and the choice.

    Each candidate gets two means over the development cells (two pooled speaker folds
    per corpus, both leave-one-corpus-out cells) of the user-visible UA: *single clip*
    (the pooled training statistics: a user's first recording) and *adapted*. The
    choice is the adapting candidate (a grain other than none) with the best single-clip
    mean; within one point of it, the better adapted mean.
    """
    dev, _ = split_speakers(datasets)
    scores = {}

    def score(config):
        found = {**matrix(dev, [["ravdess", "nemo"]], ["ravdess", "nemo"], config, n_splits=2), **loco(dev, config)}
        adapted = float(np.mean([cell["unweighted_accuracy_all"] for cell in found.values()]))
        single = float(np.mean([cell.get("unweighted_accuracy_all_fallback", cell["unweighted_accuracy_all"])
                                for cell in found.values()]))
        scores[config] = (single, adapted)
        print(f"adapt {config[0]:<8} balance {config[1]:<7} C {config[2]:<5} "
              + "  ".join(f"{key} {100 * cell['unweighted_accuracy_all']:.1f} (ECE {100 * cell['ece_all']:.1f})"
                          for key, cell in found.items())
              + f"  → single clip {100 * single:.1f}, adapted {100 * adapted:.1f}", flush=True)

    def chosen(candidates):
        top = max(scores[c][0] for c in candidates)
        return max((c for c in candidates if scores[c][0] >= top - 0.01), key=lambda c: scores[c][1])

    for adapt in ("none", "corpus", "speaker"):
        score((adapt, "corpus", C_VALUES[0]))
    grain = chosen([c for c in scores if c[0] != "none"])[0]
    for config in [(grain, "corpus", C) for C in C_VALUES[1:]] + [(grain, "none", C_VALUES[0])]:
        score(config)
    best = chosen([c for c in scores if c[0] != "none"])
    print(f"chosen: adapt {best[0]}, balance {best[1]}, C {best[2]}")
    return {"scores": {" ".join(map(str, key)): value for key, value in scores.items()}, "chosen": best}


def part_headline(datasets, config) -> dict:
    """The issue's table for the chosen configuration."""
    ravdess5 = matrix(datasets, [["ravdess", "nemo"]], ["ravdess"], config, n_splits=5)["ravdess+nemo→ravdess"]
    nemo3 = matrix(datasets, [["ravdess", "nemo"]], ["nemo"], config, n_splits=3)["ravdess+nemo→nemo"]
    found = loco(datasets, config)
    halves = loco(split_speakers(datasets)[1], config)
    if config[0] == "speaker":  # adapted to the held-out corpus as one source (a folder, no speaker ids)
        as_source = loco(datasets, config, test_grain="corpus")
        rows_source = [("RAVDESS → nEMO, user-visible UA, nEMO adapted as one source", as_source["ravdess→nemo"], "unweighted_accuracy_all"),
                       ("nEMO → RAVDESS, user-visible UA, RAVDESS adapted as one source", as_source["nemo→ravdess"], "unweighted_accuracy_all")]
    else:
        rows_source = []
    rows = [("RAVDESS speaker-independent UA (5 actor folds, nEMO in training)", ravdess5, "unweighted_accuracy"),
            ("nEMO speaker-independent UA (3 speaker folds, RAVDESS in training)", nemo3, "unweighted_accuracy"),
            ("RAVDESS → nEMO, user-visible UA (argmax over all the model's emotions)", found["ravdess→nemo"], "unweighted_accuracy_all"),
            ("RAVDESS → nEMO, UA (argmax over nEMO's emotions)", found["ravdess→nemo"], "unweighted_accuracy"),
            ("nEMO → RAVDESS, user-visible UA", found["nemo→ravdess"], "unweighted_accuracy_all"),
            ("nEMO → RAVDESS, UA (argmax over RAVDESS's emotions)", found["nemo→ravdess"], "unweighted_accuracy"),
            ("ECE on the held-out corpus, RAVDESS → nEMO", found["ravdess→nemo"], "ece_all"),
            ("ECE on the held-out corpus, nEMO → RAVDESS", found["nemo→ravdess"], "ece_all"),
            ("test halves only: RAVDESS → nEMO, user-visible UA", halves["ravdess→nemo"], "unweighted_accuracy_all"),
            ("test halves only: nEMO → RAVDESS, user-visible UA", halves["nemo→ravdess"], "unweighted_accuracy_all"),
            *rows_source]
    print(f"\n{MODEL} C={config[2]}, {FEATURE_SET}, adapt {config[0]}, balance {config[1]}")
    print(f"{'figure':<76} {'adapted':>14} {'plain':>8}")
    table = {}
    for title, cell, key in rows:
        adapted, plain = cell[key], cell.get(f"{key}_fallback", cell[key])
        folds = f" ± {100 * cell['unweighted_accuracy_std']:.1f}" if key == "unweighted_accuracy" and "unweighted_accuracy_std" in cell else ""
        print(f"{title:<76} {f'{100 * adapted:.1f}{folds} %':>14} {100 * plain:>7.1f}%")
        table[title] = {"adapted": adapted, "plain": plain}
    return table


def part_plain(datasets, balance="corpus", C=0.01) -> dict:
    """Single-clip and adapted UA of two held-out development actors, per training grain."""
    from serkit.evaluation.crosscorpus import _all_emotions_ua
    from serkit.evaluation.pooling import training_weights
    from serkit.features.adaptation import SourceAdapter, adapt_training
    from serkit.models import fit_model, make_model

    dev, _ = split_speakers(datasets)
    rav, nemo = dev["ravdess"], dev["nemo"]
    held = np.isin(rav.groups.astype(str), sorted(set(rav.groups.astype(str)))[-2:])
    X = np.concatenate([rav.X[~held], nemo.X])
    y = np.concatenate([rav.y[~held], nemo.y]).astype(str)
    speakers = np.concatenate([np.char.add("ravdess/", rav.groups[~held].astype(str)), np.char.add("nemo/", nemo.groups.astype(str))])
    corpus = np.array(["ravdess"] * int((~held).sum()) + ["nemo"] * len(nemo.y))
    X_test, y_test, g_test = rav.X[held], rav.y[held].astype(str), rav.groups[held].astype(str)
    table = {}
    print("\ntwo held-out development actors, user-visible UA (%): plain / as one source / per speaker")
    for grain in ("none", "corpus", "speaker"):
        X_fit, adaptation = adapt_training(X, grain, corpus, speakers)
        model = fit_model(make_model(MODEL, C=C), X_fit, y, speakers, sample_weight=training_weights(corpus, y, balance))
        classes = [str(c) for c in model.classes_]
        ua = {"plain": _all_emotions_ua(y_test, model.predict_proba(adaptation["pooled"].apply(X_test) if adaptation else X_test), classes)}
        if adaptation:
            ua["as one source"] = _all_emotions_ua(y_test, model.predict_proba(SourceAdapter().fit_transform(X_test)), classes)
            ua["per speaker"] = _all_emotions_ua(y_test, model.predict_proba(SourceAdapter().fit_transform(X_test, g_test)), classes)
        table[grain] = ua
        print(f"  trained per {grain:<8} " + " / ".join(f"{100 * v:.1f}" for v in ua.values()), flush=True)
    return table


def corrupt(y, sr, condition, rng):
    """``y`` with white noise at 10 dB SNR, or through a telephone band (:mod:`serkit.features.augment`;
    ``benchmarks/bench_robust.py`` measures every corruption on a whole held-out fold)."""
    from serkit.features.augment import Condition

    name = {"clean": "clean", "noise 10 dB": "white@10", "telephone": "telephone"}[condition]
    return Condition.parse(name).apply(y, sr, rng)


def part_robust(datasets, config, n_actors=4) -> dict:
    """UA of held-out RAVDESS actors, clean and corrupted, trained on everything else."""
    from serkit.features.adaptation import SourceAdapter, adapt_training
    from serkit.core.audio import load_audio
    from serkit.evaluation.crosscorpus import _all_emotions_ua
    from serkit.evaluation import split_indices
    from serkit.features import get_feature_set
    from serkit.models import fit_model, make_model
    from serkit.evaluation.pooling import training_weights

    rav, nemo = datasets["ravdess"], datasets["nemo"]
    train, test = split_indices("speaker", rav.y, rav.groups, n_splits=5, random_state=0)[0]
    actors = sorted(set(rav.groups[test].astype(str)))[:n_actors]
    test = test[np.isin(rav.groups[test].astype(str), actors)]
    adapt, balance, C = config
    X = np.concatenate([rav.X[train], nemo.X])
    y = np.concatenate([rav.y[train], nemo.y]).astype(str)
    speakers = np.concatenate([np.char.add("ravdess/", rav.groups[train].astype(str)), np.char.add("nemo/", nemo.groups.astype(str))])
    corpus = np.array(["ravdess"] * len(train) + ["nemo"] * len(nemo.y))
    X_fit, adaptation = adapt_training(X, adapt, corpus, speakers)
    model = fit_model(make_model(MODEL, C=C), X_fit, y, speakers, sample_weight=training_weights(corpus, y, balance))
    classes = [str(c) for c in model.classes_]
    feature_set = get_feature_set(FEATURE_SET)
    rng = np.random.default_rng(0)
    y_test = rav.y[test].astype(str)
    results = {}
    print(f"\nheld-out RAVDESS actors {', '.join(actors)} ({len(test)} clips); trained on the other actors and nEMO")
    for condition in ("clean", "noise 10 dB", "telephone"):
        rows = []
        for index in test:
            audio, _ = load_audio(CORPORA["ravdess"] / str(rav.meta["path"].iloc[index]), sr=feature_set.sr)
            rows.append(feature_set.from_audio(corrupt(audio, feature_set.sr, condition, rng), feature_set.sr))
        X_test = np.array(rows)
        figures = {"plain": _all_emotions_ua(y_test, model.predict_proba(
            adaptation["pooled"].apply(X_test) if adaptation else X_test), classes)}
        if adaptation:
            figures["adapted"] = _all_emotions_ua(y_test, model.predict_proba(SourceAdapter().fit_transform(X_test)), classes)
        results[condition] = figures
        print(f"  {condition:<12} " + "  ".join(f"{k} {100 * v:.1f}%" for k, v in figures.items()), flush=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--part", nargs="+", choices=("spread", "select", "plain", "clips", "headline", "robust"),
                        default=["spread", "select", "clips", "headline"])
    parser.add_argument("--config", nargs=3, metavar=("ADAPT", "BALANCE", "C"),
                        help="clips/robust/headline: the configuration (default: the one select chose, else corpus corpus 0.01)")
    parser.add_argument("--robust-actors", type=int, default=4, help="robust: held-out actors (of the first fold's 4)")
    parser.add_argument("--cache-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, help="write every part's figures here")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", category=UserWarning)
    datasets = load(args.cache_dir)
    results = {}
    chosen = ("corpus", "corpus", 0.01) if args.config is None else (args.config[0], args.config[1], float(args.config[2]))
    if "spread" in args.part:
        results["spread"] = part_spread(datasets)
    if "select" in args.part:
        results["select"] = part_select(datasets)
        chosen = results["select"]["chosen"] if args.config is None else chosen
    if "plain" in args.part:
        results["plain"] = part_plain(datasets)
    if "clips" in args.part:
        results["clips"] = part_clips(datasets, chosen)
    if "headline" in args.part:
        results["headline"] = part_headline(datasets, chosen)
    if "robust" in args.part:
        results["robust"] = part_robust(datasets, chosen, args.robust_actors)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, default=str) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
