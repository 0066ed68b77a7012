"""Whether the bundled model should pool Whisper's states over a clip's speech only: the development split.

``whisper-layers+functionals`` pools every encoder frame of a clip, its pauses too;
``whisper-speech+functionals`` pools only the frames within 35 dB of the loudest (the encoder
still hears the whole clip). RAVDESS holds about a second of pause around each sentence and nEMO
almost none, so the first lets a model learn the pauses with the emotions.

Both heads of the bundled recipe (``bench_adaptation.fit_grain``: a scaler + logistic regression,
C = ``CHOSEN[2]`` and ``CHOSEN[3]``, each corpus and its emotions weighing the same; the plain head
on the clips as recorded, the adapted one on each corpus standardised by its own statistics) are
trained on the development speakers (``bench_adaptation.DEV_SPEAKERS``: RAVDESS actors 01–10, nEMO's
first 5 speakers) with the build's three copies of every training clip (corrupted, pause, gate), in
5 speaker folds (fold k of both corpora held out together), and tested on the held-out fold's whole
clips and on their speech as a conversation gives it (``bench_pause_copies``: trimmed, then 0.1,
0.25, 0.5 or 1 s of a −90 dBFS floor on each side; the adapted head standardises each condition by
its own statistics); then leave-one-corpus-out between the development halves (trained on one
corpus's development speakers with their copies, tested on the other's whole clips of the emotions
both share). User-visible UA (argmax over the model's own emotions), mean over the folds.

The rule, fixed before the first run: the candidate replaces the baseline if, against it,
- plain head: the mean over the trimmed conditions rises for both corpora, whole clips lose at most
  1 point in each corpus, and the mean of the two leave-one-corpus-out cells loses at most 1 point
  (``bench_pause_copies``' rule);
- adapted head: whole clips lose at most 1 point in each corpus, and the leave-one-corpus-out mean
  at most 1 point.

    nice -n 10 python benchmarks/bench_speech_pooling.py     # ~25 min on 2 cores, the first time
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_adaptation import CHOSEN, CORPORA, fit_grain  # noqa: E402
from bench_pause_copies import CONTEXTS, N_FOLDS, development  # noqa: E402

BASELINE, CANDIDATE = "whisper-layers+functionals", "whisper-speech+functionals"
COPY_KINDS = ("all", "pause", "gate")
TRIMMED = tuple(f"speech +{c:g} s" for c in CONTEXTS)
HEADS = {"plain": ("none", CHOSEN[3]), "adapted": (CHOSEN[0], CHOSEN[2])}


def fit(data, head, rows):
    """``head`` fitted on ``rows`` (corpus → indices) of the whole clips and their copies."""
    grain, C = HEADS[head]
    parts = [(d["X"][key][rows[name]], d["y"][rows[name]], d["speakers"][rows[name]], np.full(len(rows[name]), name))
             for name, d in data.items() if name in rows for key in ("whole", *(f"{k} copy" for k in COPY_KINDS))]
    X, y, speakers, corpus = (np.concatenate(column) for column in zip(*parts))
    return fit_grain(X, y, speakers, corpus, grain, CHOSEN[1], "logreg", {"C": C})


def fitted_ua(fitted, d, name, rows, key) -> float:
    """User-visible UA % of a :func:`fit` result on ``rows`` of corpus ``name``'s condition ``key``."""
    from sklearn.metrics import balanced_accuracy_score

    classes, predict = fitted
    P = predict(d["X"][key][rows], d["speakers"][rows], np.full(len(rows), name))
    return 100 * balanced_accuracy_score(d["y"][rows], np.asarray(classes)[P.argmax(axis=1)])


def scores(data, head) -> dict:
    """``{(corpus or "a->b", condition): UA %}`` for one head."""
    table = {}
    for k in range(N_FOLDS):
        held = {name: np.isin(d["speakers"], sorted(set(d["speakers"]))[k::N_FOLDS]) for name, d in data.items()}
        fitted = fit(data, head, {name: np.flatnonzero(~h) for name, h in held.items()})
        for name, d in data.items():
            for key in ("whole", *TRIMMED):
                table.setdefault((name, key), []).append(fitted_ua(fitted, d, name, np.flatnonzero(held[name]), key))
    for source, target in (("ravdess", "nemo"), ("nemo", "ravdess")):
        fitted = fit(data, head, {source: np.arange(len(data[source]["y"]))})
        shared = np.flatnonzero(np.isin(data[target]["y"], fitted[0]))
        table[(f"{source}->{target}", "whole")] = [fitted_ua(fitted, data[target], target, shared, "whole")]
    return {key: float(np.mean(values)) for key, values in table.items()}


def passes(head, baseline: dict, candidate: dict) -> bool:
    """The rule of the module's docstring for one head."""
    def loco(r):
        return (r[("ravdess->nemo", "whole")] + r[("nemo->ravdess", "whole")]) / 2

    def trimmed(r, name):
        return np.mean([r[(name, key)] for key in TRIMMED])

    ok = all(candidate[(name, "whole")] >= baseline[(name, "whole")] - 1 for name in CORPORA)
    ok = ok and loco(candidate) >= loco(baseline) - 1
    if head == "plain":
        ok = ok and all(trimmed(candidate, name) > trimmed(baseline, name) for name in CORPORA)
    return ok


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", default=BASELINE)
    parser.add_argument("--candidate", default=CANDIDATE)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")  # the model's own emotions
    results = {}
    for feature_set in (args.baseline, args.candidate):
        data = {name: development(name, feature_set, COPY_KINDS) for name in CORPORA}
        for head in HEADS:
            results[(feature_set, head)] = scores(data, head)
    keys = list(results[(args.baseline, "plain")])
    print(f"{'head':<8} {'tested on':<32} {args.baseline:>28} {args.candidate:>28}")
    for head in HEADS:
        for key in keys:
            print(f"{head:<8} {' '.join(key):<32} {results[(args.baseline, head)][key]:>28.1f} "
                  f"{results[(args.candidate, head)][key]:>28.1f}")
    verdicts = {head: passes(head, results[(args.baseline, head)], results[(args.candidate, head)]) for head in HEADS}
    print("rule:", ", ".join(f"{head} {'passes' if ok else 'fails'}" for head, ok in verdicts.items()),
          f"-> {args.candidate if all(verdicts.values()) else args.baseline}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
